"""`barometre audit pack` and `barometre audit verify-pack` (added to the `audit` group)."""

from __future__ import annotations

import click

from survey.commandline import BadInput, with_appcontext


@click.command("pack")
@click.argument("slug")
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="The zip file to write.")
@click.option("--lang", type=click.Choice(["fr", "en"]),
              help="The report's language (default: the newest report in either).")
@click.option("--no-pdf", is_flag=True,
              help="Leave the report's PDF out (the manifest says so).")
@with_appcontext
def audit_pack(slug: str, out: str, lang: str | None, no_pdf: bool) -> None:
    """Write the auditor's pack of a campaign: report, export and design, questionnaire, plan
    and draw, follow-up figures, audit trail and manifest (docs/audit-trail.md)."""
    from pathlib import Path

    from flask import current_app

    from survey.auditpack.operations import PackError, build_pack
    from survey.campaigns.operations import CampaignError, get_campaign
    from survey.extensions import db as database
    from survey.files import write_private

    try:
        campaign = get_campaign(database.session, slug)
        pack = build_pack(
            database.session, campaign, instance_path=current_app.config["INSTANCE_PATH"],
            audit_key=current_app.config["AUDIT_KEY"], actor="cli",
            languages=(lang,) if lang else None, generate=True,
            pdf=not no_pdf,
        )  # fmt: skip
    except (CampaignError, PackError) as exc:
        database.session.rollback()
        raise BadInput(str(exc)) from exc
    try:
        write_private(Path(out), pack.content)
    except OSError as exc:
        database.session.rollback()
        raise BadInput(f"{out}: cannot write the pack: {exc.strerror or exc}") from exc
    database.session.commit()
    report = pack.manifest["report"]
    click.echo(f"pack of {slug} written to {out}: {pack.files} files, sha256 {pack.sha256}")
    click.echo(f"report {report['id']} ({report['lang']}); "
               + (f"PDF {report['pdf']}" if report["pdf"] else f"no PDF: {report['pdf_note']}"))
    for name, section in pack.manifest["sections"].items():
        if "error" in section:
            click.echo(f"section {name} left out: {section['error']}", err=True)


@click.command("verify-pack")
@click.argument("path", metavar="FILE.zip", type=click.Path(dir_okay=False))
def audit_verify_pack(path: str) -> None:
    """Check an auditor's pack: every file against its manifest, and `barometre analyze` on
    its export against the numbers its report states (exit 2 naming each difference). Needs
    no database."""
    from survey.auditpack.verify import NotAPack, verify_pack

    try:
        result = verify_pack(path)
    except NotAPack as exc:
        raise BadInput(str(exc)) from exc
    if result.differences:
        for difference in result.differences:
            click.echo(f"differs: {difference}", err=True)
        click.echo(f"{path}: {len(result.differences)} difference(s); the pack does not hold "
                   "what its manifest and its report state", err=True)
        raise SystemExit(2)
    click.echo(f"{path}: pack intact: {result.files} files match the manifest; "
               f"barometre analyze on {result.export} gives the {result.numbers} numbers "
               "its report states")
