"""Small builders of valid domain rows, so that each test states only what it is about."""

from __future__ import annotations

import hashlib
import itertools
import secrets

from survey.extensions import db
from survey.models import (
    Campaign,
    Customer,
    Invitation,
    Programme,
    QuestionnaireVersion,
    Response,
)

_counter = itertools.count(1)


def token_hash() -> str:
    return hashlib.sha256(secrets.token_bytes(16)).hexdigest()


def make_questionnaire_version(**fields) -> QuestionnaireVersion:
    n = next(_counter)
    version = QuestionnaireVersion(
        key=fields.pop("key", f"q{n}"), version="1", title="Test",
        sha256=hashlib.sha256(str(n).encode()).hexdigest(), definition="{}", **fields,
    )
    db.session.add(version)
    db.session.flush()
    return version


def make_campaign(**fields) -> Campaign:
    n = next(_counter)
    campaign = Campaign(
        slug=fields.pop("slug", f"campaign-{n}"),
        programme=fields.pop("programme", None) or Programme(name=f"Programme {n}"),
        year=fields.pop("year", 2026),
        questionnaire_version=fields.pop("questionnaire_version", None)
        or make_questionnaire_version(),
        **fields,
    )
    db.session.add(campaign)
    db.session.flush()
    return campaign


def make_customer(**fields) -> Customer:
    n = next(_counter)
    customer = Customer(external_id=fields.pop("external_id", f"C{n:06d}"), **fields)
    db.session.add(customer)
    db.session.flush()
    return customer


def make_invitation(campaign: Campaign | None = None, **fields) -> Invitation:
    invitation = Invitation(
        campaign=campaign or make_campaign(),
        customer=fields.pop("customer", None) or make_customer(),
        stratum=fields.pop("stratum", "A"),
        design_weight=fields.pop("design_weight", 10.0),
        token_hash=fields.pop("token_hash", None) or token_hash(),
        token_salt=fields.pop("token_salt", "0" * 32),
        **fields,
    )
    db.session.add(invitation)
    db.session.flush()
    return invitation


def make_response(invitation: Invitation, **fields) -> Response:
    response = Response(
        invitation_id=invitation.id,
        questionnaire_version_id=invitation.campaign.questionnaire_version_id,
        **fields,
    )
    db.session.add(response)
    db.session.flush()
    return response
