"""The work of each kind of job: a customer import and a report generation, in the background.

Each `*_work` function returns the `Work` a runner calls in the job's thread. Each commits its
own data once, as the request that used to run it did: an import writes all or nothing, a
report stores its row and file at the end. Their results hold what the job's page shows.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from survey.frame.importing import estimated_rows, import_customers
from survey.jobs.runner import Progress, Work
from survey.models import Campaign
from survey.reporting.operations import (
    ReportError,
    check_report_language,
    report_html,
    report_inputs,
    store_report,
)

#: Rejects kept in an import job's result for its page; the command line lists them all.
REJECTS_KEPT = 1000


def customer_import_work(
    data: bytes,
    filename: str,
    *,
    actor: str,
    actor_id: int | None,
    dry_run: bool,
    accept_rejects: bool,
    variables: list[str] | None = None,
    ignore_others: bool = False,
) -> Work:
    """Import a customer file: the rows checked are counted against the file's line count."""

    def work(session: Session, progress: Progress) -> tuple[dict[str, Any], dict[str, Any]]:
        total = estimated_rows(data)

        def stage(name: str) -> None:
            # Rows are counted while they are checked; comparing and writing are shown as
            # stages without a count.
            progress.stage(name, 0, total if name == "checking" else None)

        report = import_customers(
            session, data, filename, actor=actor, actor_id=actor_id, dry_run=dry_run,
            accept_rejects=accept_rejects, on_rows=progress.advance, on_stage=stage,
            variables=variables or (), ignore_others=ignore_others,
        )  # fmt: skip
        if report.imported:
            session.commit()
        else:
            session.rollback()
        result = {
            key: value for key, value in report.as_dict().items()
            if key not in ("rejects", "mapping")
        }  # fmt: skip
        result["rejects"] = [asdict(reject) for reject in report.rejects[:REJECTS_KEPT]]
        result["rejects_count"] = len(report.rejects)
        summary = {
            "import_id": report.import_id, "rows_total": report.rows_total,
            "rows_rejected": report.rows_rejected, "imported": report.imported,
        }  # fmt: skip
        return result, summary

    return work


def report_work(
    campaign_id: int,
    *,
    lang: str,
    instance_path: str | Path,
    actor: str,
    actor_id: int | None,
) -> Work:
    """Generate a campaign's report, each stage shown as it begins."""
    check_report_language(lang)

    def work(session: Session, progress: Progress) -> tuple[dict[str, Any], dict[str, Any]]:
        campaign = session.get(Campaign, campaign_id)
        if campaign is None:
            raise ReportError(f"campaign {campaign_id} no longer exists")
        progress.stage("loading")
        inputs = report_inputs(session, campaign)
        # Computing and rendering read nothing more: end the read transaction, which on SQLite
        # holds the only write lock, so that progress (and every other writer) can commit.
        session.commit()
        html = report_html(inputs, lang, progress.stage)
        progress.stage("saving")
        generated = store_report(
            session, campaign, inputs, html, lang=lang, instance_path=instance_path,
            actor=actor, actor_id=actor_id,
        )  # fmt: skip
        # Read before the commit, which expires the report: reading it after would begin
        # another transaction, on SQLite the write lock the progress ticker waits for.
        report = generated.report
        result = {"report_id": report.id, "lang": lang,
                  "respondents": report.parameters.get("respondents")}  # fmt: skip
        session.commit()
        return result, {"report_id": result["report_id"]}

    return work
