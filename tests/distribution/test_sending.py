"""The sender against real peers on 127.0.0.1: SendGrid, SMTP, Twilio and the outbox."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from survey.distribution.operations import launch_campaign
from survey.distribution.worker import Sender, SenderSettings
from survey.extensions import db
from survey.models import Invitation, Message, Suppression, WorkerHeartbeat
from survey.tokens import hash_token
from tests.distribution.builders import (
    MONDAY_MORNING,
    login_manager_user,
    messages_of,
    sampled_campaign,
)
from tests.distribution.fakes import FakeSendGrid, FakeTwilio, Reply


def launched(app, **sizes):
    campaign = sampled_campaign(app, **sizes)
    launch_campaign(db.session, campaign, secret_key=app.config["SECRET_KEY"], actor="test",
                    now=MONDAY_MORNING)
    db.session.commit()
    return campaign


def sender(app, clock=lambda: MONDAY_MORNING, **settings):
    options = {"backoff_base": 60.0, "idle_sleep": 0.0, **settings}
    return Sender(app, worker_id="test-worker", settings=SenderSettings(**options), clock=clock)


def dispositions(campaign):
    db.session.expire_all()
    return sorted(db.session.scalars(
        select(Invitation.disposition).where(Invitation.campaign_id == campaign.id)))


def test_sendgrid_sends_batches_of_1000_with_personal_links_and_one_click_headers(
        app, fake_sendgrid):
    with app.app_context():
        campaign = launched(app, emails=2100)
        # No bound on the batch's share of the queue here: the provider's own maximum.
        stats = sender(app, duplicate_share=0).run(once=True)
        assert stats.sent == 2100
        assert [len(r["body"]["personalizations"]) for r in fake_sendgrid.requests] == \
            [1000, 1000, 100]
        request = fake_sendgrid.requests[0]
        assert request["headers"]["Authorization"] == "Bearer SG.test-key"
        body = request["body"]
        assert body["tracking_settings"]["click_tracking"]["enable"] is False
        assert "%%link%%" in body["content"][0]["value"]
        personalization = body["personalizations"][0]
        link = personalization["substitutions"]["%%link%%"]
        unsubscribe = personalization["substitutions"]["%%unsubscribe%%"]
        token = link.rsplit("/r/", 1)[1]
        message = db.session.get(Message, int(personalization["custom_args"]
                                              ["barometre_message_id"]))
        assert message.to_address == personalization["to"][0]["email"]
        assert message.invitation.token_hash == hash_token(token)
        assert unsubscribe == f"http://127.0.0.1:5000/unsubscribe/{token}"
        assert personalization["headers"] == {
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
        assert fake_sendgrid.accepted_counts().most_common(1)[0][1] == 1
        assert {m.state for m in messages_of(campaign)} == {"sent"}
        assert all(m.provider_id and m.sent_at == MONDAY_MORNING for m in messages_of(campaign))
        assert set(dispositions(campaign)) == {"sent"}
        assert db.session.get(WorkerHeartbeat, "test-worker") is not None


def test_rate_limit_is_honoured_then_the_batch_goes(app, fake_sendgrid):
    with app.app_context():
        campaign = launched(app, emails=3)
        fake_sendgrid.then(FakeSendGrid.rate_limited(reset_in=600))
        worker = sender(app)
        stats = worker.run(once=True)
        assert (stats.sent, stats.retried) == (0, 3)
        messages = messages_of(campaign)
        assert {m.state for m in messages} == {"queued"}
        assert all(m.due_at >= MONDAY_MORNING + timedelta(seconds=590) for m in messages)
        assert "429" in messages[0].last_error
        assert worker.paused_until["email"] >= MONDAY_MORNING + timedelta(seconds=590)
        later = MONDAY_MORNING + timedelta(minutes=11)
        assert sender(app, clock=lambda: later).run(once=True).sent == 3
        assert len(fake_sendgrid.requests) == 2
        assert {m.attempts for m in messages_of(campaign)} == {2}


def test_server_errors_back_off_exponentially_then_give_up(app, fake_sendgrid):
    with app.app_context():
        campaign = launched(app, emails=1)
        fake_sendgrid.default = Reply(500, {}, {"errors": [{"message": "boom"}]})
        now = MONDAY_MORNING
        waits = []
        for _attempt in range(3):
            sender(app, clock=lambda: now, max_attempts=3).run(once=True)
            message = messages_of(campaign)[0]
            if message.state == "queued":
                waits.append((message.due_at - now).total_seconds())
                now = message.due_at
        assert message.state == "failed"
        assert message.last_error.startswith("gave up after 3 attempts: SendGrid 500 boom")
        # backoff_base 60 s, doubled: within [30, 60] then [60, 120] with jitter.
        assert 30 <= waits[0] <= 60 and 60 <= waits[1] <= 120
        assert dispositions(campaign) == ["failed"]


def test_a_bad_address_fails_alone_and_its_neighbours_go(app, fake_sendgrid):
    with app.app_context():
        campaign = launched(app, emails=4)
        fake_sendgrid.then(FakeSendGrid.bad_request(), FakeSendGrid.bad_request(), Reply(202),
                           FakeSendGrid.bad_request(), Reply(202))
        stats = sender(app).run(once=True)
        assert (stats.sent, stats.failed) == (3, 1)
        failed = [m for m in messages_of(campaign) if m.state == "failed"]
        assert "does not contain a valid address" in failed[0].last_error
        assert dispositions(campaign) == ["failed", "sent", "sent", "sent"]


def test_a_request_too_large_is_split(app, fake_sendgrid):
    with app.app_context():
        campaign = launched(app, emails=4)
        fake_sendgrid.then(Reply(413, {}, {"errors": [{"message": "too large"}]}))
        assert sender(app).run(once=True).sent == 4
        assert [len(r["body"]["personalizations"]) for r in fake_sendgrid.requests] == [4, 2, 2]
        assert {m.state for m in messages_of(campaign)} == {"sent"}


def test_a_hanging_provider_times_out_and_the_retry_is_flagged(app, fake_sendgrid):
    with app.app_context():
        campaign = launched(app, emails=2)
        fake_sendgrid.then(Reply(202, hang=3))
        stats = sender(app).run(once=True)
        assert stats.retried == 2
        assert all(m.possibly_duplicated and m.state == "queued" for m in messages_of(campaign))
        assert "timeout" in messages_of(campaign)[0].last_error


def test_two_workers_never_send_the_same_message(app, fake_sendgrid):
    with app.app_context():
        launched(app, emails=3000)
    totals = []

    def work(name):
        with app.app_context():
            worker = Sender(app, worker_id=name, clock=lambda: MONDAY_MORNING,
                            settings=SenderSettings(batch_size=200, idle_sleep=0))
            totals.append(worker.run(once=True).sent)
            db.session.remove()

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    counts = fake_sendgrid.accepted_counts()
    assert sum(totals) == 3000 and len(counts) == 3000
    assert set(counts.values()) == {1}
    with app.app_context():
        from survey.audit import verify_chain

        assert verify_chain(db.session).ok  # both workers appended to one unbroken chain


def test_smtp_delivers_real_mime_with_unsubscribe_headers(app, smtp_sink):
    with app.app_context():
        campaign = launched(app, emails=2, language="en")
        refused = messages_of(campaign)[1].to_address
        smtp_sink.refuse.add(refused)
        stats = sender(app).run(once=True)
        assert (stats.sent, stats.failed) == (1, 1)
        assert len(smtp_sink.messages) == 1
        email = smtp_sink.messages[0]
        assert email["From"] == "enquete@centre.example"
        assert email["List-Unsubscribe"].startswith("<http://127.0.0.1:5000/unsubscribe/")
        assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert email.get_content_type() == "multipart/alternative"
        text = email.get_body(("plain",)).get_content()
        html = email.get_body(("html",)).get_content()
        assert "http://127.0.0.1:5000/r/" in text and "minutes" in text
        assert "Your data" in text and "Stop receiving messages" in text
        assert '<html lang="en">' in html
        failed = [m for m in messages_of(campaign) if m.state == "failed"][0]
        assert failed.to_address == refused and "550" in failed.last_error


def test_twilio_sends_through_the_real_client_and_maps_errors(app, fake_twilio):
    with app.app_context():
        campaign = launched(app, phones=3)
        fake_twilio.then(Reply(201), FakeTwilio.error(400, 21211, "Invalid 'To' Phone Number"),
                         FakeTwilio.error(400, 21610, "Attempt to send to unsubscribed recipient"))
        stats = sender(app).run(once=True)
        assert (stats.sent, stats.failed) == (1, 2)
        first = fake_twilio.requests[0]
        assert first["path"] == f"/2010-04-01/Accounts/{'AC' + '0' * 32}/Messages.json"
        assert first["form"]["From"] == "+33700000000"
        assert first["form"]["StatusCallback"] == "http://127.0.0.1:5000/webhooks/twilio"
        assert "/r/" in first["form"]["Body"] and "STOP" in first["form"]["Body"]
        messages = messages_of(campaign)
        assert messages[0].state == "sent" and messages[0].provider_id.startswith("SM")
        assert "21211" in messages[1].last_error
        assert dispositions(campaign) == ["failed", "opted_out", "sent"]
        assert db.session.scalar(select(func.count()).select_from(Suppression)) == 1


def test_sms_wait_for_the_window(app, fake_twilio):
    with app.app_context():
        campaign = launched(app, phones=1)
        sunday = datetime(2026, 3, 8, 12, 0, tzinfo=UTC)
        assert sender(app, clock=lambda: sunday).run(once=True).sent == 0
        evening = datetime(2026, 3, 9, 19, 30, tzinfo=UTC)  # 20:30 in Paris
        assert sender(app, clock=lambda: evening).run(once=True).sent == 0
        assert sender(app).run(once=True).sent == 1
        assert messages_of(campaign)[0].state == "sent"


def test_the_demo_outbox_may_ignore_the_sms_window(app):
    with app.app_context():
        campaign = sampled_campaign(app, phones=1)
        sunday = datetime(2026, 3, 8, 12, 0, tzinfo=UTC)
        launch_campaign(db.session, campaign, secret_key=app.config["SECRET_KEY"], actor="demo",
                        now=sunday, sms_window=False)
        db.session.commit()
        assert messages_of(campaign)[0].due_at == sunday
        assert sender(app, clock=lambda: sunday, sms_window=False).run(once=True).sent == 1


def test_outbox_writes_files_a_manager_can_open(app, client):
    with app.app_context():
        campaign = launched(app, emails=1, phones=1)
        assert sender(app).run(once=True).sent == 2
        files = sorted(p.name for p in (app.instance_path and
                                        __import__("pathlib").Path(app.instance_path,
                                                                   "outbox")).iterdir())
        assert [name.split("-", 1)[1] for name in files] == ["email.eml", "sms.txt"]
        assert client.get(f"/manage/outbox/{files[0]}").status_code == 302  # log in first
        login_manager_user(client)
        index = client.get("/manage/outbox/")
        assert files[0].encode() in index.data
        email = client.get(f"/manage/outbox/{files[0]}")
        assert email.status_code == 200
        assert email.headers["Content-Type"].startswith("text/plain")
        assert b"List-Unsubscribe-Post: List-Unsubscribe=One-Click" in email.data
        for bad in ("..%2Fsecret_key", "00000001-email.eml.bak", "secret_key"):
            assert client.get(f"/manage/outbox/{bad}").status_code == 404
        assert messages_of(campaign)[0].provider_id == f"outbox:{files[0]}"


def test_messages_to_suppressed_or_finished_customers_are_cancelled(app, fake_sendgrid):
    from survey.frame.suppressions import add_suppression

    with app.app_context():
        campaign = launched(app, emails=3)
        first, second, _third = messages_of(campaign)
        add_suppression(db.session, "email", first.to_address, "opt-out", "test",
                        app.config["SECRET_KEY"])
        second.invitation.disposition = "complete"
        db.session.commit()
        stats = sender(app).run(once=True)
        assert (stats.sent, stats.cancelled) == (1, 2)
        assert [m.state for m in messages_of(campaign)] == ["cancelled", "cancelled", "sent"]
        assert dispositions(campaign) == ["complete", "opted_out", "sent"]
        assert len(fake_sendgrid.accepted) == 1


def test_a_restarted_worker_requeues_its_stale_claims_and_flags_them(app, fake_sendgrid):
    with app.app_context():
        campaign = launched(app, emails=3)
        dead = Sender(app, worker_id="dead", clock=lambda: MONDAY_MORNING,
                      settings=SenderSettings(batch_size=2))
        dead.heartbeat()
        dead.claim("email", 2, MONDAY_MORNING)  # ... and then it was killed
        # Another worker leaves them alone while the dead one's heartbeat is fresh.
        assert sender(app).run(once=True).sent == 1
        assert sorted(m.state for m in messages_of(campaign)) == ["sending", "sending", "sent"]
        later = MONDAY_MORNING + timedelta(minutes=5)
        stats = sender(app, clock=lambda: later, stale_after=120).run(once=True)
        assert (stats.requeued, stats.sent) == (2, 2)
        assert [m.possibly_duplicated for m in messages_of(campaign)].count(True) == 2
        # Restarting under the same id takes its own claims back at once.
        again = launched(app, emails=1)
        Sender(app, worker_id="dead", clock=lambda: later).claim("email", 1, later)
        stats = Sender(app, worker_id="dead", clock=lambda: later,
                       settings=SenderSettings(idle_sleep=0)).run(once=True)
        assert (stats.requeued, stats.sent) == (1, 1)
        assert messages_of(again)[0].possibly_duplicated


def test_the_heartbeat_stays_fresh_while_a_batch_waits_on_the_provider(app, fake_sendgrid):
    import time

    app.config["SEND_TIMEOUT"] = 5
    with app.app_context():
        launched(app, emails=1)
    fake_sendgrid.then(Reply(202, hang=1.5))
    worker = Sender(app, worker_id="slow", settings=SenderSettings(heartbeat_every=0.2,
                                                                   idle_sleep=0))

    def work():
        with app.app_context():
            worker.run(once=True)
            db.session.remove()

    thread = threading.Thread(target=work)
    thread.start()
    seen = set()
    with app.app_context():
        while thread.is_alive():
            db.session.expire_all()
            beat = db.session.get(WorkerHeartbeat, "slow")
            if beat is not None and fake_sendgrid.requests:  # the batch is at the provider
                seen.add(beat.seen_at)
            db.session.commit()
            time.sleep(0.1)
    thread.join()
    assert len(seen) >= 3  # refreshed several times during the 1.5 s at the provider
    assert len(fake_sendgrid.accepted) == 1


def test_a_batched_providers_batch_is_a_small_share_of_the_queue(app, fake_sendgrid):
    """A killed worker re-sends at most its batch in flight: with 2% of 6,000 queued, batches
    of 120, never fewer than the minimum."""
    with app.app_context():
        launched(app, emails=6000)
        stats = sender(app, duplicate_share=0.02, min_batch=100).run(once=True)
        assert stats.sent == 6000
        sizes = [len(r["body"]["personalizations"]) for r in fake_sendgrid.requests]
        assert max(sizes) == 120 and sum(sizes) == 6000


def test_a_per_message_provider_marks_each_message_sent_after_its_call(app, fake_twilio):
    """Killed in the middle of a batch (here: the provider's third call never returns an
    outcome to the batch), the messages already accepted are sent, not re-queued."""
    from survey.distribution.backends import TwilioBackend

    calls = []
    original = TwilioBackend.send

    def send_then_die(self, batch, on_outcome=None):
        def counting(message, outcome):
            calls.append(message.message_id)
            on_outcome(message, outcome)
            if len(calls) == 3:
                raise SystemExit("killed")  # the worker dies here, before the batch's end

        return original(self, batch, on_outcome=counting)

    with app.app_context():
        campaign = launched(app, phones=5)
        TwilioBackend.send = send_then_die
        try:
            with pytest.raises(SystemExit):
                sender(app).run(once=True)
        finally:
            TwilioBackend.send = original
        db.session.rollback()
        states = Counter(m.state for m in messages_of(campaign))
        assert states == {"sent": 3, "sending": 2}
        requeued = sender(app).recover(own=True)  # the worker restarts under its name
        assert requeued == 2  # only the two never handed to the provider
        stats = sender(app).run(once=True)
        assert stats.sent == 2 and len(fake_twilio.requests) == 5
