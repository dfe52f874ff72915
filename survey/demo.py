"""The demo: what `barometre demo` puts in an empty (or earlier demo) database."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from survey.auth.operations import create_user, generate_password, password_hasher
from survey.campaigns.operations import create_campaign, get_or_create_programme
from survey.extensions import db
from survey.models import Campaign, Role, User

DEMO_ADMIN = "admin@barometre.example"
DEMO_PROGRAMME = "Baromètre satisfaction Service Client"
DEMO_QUESTIONNAIRE = "nf-relation-client"


def seed_demo(today: date | None = None) -> list[str]:
    """Seed the demo, idempotently, and return what to tell the person who started it.

    The admin's password is new at every run and printed once: it is never stored in clear.
    """
    session = db.session
    year = (today or date.today()).year
    password = generate_password()
    admin = session.scalar(select(User).where(User.email == DEMO_ADMIN))
    if admin is None:
        admin = create_user(session, DEMO_ADMIN, Role.ADMIN.value, password, actor="demo")
    else:
        admin.password_hash = password_hasher.hash(password)
        admin.active = True
        admin.failed_logins = 0
        admin.locked_until = None
    get_or_create_programme(session, DEMO_PROGRAMME, actor="demo")
    slug = f"barometre-{year}"
    if session.scalar(select(Campaign.id).where(Campaign.slug == slug)) is None:
        create_campaign(
            session,
            slug,
            programme=DEMO_PROGRAMME,
            year=year,
            questionnaire_key=DEMO_QUESTIONNAIRE,
            channels=("email", "sms"),
            actor="demo",
        )
    session.commit()
    return [
        "demo ready:",
        f"  admin login: {DEMO_ADMIN}",
        f"  password (shown once): {password}",
        f"  campaign: {slug} (draft)",
    ]
