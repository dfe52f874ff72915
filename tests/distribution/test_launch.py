"""Launching and closing a campaign: one queued message per sampled customer, opt-outs honoured."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from survey.distribution.operations import DistributionError, close_campaign, launch_campaign
from survey.extensions import db
from survey.frame.suppressions import add_suppression
from survey.models import AuditEvent, CampaignStatus, Invitation, MessageState
from tests.distribution.builders import (
    MONDAY_MORNING,
    add_invitation,
    messages_of,
    sampled_campaign,
)


def launch(app, campaign, **options):
    return launch_campaign(db.session, campaign, secret_key=app.config["SECRET_KEY"],
                           actor="test", **options)


def test_launch_queues_one_message_per_invitation_and_opens_fieldwork(app):
    with app.app_context():
        campaign = sampled_campaign(app, emails=3, phones=2)
        add_invitation(app, campaign, email="tester@example.org", is_test=True)
        result = launch(app, campaign, now=MONDAY_MORNING)
        db.session.commit()

        messages = messages_of(campaign)
        assert (result.messages, result.email, result.sms) == (5, 3, 2)
        assert len(messages) == 5  # the test invitation gets none
        assert {m.sequence for m in messages} == {0}
        assert all(m.state == MessageState.QUEUED for m in messages)
        assert sorted(m.to_address[:1] for m in messages) == ["+", "+", "c", "c", "c"]
        assert campaign.status == CampaignStatus.OPEN
        assert campaign.fieldwork_start == date(2026, 3, 2)
        assert campaign.fieldwork_end == date(2026, 3, 30)
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "campaign.launch"))
        assert event.summary["messages"] == 5
        assert "@" not in str(event.summary)


def test_sms_due_outside_the_window_wait_for_the_next_opening(app):
    with app.app_context():
        campaign = sampled_campaign(app, emails=1, phones=1)
        saturday_night = datetime(2026, 3, 7, 21, 0, tzinfo=UTC)  # 22:00 in Paris
        launch(app, campaign, now=saturday_night)
        by_channel = {m.channel: m for m in messages_of(campaign)}
        assert by_channel["email"].due_at == saturday_night
        # Sunday is no SMS day: Monday 9:00 in Paris is 8:00 UTC.
        assert by_channel["sms"].due_at == datetime(2026, 3, 9, 8, 0, tzinfo=UTC)


def test_suppressed_and_unreachable_customers_get_no_message(app):
    with app.app_context():
        campaign = sampled_campaign(app, emails=2)
        refused = add_invitation(app, campaign, email="Refused@Example.org")
        unreachable = add_invitation(app, campaign, email=None)
        add_suppression(db.session, "email", "refused@example.org", "opt-out", "test",
                        app.config["SECRET_KEY"])
        result = launch(app, campaign, until=date(2026, 12, 31))
        db.session.commit()
        assert (result.messages, result.suppressed, result.no_contact) == (2, 1, 1)
        assert campaign.fieldwork_end == date(2026, 12, 31)
        db.session.refresh(refused)
        db.session.refresh(unreachable)
        assert refused.disposition == "opted_out"
        assert refused.opted_out_at is not None
        assert unreachable.disposition == "failed"
        pending = db.session.scalars(select(Invitation.disposition).where(
            Invitation.campaign_id == campaign.id, Invitation.disposition == "pending")).all()
        assert len(pending) == 2


def test_launch_and_close_check_the_state(app):
    with app.app_context():
        draft = sampled_campaign(app, emails=1, status=CampaignStatus.DRAFT)
        with pytest.raises(DistributionError, match="only a sampled campaign"):
            launch(app, draft)
        with pytest.raises(DistributionError, match="only an open campaign"):
            close_campaign(db.session, draft, actor="test")
        campaign = sampled_campaign(app, emails=1)
        with pytest.raises(DistributionError, match="before the start"):
            launch(app, campaign, until=date(2000, 1, 1))
        launch(app, campaign)
        with pytest.raises(DistributionError, match="only a sampled campaign"):
            launch(app, campaign)


def test_close_cancels_what_is_still_queued(app):
    with app.app_context():
        campaign = sampled_campaign(app, emails=3)
        launch(app, campaign)
        first = messages_of(campaign)[0]
        first.state = MessageState.SENT.value
        db.session.commit()
        assert close_campaign(db.session, campaign, actor="test") == 2
        db.session.commit()
        assert [m.state for m in messages_of(campaign)] == ["sent", "cancelled", "cancelled"]
        assert campaign.status == CampaignStatus.CLOSED and campaign.closed_at is not None


def test_cli_launch_status_and_close(app, runner):
    import json

    with app.app_context():
        campaign = sampled_campaign(app, emails=2)
        slug = campaign.slug
    result = runner.invoke(["campaigns", "launch", slug, "--until", "2030-01-31"])
    assert result.exit_code == 0, result.output
    assert "2 messages queued" in result.output
    again = runner.invoke(["campaigns", "launch", slug])
    assert again.exit_code == 2 and "only a sampled campaign" in again.output
    status = runner.invoke(["campaigns", "status", slug, "--json"])
    assert status.exit_code == 0, status.output
    figures = json.loads(status.output)
    assert figures["messages"] == {"email": {"queued": 2}}
    assert figures["dispositions"]["pending"] == 2
    assert figures["fieldwork_end"] == "2030-01-31"
    closed = runner.invoke(["campaigns", "close", slug])
    assert closed.exit_code == 0 and "2 queued messages cancelled" in closed.output
    assert runner.invoke(["campaigns", "status", "no-such"]).exit_code == 2
