"""Every action that changes data leaves an event in the trail, and no event holds a customer's
contact. The actions run through their real entry points: service functions, the command line
and the web pages, on a seeded year (the demo: import, plan, draw, launch, send, reports)."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import select

from survey.audit import verify_chain
from survey.cli import main
from survey.distribution.webhooks import apply_sendgrid_events
from survey.extensions import db
from survey.followups import operations as followup_ops
from survey.models import AuditEvent, Campaign, FollowUp, Message
from tests.respond.helpers import answer_all
from tests.trust.conftest import SECRET_KEY
from tests.trust.helpers import logged_in

# The list (import, plan, draw, launch, send batch, webhook effect, response completion,
# follow-up change, report generation, export, purge, login, role change) and their neighbours.
REQUIRED = {
    "customers.import", "campaign.plan", "campaign.draw", "campaign.launch", "distribution.send",
    "distribution.webhook", "response.complete", "follow_up.assign", "follow_up.note",
    "follow_up.close", "report.generate",
    "campaign.export", "privacy.purge", "user.login", "user.role_change", "campaign.create",
    "campaign.close", "user.create", "user.deactivate", "user.logout", "privacy.erase",
    "distribution.opt_out",
}
CAMPAIGN_SCOPED = {"campaign.plan", "campaign.draw", "campaign.launch", "response.complete",
                   "follow_up.assign", "follow_up.note", "follow_up.close", "report.generate",
                   "campaign.export", "campaign.close"}


def test_every_data_changing_action_is_in_the_trail(seeded) -> None:
    app = seeded.app

    def cli(*args: str) -> None:
        result = CliRunner().invoke(main, list(args), obj={"app": app})
        assert result.exit_code == 0, result.output

    # A respondent completes the questionnaire; a mail provider reports a delivery.
    respondent = app.test_client()
    answer_all(respondent, f"/r/{seeded.token}")
    with app.app_context():
        message = db.session.scalars(select(Message).where(
            Message.channel == "email", Message.state == "sent").order_by(Message.id)).first()
        apply_sendgrid_events(db.session, [{"event": "delivered", "sg_event_id": "ev-1",
                                            "barometre_message_id": str(message.id)}],
                              secret_key=SECRET_KEY)
        follow_up = db.session.get(FollowUp, seeded.follow_up_id)
        if follow_up.status == "closed":
            followup_ops.reopen(db.session, follow_up, actor="test")
        followup_ops.assign(db.session, follow_up, seeded.users["manager"], actor="test")
        followup_ops.add_note(db.session, follow_up, "Rappeler Mme Faure", contact_attempt=True,
                              actor="test")
        followup_ops.close(db.session, follow_up, "resolved", actor="test")
        db.session.commit()
    # Staff on the web: an auditor exports, a manager opts a customer out by their link.
    auditor = logged_in(app, "auditor@trust.example")
    assert auditor.get(f"/manage/campaigns/{seeded.open_slug}/export.csv").status_code == 200
    assert auditor.post("/logout").status_code == 302
    assert app.test_client().post(f"/unsubscribe/{seeded.token}").status_code == 200
    # The command line: roles, deactivation, closing, erasure, purge.
    cli("users", "set-role", "auditor@trust.example", "manager")
    cli("users", "deactivate", "auditor@trust.example")
    cli("campaigns", "close", seeded.open_slug)
    cli("customers", "erase", "--external-id", "C0000007")
    cli("purge", "--retention-days", "0")

    with app.app_context():
        events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        actions = {event.action for event in events}
        assert not REQUIRED - actions, f"no event for {sorted(REQUIRED - actions)}"
        open_id = db.session.scalar(select(Campaign.id).where(
            Campaign.slug == seeded.open_slug))
        for action in CAMPAIGN_SCOPED:
            assert any(e.campaign_id == open_id for e in events if e.action == action), action
        assert all(e.created_at and e.actor for e in events)
        assert verify_chain(db.session).ok
        trail = json.dumps([[e.actor, e.object_id, e.summary] for e in events],
                           ensure_ascii=False, default=str)
    leaked = [contact for contact in seeded.emails | seeded.phones | seeded.names
              if contact in trail]
    assert not leaked, f"the trail holds personal data: {leaked[:3]}"
    assert "Faure" not in trail  # the follow-up's notes are not copied into the trail
