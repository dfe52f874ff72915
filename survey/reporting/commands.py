"""Reports, exports and the analysis of an export on the command line."""

from __future__ import annotations

import click

from survey.commandline import BadInput, SystemFailure, with_appcontext


@click.command()
@click.argument("slug")
@click.option("--out", required=True, type=click.Path(dir_okay=False))
@click.option("--pdf", type=click.Path(dir_okay=False))
@click.option("--lang", default="fr", show_default=True, type=click.Choice(["fr", "en"]))
@with_appcontext
def report(slug: str, out: str, pdf: str | None, lang: str) -> None:
    """Generate the campaign's report (stored, and copied to --out; --pdf prints it too)."""
    import shutil as _shutil

    from flask import current_app

    from survey.campaigns.operations import CampaignError, get_campaign
    from survey.extensions import db as database
    from survey.reporting.operations import ReportError, generate_report, html_to_pdf

    try:
        campaign = get_campaign(database.session, slug)
        generated = generate_report(
            database.session, campaign, lang=lang,
            instance_path=current_app.instance_path, actor="cli",
        )  # fmt: skip
    except (CampaignError, ReportError) as exc:
        raise BadInput(str(exc)) from exc
    database.session.commit()
    try:
        _shutil.copyfile(generated.path, out)
    except OSError as exc:
        raise BadInput(f"{out}: cannot write the report: {exc.strerror or exc}") from exc
    click.echo(
        f"report {generated.report.id} of {slug} ({lang}) written to {out}; "
        f"data sha256 {generated.report.data_sha256}"
    )
    if pdf:
        try:
            html_to_pdf(out, pdf)
        except (ReportError, OSError) as exc:
            raise SystemFailure(str(exc)) from exc
        click.echo(f"PDF written to {pdf}")


@click.command()
@click.argument("slug")
@click.option("--format", "fmt", required=True, type=click.Choice(["csv", "xlsx", "sav"]))
@click.option("--out", required=True, type=click.Path(dir_okay=False))
@click.option(
    "--excel-france", is_flag=True, help="CSV in Windows-1252 with ';' and decimal commas."
)
@click.option("--lang", default="fr", show_default=True, type=click.Choice(["fr", "en"]))
@with_appcontext
def export(slug: str, fmt: str, out: str, excel_france: bool, lang: str) -> None:
    """Export the respondents' data without personal data, with its design file beside it."""
    from survey.campaigns.operations import CampaignError, get_campaign
    from survey.extensions import db as database
    from survey.reporting.operations import ReportError, export_campaign

    try:
        campaign = get_campaign(database.session, slug)
        done = export_campaign(
            database.session, campaign, fmt=fmt, out=out, actor="cli",
            excel_france=excel_france, lang=lang,
        )  # fmt: skip
    except (CampaignError, ReportError) as exc:
        raise BadInput(str(exc)) from exc
    database.session.commit()
    click.echo(f"{done.rows} respondents written to {done.data_path} (sha256 {done.data_sha256})")
    click.echo(f"design file: {done.design_path}")


@click.command()
@click.argument("responses", type=click.Path(dir_okay=False))
@click.option("--design", required=True, type=click.Path(dir_okay=False))
@click.option("--out", type=click.Path(dir_okay=False))
@click.option(
    "--sample",
    type=click.Path(dir_okay=False),
    help="The export's sample file (every sampled customer): adds response rates by frame "
    "variable and the R-indicator.",
)
@click.option(
    "--report", "report_figures", is_flag=True,
    help="Every figure of the yearly report (tests, response rates, drivers, alpha...) from "
    "the design file's 'report' key and the sample file.",
)
@click.option("--format", "fmt", default="json", show_default=True,
              type=click.Choice(["json", "text"]), help="JSON, or readable text.")
def analyze(responses: str, design: str, out: str | None, sample: str | None,
            report_figures: bool, fmt: str) -> None:
    """Estimate the design's indicators from a respondents CSV (no database needed)."""
    from analysis.cli import run_analyze

    raise SystemExit(run_analyze(responses, design, out, sample_path=sample,
                                 report=report_figures, text=fmt == "text"))


# Registered on `barometre` by `survey.cli`.
COMMANDS = (report, export, analyze)
