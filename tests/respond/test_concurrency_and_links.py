"""Submissions of one link at the same instant against a real threaded server; CSRF; test links
from the command line."""

from __future__ import annotations

import re
import threading
import urllib.error
import urllib.parse
import urllib.request

from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from survey.extensions import db
from survey.models import AuditEvent, FollowUp, Invitation, Response
from tests.respond.helpers import PAGES, answer_all, as_form, make_link, open_campaign


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None



def post_at_once(url: str, body: bytes, clients: int) -> list[int]:
    """POST `body` to `url` from `clients` threads released together; their status codes."""
    barrier = threading.Barrier(clients)
    statuses: list[int] = []
    opener = urllib.request.build_opener(NoRedirect)

    def submit() -> None:
        barrier.wait()
        request = urllib.request.Request(url, data=body, method="POST")
        try:
            with opener.open(request, timeout=60) as reply:
                statuses.append(reply.status)
        except urllib.error.HTTPError as error:
            statuses.append(error.code)

    threads = [threading.Thread(target=submit) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_concurrent_first_pages_create_one_response(app, server):
    with app.app_context():
        invitation, link = make_link(open_campaign())
        invitation_id = invitation.id
    body = urllib.parse.urlencode(as_form(PAGES[0], revision=0)).encode()
    statuses = post_at_once(f"{server}{link}/0", body, clients=8)
    assert statuses == [303] * 8
    with app.app_context():
        responses = db.session.scalars(select(Response)).all()
        assert len(responses) == 1 and responses[0].invitation_id == invitation_id
        assert responses[0].revision == 1
        starts = select(func.count()).where(AuditEvent.action == "response.start")
        assert db.session.scalar(starts) == 1


def test_concurrent_completions_leave_exactly_one_complete_response(app, server, client):
    with app.app_context():
        invitation, link = make_link(open_campaign())
        invitation_id = invitation.id
    answer_all(client, link, PAGES[:3])
    body = urllib.parse.urlencode(as_form(PAGES[3], revision=3)).encode()
    statuses = post_at_once(f"{server}{link}/3", body, clients=8)
    assert statuses == [303] * 8
    with app.app_context():
        response = db.session.scalar(select(Response))
        assert db.session.scalar(select(func.count(Response.id))) == 1
        assert response.status == "complete" and response.revision == 4
        assert db.session.get(Invitation, invitation_id).disposition == "complete"
        kinds = sorted(db.session.scalars(select(FollowUp.kind)))
        assert kinds == ["callback", "detractor"]
        completions = select(func.count()).where(AuditEvent.action == "response.complete")
        assert db.session.scalar(completions) == 1


def test_many_respondents_at_once_each_complete_once(app, server):
    with app.app_context():
        campaign = open_campaign()
        links = [make_link(campaign)[1] for _ in range(6)]
    opener = urllib.request.build_opener(NoRedirect)
    failures: list[str] = []

    def respond(link: str) -> None:
        for index, page in enumerate(PAGES):
            body = urllib.parse.urlencode(as_form(page)).encode()
            request = urllib.request.Request(f"{server}{link}/{index}", data=body, method="POST")
            try:
                opener.open(request, timeout=60)
                failures.append(f"{link}/{index}: no redirect")
            except urllib.error.HTTPError as error:
                if error.code != 303:
                    failures.append(f"{link}/{index}: {error.code}")

    threads = [threading.Thread(target=respond, args=(link,)) for link in links]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with app.app_context():
        statuses = db.session.scalars(select(Response.status)).all()
        assert statuses == ["complete"] * 6


def test_csrf_protects_every_page(app, client):
    app.config["WTF_CSRF_ENABLED"] = True
    with app.app_context():
        invitation, link = make_link(open_campaign())
        invitation_id = invitation.id
    refused = client.post(f"{link}/0", data={"channels_used": "phone", "complaint": "no"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "Cette page avait expiré" in html
    assert re.search(r'<input id="channels_used-0"[^>]*checked', html)  # nothing retyped
    with app.app_context():
        assert db.session.scalar(select(func.count(Response.id))) == 0

    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    accepted = client.post(
        f"{link}/0", data={"channels_used": "phone", "complaint": "no", "csrf_token": token}
    )
    assert accepted.status_code == 303
    with app.app_context():
        response = db.session.scalar(select(Response))
        assert response.invitation_id == invitation_id
        assert "csrf_token" not in response.answers


def test_csrf_token_of_another_link_is_refused(app, client):
    app.config["WTF_CSRF_ENABLED"] = True
    with app.app_context():
        campaign = open_campaign()
        _, mine = make_link(campaign)
        _, theirs = make_link(campaign)
    html = client.get(mine).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    page = {"channels_used": "phone", "complaint": "no", "csrf_token": token}
    assert client.post(f"{theirs}/0", data=page).status_code == 400
    assert client.post(f"{mine}/0", data=page).status_code == 303
    with app.app_context():
        assert db.session.scalar(select(func.count(Response.id))) == 1


def test_respondent_pages_need_and_set_no_cookie(app):
    """The CSRF token is bound to the link: a browser that refuses cookies answers every page."""
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client(use_cookies=False)
    with app.app_context():
        invitation, link = make_link(open_campaign())
        invitation_id = invitation.id
    path = link
    for page in PAGES:
        shown = client.get(path)
        assert shown.status_code == 200 and "Set-Cookie" not in shown.headers
        html = shown.get_data(as_text=True)
        action = re.search(r'<form method="post" action="([^"]+)"', html).group(1)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
        saved = client.post(action, data=MultiDict([*as_form(page), ("csrf_token", token)]))
        assert saved.status_code == 303 and "Set-Cookie" not in saved.headers
        path = urllib.parse.urlsplit(saved.headers["Location"]).path
    assert path.endswith("/thanks")
    with app.app_context():
        mine = select(Response.status).where(Response.invitation_id == invitation_id)
        assert db.session.scalar(mine) == "complete"


def test_test_link_command_prints_a_working_link(app, runner, client):
    with app.app_context():
        open_campaign(status="draft", slug="preview-2026")
        db.session.commit()
    result = runner.invoke(["campaigns", "test-link", "preview-2026"])
    assert result.exit_code == 0, result.output
    link = result.output.strip()
    assert re.fullmatch(r"http://127\.0\.0\.1:5000/r/[A-Za-z0-9_-]{32}", link)
    path = link.removeprefix("http://127.0.0.1:5000")
    page = client.get(path)
    assert page.status_code == 200 and 'name="channels_used"' in page.get_data(as_text=True)
    assert "Lien de test" in page.get_data(as_text=True)

    answer_all(client, path)
    with app.app_context():
        invitation = db.session.scalar(select(Invitation))
        assert invitation.is_test and invitation.customer_id is None
        assert invitation.stratum == "test" and invitation.design_weight == 1.0
        assert invitation.token_hash != path.rsplit("/", 1)[1]  # only the hash is stored
        assert invitation.disposition == "complete"
        # A preview's callback and detractor answers do not reach the managers' queue.
        assert db.session.scalar(select(func.count(FollowUp.id))) == 0
        assert db.session.scalar(
            select(func.count()).where(AuditEvent.action == "invitation.test_link")
        ) == 1

    english = runner.invoke(["campaigns", "test-link", "preview-2026", "--language", "en"])
    assert "How did you contact" in client.get(
        english.output.strip().removeprefix("http://127.0.0.1:5000")
    ).get_data(as_text=True)


def test_test_link_is_refused_for_archived_or_unknown_campaigns(app, runner):
    with app.app_context():
        open_campaign(status="archived", slug="old-2020")
        db.session.commit()
    archived = runner.invoke(["campaigns", "test-link", "old-2020"])
    assert archived.exit_code == 2 and "archived" in archived.output
    unknown = runner.invoke(["campaigns", "test-link", "nowhere"])
    assert unknown.exit_code == 2 and "nowhere" in unknown.output


# --- read-only page views --------------------------------------------------------------------


def test_first_opening_is_stamped_once(app, client):
    with app.app_context():
        invitation, link = make_link(open_campaign())
        invitation_id = invitation.id
    assert client.get(link).status_code == 200
    with app.app_context():
        first = db.session.get(Invitation, invitation_id).first_opened_at
    assert first is not None
    assert client.get(link).status_code == 200
    with app.app_context():
        assert db.session.get(Invitation, invitation_id).first_opened_at == first


def test_first_opening_in_a_fresh_process_is_stamped(app, client, monkeypatch):
    """A worker's first page reads the questionnaire's definition: it must do so without
    holding a lock that the stamp of the first opening, a statement of its own, then waits for
    (on SQLite it waited out the busy timeout and failed)."""
    from survey.respond import operations

    monkeypatch.setattr(operations, "_questionnaires", {})
    with app.app_context():
        invitation, link = make_link(open_campaign())
        invitation_id = invitation.id
    assert client.get(link).status_code == 200
    with app.app_context():
        assert db.session.get(Invitation, invitation_id).first_opened_at is not None


def test_a_page_is_shown_while_another_request_holds_the_write_lock(app, client):
    """Showing a page reads without locking: it answers while a save (here, a transaction that
    locked the invitation, and on SQLite the whole database) is still under way. Were the page
    to wait for the lock, it would wait for good: the lock is released only after it answered."""
    with app.app_context():
        invitation, link = make_link(open_campaign())
        answer_all(client, link, PAGES[:1])
        invitation_id = invitation.id
    with app.app_context(), db.engine.connect() as writer:
        writer.begin()  # on SQLite, BEGIN IMMEDIATE: the database's write lock
        locked = select(Invitation.id).where(Invitation.id == invitation_id)
        if writer.dialect.name == "postgresql":
            locked = locked.with_for_update()
        writer.execute(locked)
        for path in (link, f"{link}/1"):
            reply = client.get(path)
            assert reply.status_code == 200, path
            assert "ease_of_reaching" in reply.get_data(as_text=True)
        writer.rollback()

