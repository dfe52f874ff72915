"""Last year's and this year's closed campaigns of one programme, a manager and an auditor."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from survey.campaigns.operations import create_campaign
from survey.extensions import db
from survey.reporting.synthetic import seed_synthetic_responses
from tests.trust.helpers import make_user

PROGRAMME = "Baromètre service client"


@dataclass
class Plan:
    previous: str
    current: str
    manager: int
    auditor: int


@pytest.fixture
def plan(app) -> Plan:
    manager = make_user(app, "manager@plan.example", "manager")
    auditor = make_user(app, "auditor@plan.example", "auditor")
    with app.app_context():
        slugs = {}
        for year, shift, n in ((2025, -0.4, 150), (2026, 0.2, 170)):
            campaign = create_campaign(
                db.session, f"barometre-{year}", programme=PROGRAMME, year=year,
                questionnaire_key="nf-relation-client", actor="test",
            )  # fmt: skip
            seed_synthetic_responses(db.session, campaign, rng_seed=year, n_respondents=n,
                                     shift=shift)
            campaign.status = "closed"
            slugs[year] = campaign.slug
        db.session.commit()
    return Plan(slugs[2025], slugs[2026], manager, auditor)
