"""The customer base on the command line: import and erasure."""

from __future__ import annotations

import click

from survey.commandline import BadInput, with_appcontext


@click.group()
def customers() -> None:
    """The customer base."""


@customers.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Validate and report without importing.")
@click.option("--accept-rejects", is_flag=True, help="Import the valid rows despite rejects.")
@click.option(
    "--column",
    "columns",
    multiple=True,
    metavar="FIELD=HEADER",
    help="Read a field (external_id, email, phone, name, language, last_contact_on) from the "
    "column with this header.",
)
@click.option(
    "--attributes", help="Comma-separated headers to keep as attributes (default: all others)."
)
@with_appcontext
def customers_import(
    file: str,
    dry_run: bool,
    accept_rejects: bool,
    columns: tuple[str, ...],
    attributes: str | None,
) -> None:
    """Import (or update) customers from CSV or XLSX, all or nothing."""
    from pathlib import Path

    from survey.extensions import db as database
    from survey.frame.importing import CustomerFileError, import_customers

    mapping: dict[str, str] = {}
    for item in columns:
        name, equals, header = item.partition("=")
        if not equals or not name.strip() or not header.strip():
            raise BadInput(f"--column {item!r}: write FIELD=HEADER, e.g. email=Courriel")
        mapping[name.strip()] = header.strip()
    try:
        data = Path(file).read_bytes()
    except OSError as exc:
        raise BadInput(f"{file}: cannot be read ({exc.strerror})") from exc
    try:
        report = import_customers(
            database.session,
            data,
            Path(file).name,
            actor="cli",
            columns=mapping,
            attributes=[h.strip() for h in attributes.split(",")] if attributes else None,
            dry_run=dry_run,
            accept_rejects=accept_rejects,
            progress=lambda message: click.echo(message, err=True),
        )
    except CustomerFileError as exc:
        raise BadInput(str(exc)) from exc
    for reject in report.rejects:
        click.echo(
            f"line {reject.line}: {reject.column or '(row)'}: {reject.reason}"
            + (f" [{reject.value}]" if reject.value else "")
        )
    click.echo(
        f"{report.filename}: sha256 {report.sha256}; {report.rows_total} rows, "
        f"{report.rows_valid} valid, {report.rows_rejected} rejected; "
        f"{report.rows_created} to create, {report.rows_updated} to update, "
        f"{report.rows_unchanged} unchanged"
    )
    if report.refused:
        database.session.rollback()
        raise BadInput(
            f"{report.rows_rejected} rows rejected: nothing imported. Correct the file, or "
            "import the valid rows with --accept-rejects"
        )
    if dry_run:
        database.session.rollback()
        click.echo("dry run: nothing imported")
        return
    database.session.commit()
    click.echo(f"imported (import {report.import_id})")


@customers.command("erase")
@click.option("--external-id")
@click.option("--email")
@click.option("--phone")
@with_appcontext
def customers_erase(external_id: str | None, email: str | None, phone: str | None) -> None:
    """Erase one customer wherever they appear (right to erasure)."""
    from flask import current_app

    from survey.extensions import db as database
    from survey.frame.suppressions import SuppressionError
    from survey.privacy.operations import ErasureError, erase_customer

    try:
        erased = erase_customer(database.session, secret_key=current_app.config["SECRET_KEY"],
                                external_id=external_id, email=email, phone=phone, actor="cli")
    except (ErasureError, SuppressionError) as exc:
        raise BadInput(str(exc)) from exc
    if not erased:
        raise BadInput("no customer matches")
    database.session.commit()
    click.echo(f"erased {erased} customer(s); their contacts are suppressed")


# Registered on `barometre` by `survey.cli`.
COMMANDS = (customers,)
