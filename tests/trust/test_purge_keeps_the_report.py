"""Purging personal data leaves every number of the report, and the export, unchanged."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import openpyxl
from sqlalchemy import func, select

from survey.distribution.operations import close_campaign
from survey.extensions import db
from survey.models import Campaign, Customer, Invitation, Message, utcnow
from survey.privacy.operations import purge_personal_data
from survey.reporting.builder import compute_report
from survey.reporting.operations import export_campaign, generate_report, report_inputs


def _numbers(campaign: Campaign) -> dict:
    report = compute_report(report_inputs(db.session, campaign))
    # When and with which build: the only parts that may differ between two runs.
    report.pop("generated_at")
    report["annex"].pop("software_version")
    return report


def _export_digests(campaign: Campaign, folder, name: str) -> dict[str, object]:
    digests: dict[str, object] = {}
    for fmt in ("csv", "xlsx"):
        done = export_campaign(db.session, campaign, fmt=fmt, out=folder / f"{name}.{fmt}",
                               actor="test")
        digests[f"{fmt} design"] = hashlib.sha256(done.design_path.read_bytes()).hexdigest()
        if fmt == "csv":
            digests[fmt] = done.data_sha256
        else:
            # A workbook carries the time it was written: compare its cells instead.
            workbook = openpyxl.load_workbook(done.data_path, read_only=True)
            digests[fmt] = [list(sheet.values) for sheet in workbook.worksheets]
    return digests


def test_purge_leaves_the_report_and_the_export_unchanged(seeded, tmp_path) -> None:
    app = seeded.app
    with app.app_context():
        campaign = db.session.scalars(select(Campaign).where(
            Campaign.slug == seeded.open_slug)).one()
        close_campaign(db.session, campaign, actor="test")
        db.session.commit()
        linked = db.session.scalar(select(func.count()).select_from(Invitation).where(
            Invitation.campaign_id == campaign.id, Invitation.customer_id.is_not(None)))
        assert linked > 100  # real customers, drawn from the imported base
        before = _numbers(campaign)
        assert before["n_respondents"] > 30 and before["estimates"]
        exports_before = _export_digests(campaign, tmp_path, "before")
        report_before = generate_report(db.session, campaign, lang="fr",
                                        instance_path=app.instance_path, actor="test").report
        db.session.commit()

        summary = purge_personal_data(db.session, retention_days=0,
                                      now=utcnow() + timedelta(seconds=1), actor="test")
        db.session.commit()
        assert campaign.slug in summary.campaigns
        assert summary.invitations_unlinked == linked
        assert summary.messages_blanked > 0 and summary.customers_erased > 0

        db.session.expire_all()
        campaign = db.session.get(Campaign, campaign.id)
        assert db.session.scalar(select(func.count()).select_from(Invitation).where(
            Invitation.campaign_id == campaign.id, Invitation.customer_id.is_not(None))) == 0
        assert db.session.scalar(select(func.count()).select_from(Message).where(
            Message.campaign_id == campaign.id, Message.to_address.is_not(None))) == 0
        erased = db.session.scalar(select(func.count()).select_from(Customer).where(
            Customer.email.is_(None), Customer.phone.is_(None), Customer.name.is_(None)))
        assert erased == summary.customers_erased

        after = _numbers(campaign)
        assert after["estimates"] == before["estimates"]  # every estimate, exactly
        assert after == before
        assert _export_digests(campaign, tmp_path, "after") == exports_before
        report_after = generate_report(db.session, campaign, lang="fr",
                                       instance_path=app.instance_path, actor="test").report
        db.session.commit()
        assert report_after.data_sha256 == report_before.data_sha256
