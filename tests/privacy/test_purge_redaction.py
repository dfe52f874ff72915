"""The purge leaves no personal value in any table or outbox file, and changes no number (#23)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, text

from survey.campaigns.operations import create_campaign
from survey.extensions import db
from survey.models import FollowUp, FollowUpNote, Invitation, Message, Response, utcnow
from survey.privacy.operations import purge_personal_data
from survey.reporting.dataset import build_dataset
from survey.reporting.synthetic import seed_synthetic_responses
from tests.survey.factories import make_customer

COMMENTS = [
    "Rappelez-moi au 06 - 12 - 34 - 56 - 78",
    "zéro six 12 34 56 78, merci",
    "mon adresse: jean.dupont(at)gmail.com",
    "jean at mail dot com, le soir",
]
PERSONAL = ["06 - 12", "12 34 56 78", "jean.dupont", "gmail", "jean at mail", "alice@example.org",
            "+33611223344", "Alice Martin"]


def _dump_tables() -> str:
    """Every row of every table of the model, as text."""
    dumped = []
    for table in db.metadata.sorted_tables:
        rows = db.session.execute(text(f'SELECT * FROM "{table.name}"')).all()  # noqa: S608
        dumped += [repr(tuple(row)) for row in rows]
    return "\n".join(dumped)


def test_purge_redacts_free_text_and_outbox_files_and_keeps_the_export(app) -> None:
    outbox = Path(app.config["INSTANCE_PATH"]) / "outbox"
    outbox.mkdir()
    with app.app_context():
        campaign = create_campaign(db.session, "purge-2025", programme="P", year=2025,
                                   questionnaire_key="nf-relation-client", actor="test")
        seed_synthetic_responses(db.session, campaign, rng_seed=4, n_respondents=40)
        responses = db.session.scalars(
            select(Response).join(Invitation).where(Invitation.campaign_id == campaign.id)
            .order_by(Response.id)
        ).all()
        for response, comment in zip(responses, COMMENTS, strict=False):
            response.answers = {**response.answers, "comment": comment}
        alice = make_customer(external_id="A1", email="alice@example.org",
                              phone="+33611223344", name="Alice Martin")
        invitation = responses[0].invitation
        invitation.customer_id = alice.id
        message = Message(invitation_id=invitation.id, campaign_id=campaign.id, channel="email",
                          to_address="alice@example.org", state="sent",
                          provider_id="outbox:00000001-email.eml")
        db.session.add(message)
        (outbox / "00000001-email.eml").write_text("To: alice@example.org\n")
        (outbox / "00000002-email.eml").write_text("another campaign's message\n")
        follow_up = db.session.scalar(select(FollowUp).where(FollowUp.campaign_id == campaign.id))
        if follow_up is not None:
            follow_up.notes.append(FollowUpNote(body="rappeler Alice au 06 12 34 56 78"))
        campaign.status = "closed"
        campaign.closed_at = utcnow() - timedelta(days=1)
        db.session.commit()
        before = build_dataset(db.session, campaign)
        assert before.frame["comment"].str.contains("masqué").sum() >= len(COMMENTS)
        assert any(p in _dump_tables() for p in PERSONAL)

        summary = purge_personal_data(db.session, retention_days=0, actor="test",
                                      outbox_folder=outbox)
        db.session.commit()
        assert summary.texts_redacted >= len(COMMENTS)
        assert summary.outbox_files_removed == 1
        after = build_dataset(db.session, campaign)
        assert after.data_sha256 == before.data_sha256
        dumped = _dump_tables()
        assert [p for p in PERSONAL if p in dumped] == []
    assert not (outbox / "00000001-email.eml").exists()
    assert (outbox / "00000002-email.eml").exists()
