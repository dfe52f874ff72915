"""Reminder days set per campaign by its manager, checked, and used by the workers' scheduler
(issue #21)."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from sqlalchemy import select

from survey.campaigns.operations import ReminderDaysError, parse_reminder_days
from survey.distribution.operations import launch_campaign
from survey.distribution.worker import Sender, SenderSettings
from survey.extensions import db
from survey.models import AuditEvent, Campaign, utcnow
from survey.worker.queue import run_pending_jobs
from survey.worker.scheduler import queue_due_tasks
from tests.distribution.builders import login_manager_user, messages_of, sampled_campaign


@pytest.mark.parametrize(("text", "days"), [
    ("7, 14", [7, 14]), ("3", [3]), ("", []), ("  ", []), ("2;5", [2, 5]), ("1 60", [1, 60]),
])
def test_reminder_days_are_read_from_what_a_manager_writes(text, days) -> None:
    assert parse_reminder_days(text) == days


@pytest.mark.parametrize(("text", "reason"), [
    ("7, seven", "not_a_number"), ("7.5", "not_a_number"), ("0", "not_positive"),
    ("-3", "not_positive"), ("14, 7", "not_ascending"), ("7, 7", "not_ascending"),
    ("3, 7, 14", "too_many"), ("61", "too_late"),
])
def test_reminder_days_that_cannot_be_used_are_refused_with_their_reason(text, reason) -> None:
    with pytest.raises(ReminderDaysError) as raised:
        parse_reminder_days(text)
    assert raised.value.reason == reason


def _launched_days_ago(app, days: int, **fields) -> int:
    """An open campaign whose invitations went out `days` days ago; its id."""
    sent_at = utcnow() - timedelta(days=days)
    campaign = sampled_campaign(app, emails=2, **fields)
    launch_campaign(db.session, campaign, secret_key=app.config["SECRET_KEY"], actor="test",
                    now=sent_at)
    db.session.commit()
    Sender(app, worker_id="w", clock=lambda: sent_at,
           settings=SenderSettings(idle_sleep=0)).run(once=True)
    assert {m.state for m in messages_of(campaign)} == {"sent"}
    return campaign.id


def test_a_manager_sets_the_days_on_the_campaign_page_and_the_scheduler_uses_them(
        app, client, fake_sendgrid) -> None:
    with app.app_context():
        quick = _launched_days_ago(app, 4, reminder_days=[7, 14])
        usual = _launched_days_ago(app, 4, reminder_days=[7, 14])
        slug = db.session.get(Campaign, quick).slug
    login_manager_user(client)
    page = html.unescape(client.get(f"/manage/campaigns/{slug}?lang=fr").get_data(as_text=True))
    assert "Jours de relance" in page and 'value="7, 14"' in page

    refused = client.post(f"/manage/campaigns/{slug}/reminders?lang=fr", data={"days": "5, 3"})
    assert refused.status_code == 422
    text = html.unescape(refused.get_data(as_text=True))
    assert ("Écrivez les jours dans l'ordre croissant, chacun après le précédent : 3 vient "
            "après 5.") in text
    english = client.post(f"/manage/campaigns/{slug}/reminders?lang=en", data={"days": "0"})
    assert "A reminder comes at least 1 day after the invitation, not 0." in html.unescape(
        english.get_data(as_text=True))

    saved = client.post(f"/manage/campaigns/{slug}/reminders", data={"days": "3, 10"})
    assert saved.status_code == 303
    with app.app_context():
        assert db.session.get(Campaign, quick).reminder_days == [3, 10]
        assert db.session.get(Campaign, usual).reminder_days == [7, 14]
        event = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "campaign.reminders")).one()
        assert event.summary == {"before": [7, 14], "after": [3, 10]}

        # The workers' scheduler queues its periodic task, a worker runs it (their own code):
        # day 4 is past the quick campaign's 3 days, not the other's 7.
        assert queue_due_tasks(db.session, {"reminders": timedelta(minutes=1)}) == ["reminders"]
    assert run_pending_jobs(app, worker_id="test-worker") == 1
    with app.app_context():
        reminders = {campaign_id: [m for m in messages_of(db.session.get(Campaign, campaign_id))
                                   if m.kind == "reminder"] for campaign_id in (quick, usual)}
        assert len(reminders[quick]) == 2 and reminders[usual] == []


def test_no_reminder_an_auditor_or_a_closed_campaign(app, client) -> None:
    with app.app_context():
        campaign_id = sampled_campaign(app, emails=1, reminder_days=[7, 14]).id
        slug = db.session.get(Campaign, campaign_id).slug
    login_manager_user(client)
    assert client.post(f"/manage/campaigns/{slug}/reminders", data={"days": ""}).status_code == 303
    with app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        assert campaign.reminder_days == []
        campaign.status = "closed"
        db.session.commit()
    closed = client.post(f"/manage/campaigns/{slug}/reminders?lang=en", data={"days": "7"})
    assert closed.status_code == 422
    assert "its reminders can no longer change" in html.unescape(closed.get_data(as_text=True))
    assert client.post(f"/manage/campaigns/{slug}/reminders", data={}).status_code == 422
    auditor = client.application.test_client()
    login_manager_user(auditor, "auditor")
    assert auditor.post(f"/manage/campaigns/{slug}/reminders",
                        data={"days": "7"}).status_code == 403
