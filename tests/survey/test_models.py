"""Each constraint of the model rejects what it should, on SQLite and PostgreSQL alike."""

from datetime import datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, StatementError

from survey.extensions import db
from survey.models import AuditEvent, Message, Suppression, User, utcnow
from tests.survey.factories import (
    make_campaign,
    make_customer,
    make_invitation,
    make_response,
    token_hash,
)


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield
        db.session.rollback()


def rejected(statement=None):
    """The flush or statement that must fail, leaving the session usable."""
    return pytest.raises(IntegrityError)


def test_timestamps_are_aware_utc_on_both_databases(ctx) -> None:
    campaign = make_campaign()
    db.session.commit()
    db.session.expire_all()
    assert campaign.created_at.tzinfo is not None
    assert campaign.created_at.utcoffset().total_seconds() == 0


def test_naive_timestamps_are_refused(ctx) -> None:
    campaign = make_campaign()
    campaign.closed_at = datetime(2026, 1, 1)  # noqa: DTZ001 — on purpose
    with pytest.raises(StatementError, match="naive datetime"):
        db.session.flush()


def test_token_hashes_are_unique(ctx) -> None:
    shared = token_hash()
    campaign = make_campaign()
    make_invitation(campaign, token_hash=shared)
    with rejected():
        make_invitation(campaign, token_hash=shared)


def test_a_customer_is_invited_once_per_campaign(ctx) -> None:
    campaign = make_campaign()
    customer = make_customer()
    make_invitation(campaign, customer=customer)
    with rejected():
        make_invitation(campaign, customer=customer)


def test_the_same_customer_can_be_invited_by_two_campaigns(ctx) -> None:
    customer = make_customer()
    make_invitation(make_campaign(), customer=customer)
    make_invitation(make_campaign(), customer=customer)
    db.session.commit()


def test_one_response_per_invitation(ctx) -> None:
    invitation = make_invitation()
    make_response(invitation)
    with rejected():
        make_response(invitation)


def test_a_complete_response_has_its_completion_time(ctx) -> None:
    with rejected():
        make_response(make_invitation(), status="complete")
    db.session.rollback()
    with rejected():
        make_response(make_invitation(), status="partial", completed_at=utcnow())
    db.session.rollback()
    make_response(make_invitation(), status="complete", completed_at=utcnow())


@pytest.mark.parametrize(
    ("build", "column", "bad"),
    [
        (lambda: make_campaign(), "status", "running"),
        (lambda: make_invitation(), "disposition", "maybe"),
        (lambda: make_invitation(), "channel", "fax"),
        (lambda: make_customer(), "language", "de"),
    ],
)
def test_state_columns_accept_only_their_states(ctx, build, column, bad) -> None:
    row = build()
    setattr(row, column, bad)
    with rejected():
        db.session.flush()


def test_design_weights_are_positive(ctx) -> None:
    with rejected():
        make_invitation(design_weight=0.0)


def test_message_state_and_kind_are_checked_and_one_per_sequence(ctx) -> None:
    invitation = make_invitation()
    fields = {"invitation_id": invitation.id, "campaign_id": invitation.campaign_id,
              "channel": "email"}
    db.session.add(Message(**fields, state="flying"))
    with rejected():
        db.session.flush()
    db.session.rollback()
    invitation = make_invitation()
    fields = {"invitation_id": invitation.id, "campaign_id": invitation.campaign_id,
              "channel": "email"}
    db.session.add(Message(**fields, sequence=0))
    db.session.flush()
    db.session.add(Message(**fields, sequence=0, kind="reminder"))
    with rejected():
        db.session.flush()


def test_foreign_keys_are_enforced(ctx) -> None:
    db.session.add(Message(invitation_id=999_999, campaign_id=999_999, channel="email"))
    with rejected():
        db.session.flush()


def test_users_have_a_known_role_and_a_unique_email(ctx) -> None:
    db.session.add(User(email="a@example.org", password_hash="x", role="root"))
    with rejected():
        db.session.flush()
    db.session.rollback()
    db.session.add(User(email="a@example.org", password_hash="x", role="admin"))
    db.session.flush()
    db.session.add(User(email="a@example.org", password_hash="y", role="manager"))
    with rejected():
        db.session.flush()


def test_suppressions_hold_a_hash_once(ctx) -> None:
    db.session.add(Suppression(contact_hash="f" * 64, kind="email", reason="unsubscribe"))
    db.session.flush()
    db.session.add(Suppression(contact_hash="f" * 64, kind="email", reason="again"))
    with rejected():
        db.session.flush()
    db.session.rollback()
    db.session.add(Suppression(contact_hash="short", kind="email", reason="x"))
    with rejected():
        db.session.flush()


def test_the_audit_chain_cannot_fork(ctx) -> None:
    first = AuditEvent(actor="cli", action="a", prev_hash=None, hash="1" * 64)
    db.session.add(first)
    db.session.flush()
    db.session.add(AuditEvent(actor="cli", action="b", prev_hash="1" * 64, hash="2" * 64))
    db.session.flush()
    db.session.add(AuditEvent(actor="cli", action="c", prev_hash="1" * 64, hash="3" * 64))
    with rejected():
        db.session.flush()


def test_deleting_a_customer_keeps_the_invitation_without_the_link(ctx) -> None:
    invitation = make_invitation()
    db.session.commit()
    db.session.execute(text("DELETE FROM customer WHERE id = :id"), {"id": invitation.customer_id})
    db.session.commit()
    db.session.expire_all()
    assert invitation.customer_id is None
    assert invitation.design_weight == 10.0
