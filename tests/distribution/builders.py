"""Builders for distribution tests: a sampled campaign with invitations as the draw makes them."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask
from sqlalchemy import select

from survey.auth.operations import create_user
from survey.extensions import db
from survey.models import Campaign, CampaignStatus, Invitation, Message
from survey.tokens import issue_token
from tests.survey.factories import make_campaign, make_customer

# A Monday at 10:00 in Paris: inside the SMS window.
MONDAY_MORNING = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def sampled_campaign(app: Flask, *, emails: int = 0, phones: int = 0, language: str = "fr",
                     status: str = CampaignStatus.SAMPLED, **fields) -> Campaign:
    campaign = make_campaign(status=status, channels=["email", "sms"] if phones else ["email"],
                             **fields)
    for n in range(emails):
        add_invitation(app, campaign, email=f"customer{campaign.id}-{n}@example.org",
                       language=language)
    for n in range(phones):
        add_invitation(app, campaign, phone=f"+336{campaign.id:02d}{n:06d}", channel="sms",
                       language=language)
    db.session.commit()
    return campaign


def add_invitation(app: Flask, campaign: Campaign, *, email: str | None = None,
                   phone: str | None = None, channel: str = "email", language: str = "fr",
                   **fields) -> Invitation:
    salt, _token, digest = issue_token(app.config["SECRET_KEY"])
    invitation = Invitation(
        campaign=campaign, customer=make_customer(email=email, phone=phone, language=language),
        stratum="A", design_weight=10.0, token_salt=salt, token_hash=digest, language=language,
        channel=channel, **fields)
    db.session.add(invitation)
    db.session.flush()
    return invitation


def token_of(app: Flask, invitation: Invitation) -> str:
    from survey.tokens import token_for

    return token_for(app.config["SECRET_KEY"], invitation.token_salt)


def messages_of(campaign: Campaign) -> list[Message]:
    db.session.expire_all()
    return list(db.session.scalars(
        select(Message).where(Message.campaign_id == campaign.id).order_by(Message.id)))


def login_manager_user(client, role: str = "manager") -> None:  # noqa: ANN001
    with client.application.app_context():
        create_user(db.session, f"{role}@example.org", role, "a-long-password-123",
                    actor="test")
        db.session.commit()
    response = client.post("/login", data={"email": f"{role}@example.org",
                                           "password": "a-long-password-123"})
    assert response.status_code in (302, 303), response.data[:500]
