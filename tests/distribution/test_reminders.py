"""Reminders: by schedule, only to customers who can still answer, with the right wording."""

from __future__ import annotations

from datetime import timedelta

from survey.distribution.operations import launch_campaign, schedule_reminders
from survey.distribution.worker import Sender, SenderSettings
from survey.extensions import db
from tests.distribution.builders import MONDAY_MORNING, messages_of, sampled_campaign


def test_reminders_follow_the_schedule_and_skip_who_must_not_be_asked(app, fake_sendgrid):
    with app.app_context():
        campaign = sampled_campaign(app, emails=6, reminder_days=[7, 14, 21])
        launch_campaign(db.session, campaign, secret_key=app.config["SECRET_KEY"],
                        actor="test", now=MONDAY_MORNING)
        db.session.commit()
        Sender(app, worker_id="w", clock=lambda: MONDAY_MORNING,
               settings=SenderSettings(idle_sleep=0)).run(once=True)
        messages = messages_of(campaign)
        plain, partial, complete, opted_out, bounced, _other = (m.invitation for m in messages)
        partial.disposition = "partial"
        complete.disposition = "complete"
        opted_out.disposition, opted_out.opted_out_at = "opted_out", MONDAY_MORNING
        bounced.disposition = "bounced"
        _other.disposition = "delivered"
        db.session.commit()

        secret = app.config["SECRET_KEY"]
        day6 = MONDAY_MORNING + timedelta(days=6)
        assert schedule_reminders(db.session, secret_key=secret, now=day6) == 0
        day7 = MONDAY_MORNING + timedelta(days=7, hours=1)
        assert schedule_reminders(db.session, secret_key=secret, now=day7) == 3
        assert schedule_reminders(db.session, secret_key=secret, now=day7) == 0  # once only
        db.session.commit()
        reminders = [m for m in messages_of(campaign) if m.sequence == 1]
        assert {m.invitation_id for m in reminders} == {plain.id, partial.id, _other.id}
        assert {m.kind for m in reminders} == {"reminder"}

        # The second reminder waits for the first to be sent, then comes at day 14.
        day14 = MONDAY_MORNING + timedelta(days=14, hours=1)
        assert schedule_reminders(db.session, secret_key=secret, now=day14) == 0
        before = len(fake_sendgrid.requests)
        Sender(app, worker_id="w", clock=lambda: day7,
               settings=SenderSettings(idle_sleep=0)).run(once=True)
        sent = fake_sendgrid.requests[before:]
        subjects = sorted(r["body"]["subject"] for r in sent)
        assert len(subjects) == 2  # the partial respondent gets other words: another request
        assert any("terminez vos réponses" in s for s in subjects)
        assert any(s.startswith("Rappel : votre avis") for s in subjects)
        finish = next(r for r in sent if "terminez" in r["body"]["subject"])
        assert [p["to"][0]["email"] for p in finish["body"]["personalizations"]] == \
            [partial.customer.email]
        assert schedule_reminders(db.session, secret_key=secret, now=day14) == 3
        # Never more than two reminders, whatever the schedule says.
        Sender(app, worker_id="w", clock=lambda: day14,
               settings=SenderSettings(idle_sleep=0)).run(once=True)
        day30 = MONDAY_MORNING + timedelta(days=30)
        assert schedule_reminders(db.session, secret_key=secret, now=day30) == 0
        db.session.commit()
        assert max(m.sequence for m in messages_of(campaign)) == 2


def test_a_reminder_queued_before_the_answer_is_not_sent_after_it(app, fake_sendgrid):
    with app.app_context():
        campaign = sampled_campaign(app, emails=1)
        launch_campaign(db.session, campaign, secret_key=app.config["SECRET_KEY"],
                        actor="test", now=MONDAY_MORNING)
        db.session.commit()
        Sender(app, worker_id="w", clock=lambda: MONDAY_MORNING,
               settings=SenderSettings(idle_sleep=0)).run(once=True)
        assert len(fake_sendgrid.accepted) == 1
        day8 = MONDAY_MORNING + timedelta(days=8)
        assert schedule_reminders(db.session, secret_key=app.config["SECRET_KEY"], now=day8) == 1
        db.session.commit()
        reminder = [m for m in messages_of(campaign) if m.sequence == 1]
        worker = Sender(app, worker_id="w", clock=lambda: day8,
                        settings=SenderSettings(idle_sleep=0))
        reminder[0].invitation.disposition = "complete"
        db.session.commit()
        worker.run(once=True)
        assert len(fake_sendgrid.accepted) == 1
        assert messages_of(campaign)[1].state == "cancelled"
