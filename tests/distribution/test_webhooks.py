"""Provider webhooks and the opt-out link: signatures, deduplication, dispositions, suppressions."""

from __future__ import annotations

import base64
import json
import time

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from survey.distribution.operations import launch_campaign
from survey.distribution.worker import Sender, SenderSettings
from survey.extensions import db
from survey.models import AuditEvent, Invitation, Message, Suppression, WebhookEvent
from tests.distribution.builders import MONDAY_MORNING, messages_of, sampled_campaign, token_of


@pytest.fixture
def signing_key(app):
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    app.config["SENDGRID_WEBHOOK_PUBLIC_KEY"] = base64.b64encode(public).decode()
    return key


def signed_post(client, key, events, *, timestamp=None, body=None):
    payload = body if body is not None else json.dumps(events)
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = key.sign((timestamp + payload).encode(), ec.ECDSA(hashes.SHA256()))
    return client.post("/webhooks/sendgrid", data=payload, content_type="application/json",
                       headers={"X-Twilio-Email-Event-Webhook-Signature":
                                base64.b64encode(signature).decode(),
                                "X-Twilio-Email-Event-Webhook-Timestamp": timestamp})


def sent_campaign(app, **sizes):
    campaign = sampled_campaign(app, **sizes)
    launch_campaign(db.session, campaign, secret_key=app.config["SECRET_KEY"], actor="test",
                    now=MONDAY_MORNING)
    db.session.commit()
    Sender(app, worker_id="w", clock=lambda: MONDAY_MORNING,
           settings=SenderSettings(idle_sleep=0)).run(once=True)
    return campaign


def event(message, kind, n, **extra):
    return {"email": message.to_address, "event": kind, "sg_event_id": f"evt-{n}",
            "barometre_message_id": str(message.id), "timestamp": int(time.time()), **extra}


def state_of(message_id):
    db.session.expire_all()
    message = db.session.get(Message, message_id)
    return message.state, message.invitation.disposition


def test_sendgrid_events_move_messages_and_dispositions_once(app, client, signing_key):
    with app.app_context():
        delivered, bounced, dropped, spam = messages_of(sent_campaign(app, emails=4))
        events = [event(delivered, "delivered", 1), event(bounced, "bounce", 2,
                                                            reason="550 no such user"),
                  event(dropped, "dropped", 3, reason="Invalid"), event(spam, "spamreport", 4),
                  event(delivered, "open", 5)]
        response = signed_post(client, signing_key, events)
        assert response.status_code == 200
        assert state_of(delivered.id) == ("delivered", "delivered")
        assert state_of(bounced.id) == ("bounced", "bounced")
        assert db.session.get(Message, bounced.id).last_error == "550 no such user"
        assert state_of(dropped.id) == ("failed", "failed")
        assert state_of(spam.id)[1] == "opted_out"
        assert db.session.scalar(select(func.count()).select_from(Suppression)) == 1
        # The same events again change nothing and are not applied twice.
        late_bounce = [event(delivered, "bounce", 1)]  # a reused id is a duplicate
        assert signed_post(client, signing_key, events + late_bounce).status_code == 200
        assert state_of(delivered.id) == ("delivered", "delivered")
        assert db.session.scalar(select(func.count()).select_from(WebhookEvent)) == 5
        webhook_audits = db.session.scalars(select(AuditEvent.summary).where(
            AuditEvent.action == "distribution.webhook")).all()
        assert len(webhook_audits) == 1


def test_sendgrid_rejects_bad_signatures_and_stale_timestamps(app, client, signing_key):
    with app.app_context():
        message = messages_of(sent_campaign(app, emails=1))[0]
        events = [event(message, "delivered", 1)]
        other_key = ec.generate_private_key(ec.SECP256R1())
        assert signed_post(client, other_key, events).status_code == 403
        assert signed_post(client, signing_key, events,
                           timestamp=int(time.time()) - 3600).status_code == 403
        assert client.post("/webhooks/sendgrid", json=events).status_code == 403
        tampered = signed_post(client, signing_key, events, body=json.dumps(events))
        assert tampered.status_code == 200  # the control: the right key is accepted ...
        db.session.execute(db.delete(WebhookEvent))
        db.session.execute(db.update(Message).values(state="sent"))
        db.session.commit()
        payload = json.dumps(events)
        timestamp = str(int(time.time()))
        signature = signing_key.sign((timestamp + payload).encode(), ec.ECDSA(hashes.SHA256()))
        forged = client.post("/webhooks/sendgrid", data=payload.replace("delivered", "bounce"),
                             content_type="application/json",
                             headers={"X-Twilio-Email-Event-Webhook-Signature":
                                      base64.b64encode(signature).decode(),
                                      "X-Twilio-Email-Event-Webhook-Timestamp": timestamp})
        assert forged.status_code == 403  # ... and a changed body is not
        assert state_of(message.id) == ("sent", "delivered")
        assert db.session.scalar(select(func.count()).select_from(WebhookEvent)) == 0


def test_sendgrid_malformed_bodies_get_400(app, client, signing_key):
    with app.app_context():
        for body in ("not json", json.dumps({"event": "delivered"})):
            assert signed_post(client, signing_key, None, body=body).status_code == 400


def test_a_bad_event_is_skipped_and_recorded_and_the_batch_applied(app, client, signing_key):
    """Issue #23: a signed batch with a 25-digit message id answered 500 and lost its good
    events; SendGrid then retried it forever."""
    with app.app_context():
        first, second = messages_of(sent_campaign(app, emails=2))
        events = [event(first, "delivered", 1),
                  {**event(second, "bounce", 2), "barometre_message_id": "9" * 25},
                  {"event": "delivered"}, "not an object",
                  {**event(second, "delivered", 3), "barometre_message_id": 2**40},
                  event(second, "delivered", 4)]
        response = signed_post(client, signing_key, events)
        assert response.status_code == 200
        assert state_of(first.id) == ("delivered", "delivered")
        assert state_of(second.id) == ("delivered", "delivered")
        (summary,) = db.session.scalars(select(AuditEvent.summary).where(
            AuditEvent.action == "distribution.webhook")).all()
        assert summary["rejected"] == 4 and summary["applied"] == {"delivered": 2}
        assert summary["reasons"][0] == "event 1: barometre_message_id is not a message id"


def twilio_post(app, client, params, token="twilio-auth-token"):
    url = "http://127.0.0.1:5000/webhooks/twilio"
    signature = RequestValidator(token).compute_signature(url, params)
    return client.post("/webhooks/twilio", data=params, headers={"X-Twilio-Signature": signature})


def test_twilio_status_callbacks(app, client, fake_twilio):
    with app.app_context():
        delivered, undelivered, failed = messages_of(sent_campaign(app, phones=3))
        for message, status in ((delivered, "delivered"), (undelivered, "undelivered"),
                                (failed, "failed")):
            params = {"MessageSid": message.provider_id, "MessageStatus": status,
                      "AccountSid": "AC" + "0" * 32}
            assert twilio_post(app, client, params).status_code == 204
        assert state_of(delivered.id) == ("delivered", "delivered")
        assert state_of(undelivered.id) == ("bounced", "bounced")
        assert state_of(failed.id) == ("failed", "failed")
        # A duplicate is ignored, a bad signature refused, a body without a sid is malformed.
        params = {"MessageSid": delivered.provider_id, "MessageStatus": "failed"}
        assert twilio_post(app, client, params, token="wrong-token").status_code == 403
        assert state_of(delivered.id) == ("delivered", "delivered")
        assert twilio_post(app, client, {"MessageStatus": "failed"}).status_code == 400
        before = db.session.scalar(select(func.count()).select_from(WebhookEvent))
        again = {"MessageSid": failed.provider_id, "MessageStatus": "failed"}
        assert twilio_post(app, client, again).status_code == 204
        assert db.session.scalar(select(func.count()).select_from(WebhookEvent)) == before


def test_unsubscribe_link_and_one_click_suppress_at_once_everywhere(app, client, fake_sendgrid):
    with app.app_context():
        campaign = sampled_campaign(app, emails=2)
        invitation = db.session.scalars(select(Invitation).where(
            Invitation.campaign_id == campaign.id).order_by(Invitation.id)).first()
        address = invitation.customer.email
        token = token_of(app, invitation)
        # The same person is in another campaign, already queued.
        other = sampled_campaign(app)
        from tests.distribution.builders import add_invitation

        add_invitation(app, other, email=address.upper())
        db.session.commit()
        for c in (campaign, other):
            launch_campaign(db.session, c, secret_key=app.config["SECRET_KEY"], actor="test")
        db.session.commit()

        page = client.get(f"/unsubscribe/{token}")
        assert page.status_code == 200 and b'method="post"' in page.data
        assert client.get("/unsubscribe/not-a-token").status_code == 404
        done = client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
        assert done.status_code == 200
        db.session.expire_all()
        assert invitation.disposition == "opted_out" and invitation.opted_out_at is not None
        assert messages_of(other)[0].state == "cancelled"
        assert [m.state for m in messages_of(campaign)] == ["cancelled", "queued"]
        Sender(app, worker_id="w", settings=SenderSettings(idle_sleep=0)).run(once=True)
        assert [a for _, a in fake_sendgrid.accepted] == [messages_of(campaign)[1].to_address]
        # Clicking again changes nothing more.
        assert client.post(f"/unsubscribe/{token}").status_code == 200
        assert db.session.scalar(select(func.count()).select_from(Suppression)) == 1
        summary = db.session.scalar(select(AuditEvent.summary).where(
            AuditEvent.action == "distribution.opt_out"))
        assert summary == {"source": "one-click", "cancelled_messages": 2}


def test_guessed_opt_out_links_are_throttled_like_survey_links(app, client) -> None:
    app.config["RESPOND_BAD_TOKEN_LIMIT"] = 3
    for attempt in range(3):
        assert client.get(f"/unsubscribe/guess-{attempt}-" + "x" * 30).status_code == 404
    refused = client.post("/unsubscribe/another-guess-entirely")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
