"""Report and export services: gather a campaign's data, write files, record what was done.

Each function takes the session and explicit arguments, flushes, and records an AuditEvent;
the command or request that calls it commits once.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis import AnalysisInputError, analyze, parse_design
from survey.audit import record_event, sealed_head
from survey.files import private_folder, write_private
from survey.followups.figures import follow_ups_table
from survey.improvement.follow_up import plan_records
from survey.models import Campaign, Report
from survey.programmes.operations import method_of
from survey.publication.criteria import criteria_table, months_between
from survey.reporting.builder import CampaignFacts, PastCampaign, ReportInputs, report_design
from survey.reporting.dataset import DatasetError, build_dataset, csv_bytes
from survey.reporting.exports import EXPORT_FORMATS, write_export
from survey.reporting.render import build_report_html
from survey.weighting.sample import sample_file_frame, sample_table


class ReportError(ValueError):
    """The report or export cannot be made from this campaign's data: the message says why."""


def software_version() -> str:
    try:
        return version("barometre")
    except PackageNotFoundError:  # running from a source tree
        return "0.1.0+source"


def campaign_facts(campaign: Campaign) -> CampaignFacts:
    frozen = campaign.questionnaire_version
    return CampaignFacts(
        slug=campaign.slug,
        programme=campaign.programme.name,
        year=campaign.year,
        status=campaign.status,
        questionnaire_key=frozen.key,
        questionnaire_version=frozen.version,
        questionnaire_sha256=frozen.sha256,
        fieldwork_start=campaign.fieldwork_start,
        fieldwork_end=campaign.fieldwork_end,
        channels=tuple(campaign.channels or ()),
        reminder_days=tuple(campaign.reminder_days or ()),
        plan=dict(campaign.plan or {}),
        seed=campaign.seed,
        frame_counts=dict(campaign.frame_counts or {}),
        frame_sha256=campaign.frame_sha256,
        exclusions=dict(campaign.exclusions or {}),
        drawn_at=campaign.drawn_at,
        closed_at=campaign.closed_at,
        trend_breaks=tuple((campaign.trend_check or {}).get("breaks") or ()),
        trend_previous=(campaign.trend_check or {}).get("previous_campaign"),
        method={name: value for name, value in method_of(campaign.programme).items() if value},
        **_client_cover(campaign),
    )


def _client_cover(campaign: Campaign) -> dict[str, str | None]:
    """The cover's client: its name for customers (its own name when the installation has
    several clients) and its logo; nothing for an unbranded single client."""
    import base64

    from sqlalchemy.orm import object_session

    from survey.clients.scope import only_client_id
    from survey.models import Client

    session = object_session(campaign)
    client = session.get(Client, campaign.client_id) if session and campaign.client_id else None
    if client is None:
        return {}
    name = client.display_name or (None if only_client_id(session) else client.name)
    logo = (f"data:{client.logo_mime};base64,{base64.b64encode(client.logo).decode()}"
            if client.logo_mime and client.logo else None)
    return {"client_name": name, "client_logo": logo}


def invitations_table(session: Session, campaign: Campaign) -> pd.DataFrame:
    """One row per non-test invitation: stratum, channel, disposition, and what the
    representativeness needs (`survey.weighting.sample.sample_table`)."""
    return sample_table(session, campaign)


def programme_history(session: Session, campaign: Campaign) -> list[PastCampaign]:
    """Whole-sample estimates of the programme's earlier campaigns (those that can be analysed)."""
    earlier = session.scalars(
        select(Campaign)
        .where(Campaign.programme_id == campaign.programme_id, Campaign.year < campaign.year)
        .order_by(Campaign.year)
    ).all()
    history = []
    for past in earlier:
        try:
            dataset = build_dataset(session, past)
            design = {**dataset.design, "by": []}
            result = analyze(dataset.frame, parse_design(design))
        except (DatasetError, AnalysisInputError):
            continue  # a campaign without enough answers has no point on the trend
        history.append(
            PastCampaign(
                year=past.year,
                slug=past.slug,
                estimates=[estimate.to_dict() for estimate in result.estimates],
                facts=campaign_facts(past),
            )
        )
    return history


def report_inputs(session: Session, campaign: Campaign, *, export_name: str | None = None):
    try:
        dataset = build_dataset(session, campaign)
    except (DatasetError, AnalysisInputError) as error:
        raise ReportError(f"campaign {campaign.slug!r}: {error}") from error
    return ReportInputs(
        campaign=campaign_facts(campaign),
        dataset=dataset,
        invitations=invitations_table(session, campaign),
        follow_ups=follow_ups_table(session, campaign.id),
        history=programme_history(session, campaign),
        data_sha256=dataset.data_sha256,
        software_version=software_version(),
        generated_at=datetime.now(UTC),
        export_name=export_name or f"{campaign.slug}.csv",
        verbatim_seed=campaign.seed or 0,
        audit_head=sealed_head(session),
        criteria=criteria_table(session, campaign.programme,
                                months_between(f"{campaign.year}-01", f"{campaign.year}-12")),
        improvement=plan_records(session, campaign),
    )


@dataclass(frozen=True)
class GeneratedReport:
    report: Report
    path: Path
    html: str


#: What generating a report does in turn, as reported to its `progress` callback.
REPORT_STAGES = ("loading", "estimating", "charts", "rendering", "saving")


def check_report_language(lang: str) -> str:
    if lang not in ("fr", "en"):
        raise ReportError(f"the report is written in 'fr' or 'en', not {lang!r}")
    return lang


def report_html(
    inputs: ReportInputs, lang: str, progress: Callable[[str], None] | None = None
) -> str:
    """Compute and render the report of `inputs`: no database, so a job may run it outside any
    transaction. Raises `ReportError` when the data cannot be analysed."""
    try:
        return build_report_html(inputs, lang, progress)
    except AnalysisInputError as error:
        raise ReportError(f"campaign {inputs.campaign.slug!r}: {error}") from error


def generate_report(
    session: Session,
    campaign: Campaign,
    *,
    lang: str,
    instance_path: str | Path,
    actor: str,
    actor_id: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> GeneratedReport:
    """Build the report, store it under ``<instance>/reports/<id>.html`` with a Report row.

    `progress`, when given, receives each of `REPORT_STAGES` as it begins.
    """
    say = progress or (lambda stage: None)
    check_report_language(lang)
    say("loading")
    inputs = report_inputs(session, campaign)
    html = report_html(inputs, lang, say)
    say("saving")
    return store_report(
        session, campaign, inputs, html, lang=lang, instance_path=instance_path, actor=actor,
        actor_id=actor_id,
    )  # fmt: skip


def store_report(
    session: Session,
    campaign: Campaign,
    inputs: ReportInputs,
    html: str,
    *,
    lang: str,
    instance_path: str | Path,
    actor: str,
    actor_id: int | None = None,
) -> GeneratedReport:
    """Write the rendered report's file and its Report row, and record the event."""
    content = html.encode("utf-8")
    report = Report(
        campaign_id=campaign.id,
        language=lang,
        parameters={
            "lang": lang,
            "design": inputs.dataset.design,
            # The design file the export writes beside this data (its `report` key holds the
            # improvement plan, which can change while the data does not): an auditor's pack
            # takes this report only with that very design file (`usable_report`).
            "design_sha256": hashlib.sha256(design_file_bytes(inputs)).hexdigest(),
            "software_version": inputs.software_version,
            "respondents": len(inputs.dataset.frame),
            "status": campaign.status,
        },
        data_sha256=inputs.data_sha256,
        file_name="pending",
        file_sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        created_by_id=actor_id,
    )
    session.add(report)
    session.flush()
    # The file is named from the row's id only, never from anything a user typed.
    report.file_name = f"{report.id}.html"
    folder = private_folder(Path(instance_path) / "reports")
    path = folder / report.file_name
    write_private(path, content)
    record_event(
        session,
        "report.generate",
        actor=actor,
        actor_id=actor_id,
        object_type="report",
        object_id=report.id,
        campaign_id=campaign.id,
        summary={
            "lang": lang,
            "data_sha256": report.data_sha256,
            "file_sha256": report.file_sha256,
            "respondents": len(inputs.dataset.frame),
        },
    )
    return GeneratedReport(report=report, path=path, html=html)


def stored_report_bytes(report: Report, instance_path: str | Path) -> bytes:
    """The stored report, checked against the hash recorded when it was made: from this
    machine's instance folder, or else from the database (a worker on another machine made it).
    """
    path = Path(instance_path) / "reports" / f"{report.id}.html"
    if path.is_file():
        content = path.read_bytes()
    elif report.content is not None:
        content = report.content
    else:
        raise ReportError(f"the file of report {report.id} is missing from {path.parent}")
    if hashlib.sha256(content).hexdigest() != report.file_sha256:
        raise ReportError(f"the file of report {report.id} was changed after it was generated")
    return content


def stored_report_path(report: Report, instance_path: str | Path) -> Path:
    """The stored file of `report`, checked against the hash recorded when it was made."""
    path = Path(instance_path) / "reports" / f"{report.id}.html"
    if not path.is_file():
        raise ReportError(f"the file of report {report.id} is missing from {path.parent}")
    if hashlib.sha256(path.read_bytes()).hexdigest() != report.file_sha256:
        raise ReportError(f"the file of report {report.id} was changed after it was generated")
    return path


@dataclass(frozen=True)
class Export:
    data_path: Path
    design_path: Path
    data_sha256: str
    rows: int
    sample_path: Path | None = None


def design_file_bytes(inputs: ReportInputs) -> bytes:
    """The design file the export writes: the design with its ``report`` key, as JSON."""
    return (json.dumps(report_design(inputs), indent=2, ensure_ascii=False) + "\n").encode()


def design_path_for(out: Path) -> Path:
    return out.with_name(f"{out.stem}.design.json")


def sample_path_for(out: Path) -> Path:
    return out.with_name(f"{out.stem}.sample.csv")


def export_campaign(
    session: Session,
    campaign: Campaign,
    *,
    fmt: str,
    out: str | Path,
    actor: str,
    actor_id: int | None = None,
    excel_france: bool = False,
    lang: str = "fr",
) -> Export:
    """Write the respondents' data (no personal data) and, beside it, its design file."""
    if fmt not in EXPORT_FORMATS:
        raise ReportError(f"export format must be one of {', '.join(EXPORT_FORMATS)}, not {fmt!r}")
    try:
        dataset = build_dataset(session, campaign)
    except (DatasetError, AnalysisInputError) as error:
        raise ReportError(f"campaign {campaign.slug!r}: {error}") from error
    out = Path(out)
    try:
        write_export(dataset, fmt, out, excel_france=excel_france, lang=lang)
        design_path = design_path_for(out)
        # The design with its `report` key: what `analyze --report` needs beyond the data to
        # compute every figure of the report (headline families, the drivers' and alpha's
        # items, the plan's targets, the earlier campaigns' estimates, the actions decided from
        # the previous campaign).
        inputs = ReportInputs(
            campaign=campaign_facts(campaign), dataset=dataset,
            invitations=invitations_table(session, campaign), follow_ups=pd.DataFrame(),
            history=programme_history(session, campaign),
            improvement=plan_records(session, campaign),
        )
        write_private(design_path, design_file_bytes(inputs))
        # Every sampled customer, responded or not: `analyze --sample` reproduces the
        # report's response rates by frame variable and R-indicator from it.
        sample_path = sample_path_for(out)
        write_private(sample_path, csv_bytes(sample_file_frame(inputs.invitations)))
    except OSError as error:
        raise ReportError(f"{out}: cannot write the export: {error.strerror or error}") from error
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    record_event(
        session,
        "campaign.export",
        actor=actor,
        actor_id=actor_id,
        object_type="campaign",
        object_id=campaign.id,
        campaign_id=campaign.id,
        summary={"format": fmt, "excel_france": excel_france, "rows": len(dataset.frame),
                 "sha256": digest},
    )  # fmt: skip
    return Export(out, design_path, digest, len(dataset.frame), sample_path)


def html_to_pdf(html_path: str | Path, pdf_path: str | Path, *, timeout: int = 120) -> Path:
    """Print the report to PDF with Debian's headless Chromium, charts included, offline.

    ``--virtual-time-budget`` lets the embedded Plotly script draw before printing; the
    networking switches keep Chromium from calling anywhere.
    """
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise ReportError("the PDF needs Chromium (apt-get install chromium); none was found")
    pdf_path = Path(pdf_path).resolve()
    with tempfile.TemporaryDirectory(prefix="barometre-pdf-") as profile:
        command = [
            browser, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", "--disable-extensions", "--disable-default-apps",
            f"--user-data-dir={profile}", "--virtual-time-budget=15000",
            "--no-pdf-header-footer", f"--print-to-pdf={pdf_path}",
            Path(html_path).resolve().as_uri(),
        ]  # fmt: skip
        # A fixed argument list without a shell; the paths are ours.
        completed = subprocess.run(command, capture_output=True, timeout=timeout, check=False)  # noqa: S603
    if completed.returncode != 0 or not pdf_path.is_file() or pdf_path.stat().st_size == 0:
        raise ReportError(
            f"Chromium could not print {html_path} to PDF: "
            f"{completed.stderr.decode(errors='replace')[-500:]}"
        )
    return pdf_path


def report_summary(report: Report) -> dict[str, Any]:
    return {"id": report.id, "lang": report.language, "data_sha256": report.data_sha256}
