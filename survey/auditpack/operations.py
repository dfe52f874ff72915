"""Building the auditor's pack of a campaign (docs/audit-trail.md, "The auditor's pack").

`build_pack` gathers, from the code that already makes each of them, the files a documentary
control reads: the stored report (HTML, and its PDF printed by Chromium as `barometre report
--pdf` does), the export with its design and sample files (`export_campaign`, masked as every
export is), the frozen questionnaire (YAML as `questionnaires export` writes it, and its
canonical definition whose SHA-256 the report prints), the plan and the draw (frame hash, seed,
allocation, as stored on the campaign), the follow-up figures (`loop_figures`, as the report and
the auditors' page compute them), the campaign's audit events with the chain's head, and every
registered section (`survey.auditpack.registry`). `manifest.json` lists each file with its
SHA-256 and size. The service records one `campaign.audit_pack` event; the caller commits.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from questionnaires import definition_data, definition_yaml
from survey.audit import (
    AuditTrailError,
    read_head,
    record_event,
    seal_pending_events,
    sealed_head,
    verify_chain,
)
from survey.auditpack.registry import check_file_name, registered_sections
from survey.editor.operations import version_questionnaire
from survey.followups.figures import follow_ups_table, loop_figures
from survey.models import AuditEvent, Campaign, Invitation, Report
from survey.privacy.masking import mask_personal_data
from survey.reporting.operations import (
    ReportError,
    export_campaign,
    generate_report,
    html_to_pdf,
    software_version,
    stored_report_bytes,
)

#: The stages a pack goes through, in order, as its job's page shows them.
PACK_STAGES = ("exporting", "report", "pdf", "gathering", "sealing")

PACK_FORMAT = "barometre-audit-pack"
PACK_VERSION = 1
MANIFEST = "manifest.json"
# The report's block of stated numbers (templates/report/report.html): a report without it was
# generated before packs existed and cannot be checked number by number.
FIGURES_MARK = b'id="report-figures"'


class PackError(ValueError):
    """The pack cannot be made from this campaign: the message says why and what to do.

    `reason` names the case (`no_data`, `no_report`, `report_failed`) and `params` its values,
    so that a page says it in the reader's language (`survey.jobs.views.REASONS`); the message
    is the command line's and the log's.
    """

    def __init__(self, reason: str, message: str, **params: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.params = params


@dataclass(frozen=True)
class Pack:
    content: bytes
    manifest: dict[str, Any]
    sha256: str
    report: Report

    @property
    def files(self) -> int:
        return len(self.manifest["files"])


def _json(data: Any) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True, default=str)
            + "\n").encode("utf-8")


def usable_report(session: Session, campaign: Campaign, data_sha256: str,
                  lang: str | None, instance_path: str | Path,
                  design_sha256: str | None = None) -> Report | None:
    """The newest stored report of `campaign` computed from `data_sha256` (the data the export
    holds now) that states its figures, in `lang` when given, and, with `design_sha256`,
    made with that design file (an action of the improvement plan changed since the report
    would make its follow-up disagree with the export's; a report made before reports
    recorded their design file is taken on its data alone)."""
    query = (select(Report).where(Report.campaign_id == campaign.id,
                                  Report.data_sha256 == data_sha256)
             .order_by(Report.id.desc()))
    if lang is not None:
        query = query.where(Report.language == lang)
    for report in session.scalars(query):
        made_with = (report.parameters or {}).get("design_sha256")
        if design_sha256 is not None and made_with is not None and made_with != design_sha256:
            continue
        try:
            if FIGURES_MARK in stored_report_bytes(report, instance_path):
                return report
        except ReportError:
            continue  # its file was changed or lost: an older one, or a new one, will do
    return None


def build_pack(
    session: Session,
    campaign: Campaign,
    *,
    instance_path: str | Path,
    audit_key: str | bytes,
    actor: str,
    actor_id: int | None = None,
    languages: Sequence[str] | None = None,
    generate: bool = False,
    pdf: bool = True,
    now: datetime | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> Pack:
    """The pack of `campaign` as zip bytes, with its manifest.

    The report is the newest stored one computed from the campaign's current data, in the
    first of `languages` that has one (any language when None: the command line without
    `--lang`; the reader's language, then the other, for a pack asked for on the web); when
    there is none, `generate` makes one (in the first of `languages`, French by default),
    otherwise `PackError` says to generate it first. The PDF is printed from that report; when
    Chromium cannot print it, the manifest says why instead. Pending audit events are sealed
    first (this commits), so that the pack's trail ends at the chain's head. `on_stage` is told
    each of `PACK_STAGES` as it begins.
    """
    stage = on_stage or (lambda name: None)
    generated_at = now or datetime.now(UTC)
    files: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory(prefix="barometre-pack-") as folder:
        work = Path(folder)
        # 1. The export, exactly as `barometre export SLUG --format csv` writes it.
        stage("exporting")
        try:
            export = export_campaign(session, campaign, fmt="csv",
                                     out=work / f"{campaign.slug}.csv", actor=actor,
                                     actor_id=actor_id)
        except ReportError as error:
            raise PackError("no_data", str(error), detail=str(error)) from error
        export_paths = {
            "data": f"export/{export.data_path.name}",
            "design": f"export/{export.design_path.name}",
            "sample": f"export/{export.sample_path.name}" if export.sample_path else None,
        }
        for path in (export.data_path, export.design_path, export.sample_path):
            if path is not None:
                files[f"export/{path.name}"] = path.read_bytes()

        # 2. The report computed from that very data.
        stage("report")
        report = None
        for lang in languages or (None,):
            report = usable_report(session, campaign, export.data_sha256, lang, instance_path,
                                   hashlib.sha256(export.design_path.read_bytes()).hexdigest())
            if report is not None:
                break
        if report is None:
            if not generate:
                raise PackError(
                    "no_report",
                    f"campaign {campaign.slug!r} has no report computed from its current data"
                    + (f" in {' or '.join(map(repr, languages))}" if languages else "")
                    + ": generate the report first (reports page, or barometre report "
                    f"{campaign.slug} --out FILE)", campaign=campaign.slug)
            try:
                report = generate_report(session, campaign,
                                         lang=languages[0] if languages else "fr",
                                         instance_path=instance_path, actor=actor,
                                         actor_id=actor_id).report
            except ReportError as error:
                raise PackError("report_failed", str(error), detail=str(error)) from error
        html = stored_report_bytes(report, instance_path)
        html_name = f"report/{campaign.slug}-report-{report.language}.html"
        files[html_name] = html
        pdf_name: str | None = None
        pdf_note: str | None = None
        if pdf:
            stage("pdf")
            html_path, pdf_path = work / "report.html", work / "report.pdf"
            html_path.write_bytes(html)
            try:
                html_to_pdf(html_path, pdf_path)
                pdf_name = f"report/{campaign.slug}-report-{report.language}.pdf"
                files[pdf_name] = pdf_path.read_bytes()
            except (ReportError, OSError, subprocess.SubprocessError) as error:
                pdf_note = f"the PDF could not be printed: {error}"
        else:
            # Said to whoever reads the manifest, which may not be the one who made the pack.
            pdf_note = "the PDF was left out when the pack was made"

    # 3. The questionnaire version the campaign ran.
    stage("gathering")
    version = campaign.questionnaire_version
    questionnaire = version_questionnaire(version)
    yaml_text = definition_yaml(definition_data(questionnaire)).encode("utf-8")
    stem = f"{version.key}-{version.number}" if version.number is not None else version.key
    files[f"questionnaire/{stem}.yaml"] = yaml_text
    files["questionnaire/definition.json"] = version.definition.encode("utf-8")
    files["questionnaire/version.json"] = _json({
        "key": version.key, "number": version.number, "version": version.version,
        "title": version.title, "created_at": version.created_at,
        "sha256": version.sha256,
        "sha256_of": "questionnaire/definition.json (the canonical JSON the report's hash names)",
        "yaml_sha256": hashlib.sha256(yaml_text).hexdigest(),
    })

    # 4. The plan and the draw, as stored on the campaign when they were made.
    files["plan/draw.json"] = _json(draw_record(session, campaign))

    # 5. The follow-up figures, as the report and the auditors' page compute them.
    files["followups/figures.json"] = _json({
        "as_of": generated_at,
        **loop_figures(follow_ups_table(session, campaign.id), now=generated_at),
    })

    # 6. Each feature's registered section.
    sections: dict[str, Any] = {}
    for section in registered_sections():
        try:
            built = section.build(session, campaign)
            named = {check_file_name(section.name, name): bytes(content)
                     for name, content in built.items()}
        except Exception as error:  # one broken section must not withhold the rest  # noqa: BLE001
            sections[section.name] = {"error": f"{type(error).__name__}: {error}"}
            continue
        files.update(named)
        sections[section.name] = {"files": sorted(named)}

    # 7. The audit trail, last: sealed now, so that it ends at the chain's head.
    stage("sealing")
    _seal(session, audit_key, instance_path)
    files["audit/trail.jsonl"] = trail_lines(session, campaign)
    files["audit/head.json"] = _json(head_record(session, audit_key, instance_path))

    manifest = {
        "format": PACK_FORMAT,
        "format_version": PACK_VERSION,
        "barometre_version": software_version(),
        "generated_at": generated_at.isoformat(timespec="seconds"),
        "campaign": {"slug": campaign.slug, "programme": campaign.programme.name,
                     "year": campaign.year, "status": campaign.status},
        "report": {"id": report.id, "lang": report.language, "html": html_name,
                   "pdf": pdf_name, "pdf_note": pdf_note, "data_sha256": report.data_sha256,
                   "generated_at": report.created_at},
        "export": export_paths,
        "sections": sections,
        "files": [{"path": name, "sha256": hashlib.sha256(content).hexdigest(),
                   "size": len(content)} for name, content in sorted(files.items())],
    }
    manifest_bytes = _json(manifest)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, manifest_bytes)
        for name, content in sorted(files.items()):
            archive.writestr(name, content)
    content = buffer.getvalue()
    digest = hashlib.sha256(content).hexdigest()
    record_event(session, "campaign.audit_pack", actor=actor, actor_id=actor_id,
                 object_type="campaign", object_id=campaign.id, campaign_id=campaign.id,
                 summary={"report_id": report.id, "files": len(files),
                          "manifest_sha256": hashlib.sha256(manifest_bytes).hexdigest(),
                          "sha256": digest, "pdf": pdf_name is not None})
    return Pack(content, json.loads(manifest_bytes), digest, report)


def draw_record(session: Session, campaign: Campaign) -> dict[str, Any]:
    """The plan and the draw: the frame's hash and counts, the seed, the allocation planned and
    the invitations drawn per stratum. Excluded customers are named by their external id only,
    masked should one look like an email or a phone."""
    plan = dict(campaign.plan or {})
    if plan.get("excluded_external_ids"):
        plan["excluded_external_ids"] = [mask_personal_data(str(value))
                                         for value in plan["excluded_external_ids"]]
    drawn = dict(session.execute(
        select(Invitation.stratum, func.count()).where(
            Invitation.campaign_id == campaign.id, Invitation.is_test.is_(False))
        .group_by(Invitation.stratum).order_by(Invitation.stratum)
    ).all())
    return {
        "frame_sha256": campaign.frame_sha256,
        "seed": campaign.seed,
        "drawn_at": campaign.drawn_at,
        "frame_counts": campaign.frame_counts,
        "frame_margins": campaign.frame_margins,
        "exclusions": campaign.exclusions,
        "allocation": plan.get("allocation"),
        "planned": [{key: row.get(key) for key in ("stratum", "population", "respondents",
                                                    "invitations")}
                    for row in plan.get("strata") or ()],
        "drawn_per_stratum": drawn,
        "plan": plan,
    }


def _seal(session: Session, key: str | bytes, instance_path: str | Path) -> None:
    while seal_pending_events(session, key=key, instance_path=instance_path).sealed:
        pass


def trail_lines(session: Session, campaign: Campaign) -> bytes:
    """The campaign's audit events in the chain's order, one JSON object a line, with their
    position and hashes (`barometre audit verify` checks the whole chain on the server)."""
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.campaign_id == campaign.id)
        .order_by(AuditEvent.seq.is_(None), AuditEvent.seq, AuditEvent.id)
    )
    lines = []
    for event in events:
        lines.append(json.dumps({
            "id": event.id, "seq": event.seq, "created_at": event.created_at.isoformat(),
            "actor": event.actor, "action": event.action, "object_type": event.object_type,
            "object_id": event.object_id, "campaign_id": event.campaign_id,
            "summary": event.summary, "prev_hash": event.prev_hash, "hash": event.hash,
        }, ensure_ascii=False, sort_keys=True, default=str))
    return ("\n".join(lines) + "\n").encode("utf-8") if lines else b""


def head_record(session: Session, key: str | bytes, instance_path: str | Path) -> dict[str, Any]:
    """The chain's head when the pack was made, its check, and the command that checks later
    that the trail still reaches it."""
    try:
        recorded = read_head(instance_path)
    except AuditTrailError as error:
        recorded, problem = None, str(error)
    else:
        problem = None
    result = verify_chain(session, key=key, head=recorded)
    head = sealed_head(session)
    return {
        "head": head.as_dict() if head else None,
        "recorded_head": recorded.as_dict() if recorded else None,
        "recorded_head_problem": problem,
        "chain": {"ok": result.ok, "events": result.events, "pending": result.pending,
                  "first_broken_id": result.first_broken_id, "reason": result.reason,
                  "anchored": result.anchored},
        "verify_command": f"barometre audit verify --head {head.hash}" if head else None,
    }
