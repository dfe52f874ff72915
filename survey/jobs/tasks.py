"""The core's job types: a customer import and a report generation, run by the workers.

Each handler reads its inputs from the job (parameters, and for an import the file's bytes
queued with it) and leaves its final writes to the worker, which commits them with the job's
end (`survey.worker.queue`): an import writes all or nothing, a report stores its row and file
once. Their results hold what the job's page shows.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from survey.frame.importing import estimated_rows, import_customers
from survey.models import Campaign, JobKind
from survey.reporting.operations import (
    ReportError,
    check_report_language,
    report_html,
    report_inputs,
    store_report,
)
from survey.worker.registry import JobContext, register_job_type

#: Rejects kept in an import job's result for its page; the command line lists them all.
REJECTS_KEPT = 1000


def customer_import(ctx: JobContext) -> tuple[dict[str, Any], dict[str, Any]]:
    """Import the customer file queued with the job; rows checked counted against its lines."""
    data = ctx.payload
    if data is None:
        raise ValueError("the customer file of this import is no longer available")
    parameters = ctx.parameters
    progress = ctx.progress
    total = estimated_rows(data)

    def stage(name: str) -> None:
        # Rows are counted while they are checked; comparing and writing are shown as
        # stages without a count.
        progress.stage(name, 0, total if name == "checking" else None)

    session = ctx.session
    report = import_customers(
        session, data, parameters.get("_filename", "upload"),
        actor=parameters.get("_actor", ctx.actor), actor_id=ctx.user_id,
        dry_run=bool(parameters.get("dry_run")),
        accept_rejects=bool(parameters.get("accept_rejects")), on_rows=progress.advance,
        on_stage=stage, variables=parameters.get("variables") or (),
        ignore_others=bool(parameters.get("ignore_others")),
    )  # fmt: skip
    if not report.imported:
        session.rollback()  # a dry run or a refused file: nothing of it stays
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


def report(ctx: JobContext) -> tuple[dict[str, Any], dict[str, Any]]:
    """Generate a campaign's report, each stage shown as it begins."""
    lang = ctx.parameters.get("lang", "fr")
    check_report_language(lang)
    session, progress = ctx.session, ctx.progress
    campaign = session.get(Campaign, ctx.campaign_id)
    if campaign is None:
        raise ReportError(f"campaign {ctx.campaign_id} no longer exists")
    progress.stage("loading")
    inputs = report_inputs(session, campaign)
    # Computing and rendering read nothing more: end the read transaction, which on SQLite
    # holds the only write lock, so that progress (and every other writer) can commit.
    session.commit()
    html = report_html(inputs, lang, progress.stage)
    progress.stage("saving")
    generated = store_report(
        session, campaign, inputs, html, lang=lang, instance_path=ctx.app.instance_path,
        actor=ctx.parameters.get("_actor", ctx.actor), actor_id=ctx.user_id,
    )  # fmt: skip
    stored = generated.report
    result = {"report_id": stored.id, "lang": lang,
              "respondents": stored.parameters.get("respondents")}  # fmt: skip
    return result, {"report_id": stored.id}


register_job_type(
    JobKind.CUSTOMER_IMPORT.value, customer_import, max_attempts=3,
    interrupted="the import was interrupted before it finished (its worker stopped); nothing "
    "was changed: start it again",
)  # fmt: skip
register_job_type(
    JobKind.REPORT.value, report, max_attempts=3,
    interrupted="the report was interrupted before it finished (its worker stopped); no report "
    "was stored: generate it again",
)  # fmt: skip
