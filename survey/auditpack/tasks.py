"""The auditor's pack as a background job, asked for from the reports page.

Making a pack exports the data, reads the report, prints its PDF with Chromium and seals the
audit trail: longer than a request should wait, and a web process never runs a job
(`survey.worker`). The worker stores the zip as the job's output (`survey.jobs.outputs`), which
its page and the reports page offer for download to whoever may read the campaign's reports.
"""

from __future__ import annotations

from typing import Any

from survey.auditpack.operations import build_pack
from survey.jobs.outputs import store_output
from survey.models import Campaign, JobKind
from survey.worker.registry import JobContext, register_job_type


def pack_output_name(job_id: int) -> str:
    return f"packs/{job_id}.zip"


def audit_pack(ctx: JobContext) -> tuple[dict[str, Any], dict[str, Any]]:
    """Make the pack with the report in the asker's language (else the other one), its PDF
    printed; a campaign without a current report fails the job with `PackError`."""
    campaign = ctx.session.get(Campaign, ctx.campaign_id)
    if campaign is None:
        raise LookupError(f"campaign {ctx.campaign_id} no longer exists")
    lang = ctx.parameters.get("lang") if ctx.parameters.get("lang") in ("fr", "en") else "fr"
    instance_path = ctx.app.config["INSTANCE_PATH"]
    pack = build_pack(
        ctx.session, campaign, instance_path=instance_path,
        audit_key=ctx.app.config["AUDIT_KEY"], actor=ctx.parameters.get("_actor", ctx.actor),
        actor_id=ctx.user_id, languages=(lang, "en" if lang == "fr" else "fr"),
        pdf=bool(ctx.parameters.get("pdf", True)), now=ctx.now,
        on_stage=ctx.progress.stage,
    )  # fmt: skip
    output = store_output(ctx.session, pack_output_name(ctx.job_id), pack.content,
                          mimetype="application/zip", instance_path=instance_path,
                          job_id=ctx.job_id)  # fmt: skip
    report = pack.manifest["report"]
    result = {"output": output.name, "sha256": pack.sha256, "size": len(pack.content),
              "files": pack.files, "lang": report["lang"], "report_id": report["id"],
              "pdf": report["pdf"] is not None, "pdf_note": report["pdf_note"]}
    return result, {"sha256": pack.sha256, "report_id": report["id"]}


register_job_type(
    JobKind.AUDIT_PACK.value, audit_pack, max_attempts=2,
    interrupted="the auditor's pack was interrupted before it finished (its worker stopped): "
    "ask for it again",
)  # fmt: skip
