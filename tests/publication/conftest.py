"""A programme with last year's and this year's closed campaigns, and its criteria."""

from __future__ import annotations

import pytest

from survey.campaigns.operations import create_campaign
from survey.extensions import db
from survey.publication.criteria import define_criterion, import_criteria_file
from survey.reporting.synthetic import seed_synthetic_responses

PROGRAMME = "Baromètre service client"


def year_of_criteria(year: int) -> bytes:
    """Twelve months of two criteria, the rate missing its target in March and April."""
    lines = ["month;criterion;value;numerator;denominator"]
    for month in range(1, 13):
        answered = 700 if month in (3, 4) else 850
        lines.append(f"{year}-{month:02d};calls-60s;;{answered};1000")
        lines.append(f"{year}-{month:02d};reply-days;{1.5 + month / 10:.1f};;")
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def campaigns(app):
    """Last year's and this year's closed campaigns of one programme, with a year of criteria."""
    with app.app_context():
        made = {}
        for year, shift, n in ((2025, -0.3, 120), (2026, 0.0, 160)):
            campaign = create_campaign(
                db.session, f"barometre-{year}", programme=PROGRAMME, year=year,
                questionnaire_key="nf-relation-client", actor="test",
            )  # fmt: skip
            seed_synthetic_responses(db.session, campaign, rng_seed=year, n_respondents=n,
                                     shift=shift)  # fmt: skip
            campaign.status = "closed"
            made[year] = campaign.slug
        programme = campaign.programme
        define_criterion(db.session, programme, code="calls-60s",
                         label_fr="Appels décrochés en moins de 60 s",
                         label_en="Calls answered within 60 s", unit="rate", target=0.8,
                         direction="higher", item="phone_wait", actor="test")
        define_criterion(db.session, programme, code="reply-days",
                         label_fr="Délai de réponse écrite", label_en="Written reply delay",
                         unit="days", target=2.5, direction="lower",
                         item="written_reply_time", actor="test")
        import_criteria_file(db.session, programme, year_of_criteria(2026), "c.csv",
                             actor="test")
        made["programme_id"] = programme.id
        db.session.commit()
        return made
