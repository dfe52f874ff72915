"""The customer base on the command line: import and erasure."""

from __future__ import annotations

import click

from survey.clients.commands import client_option
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
    "--variable",
    "variables",
    multiple=True,
    metavar="HEADER",
    help="Keep this column as a survey variable (a category: segment, channel, site…).",
)
@click.option("--ignore", "ignored", multiple=True, metavar="HEADER",
              help="Do not import this column.")
@click.option("--ignore-others", is_flag=True,
              help="Do not import any column that is neither a field nor a survey variable.")
@click.option(
    "--mapping",
    "mapping_file",
    type=click.Path(dir_okay=False),
    help='JSON file mapping each header to a field, "variable" or "ignore".',
)
@click.option(
    "--attributes",
    help="Comma-separated headers to keep as survey variables, ignoring every other column.",
)
@with_appcontext
@client_option
def customers_import(
    file: str,
    dry_run: bool,
    accept_rejects: bool,
    columns: tuple[str, ...],
    variables: tuple[str, ...],
    ignored: tuple[str, ...],
    ignore_others: bool,
    mapping_file: str | None,
    attributes: str | None,
) -> None:
    """Import (or update) customers from CSV or XLSX, all or nothing.

    Columns are read as customer fields by their usual names (or --column), as survey
    variables when declared (--variable, a declared variable, or a usual name such as segment,
    canal, site, region), or ignored (--ignore, --ignore-others). A column that is none of
    these refuses the file: undeclared columns are never stored.
    """
    from pathlib import Path

    from survey.extensions import db as database
    from survey.frame.importing import (
        CustomerFileError,
        UndeclaredColumnsError,
        import_customers,
    )

    mapping: dict[str, str] = {}
    variable_headers = list(variables)
    ignored_headers = list(ignored)
    if mapping_file:
        fields, file_variables, file_ignored, file_ignore_others = read_mapping_file(mapping_file)
        mapping.update(fields)
        variable_headers += file_variables
        ignored_headers += file_ignored
        ignore_others = ignore_others or file_ignore_others
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
            variables=variable_headers,
            ignore=ignored_headers,
            ignore_others=ignore_others,
            dry_run=dry_run,
            accept_rejects=accept_rejects,
            progress=lambda message: click.echo(message, err=True),
        )
    except UndeclaredColumnsError as exc:
        raise BadInput(
            f"{file}: {exc} (--variable HEADER for a survey variable, --ignore HEADER, or "
            "--ignore-others for every undeclared column)"
        ) from exc
    except CustomerFileError as exc:
        raise BadInput(str(exc)) from exc
    if report.mapping.attributes:
        click.echo("survey variables: " + ", ".join(
            f"{name} ({header})" for name, header in sorted(report.mapping.attributes.items())
        ))
    if report.mapping.ignored:
        click.echo("ignored columns (not stored): " + ", ".join(report.mapping.ignored))
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


MAPPING_KINDS = ("external_id", "email", "phone", "name", "language", "last_contact_on",
                 "variable", "ignore")


def read_mapping_file(path: str) -> tuple[dict[str, str], list[str], list[str], bool]:
    """(field → header, variable headers, ignored headers, ignore others) from a JSON file.

    The file reads ``{"columns": {"HEADER": "email" | … | "variable" | "ignore"},
    "ignore_others": false}``.
    """
    import json
    from pathlib import Path

    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise BadInput(f"{path}: cannot be read ({exc.strerror})") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadInput(f"{path}: not a JSON document ({exc})") from exc
    columns = document.get("columns") if isinstance(document, dict) else None
    if not isinstance(columns, dict) or not all(
        isinstance(header, str) and isinstance(kind, str) for header, kind in columns.items()
    ):
        raise BadInput(f'{path}: write {{"columns": {{"HEADER": "KIND", …}}}}')
    fields: dict[str, str] = {}
    variables: list[str] = []
    ignored: list[str] = []
    for header, kind in columns.items():
        if kind not in MAPPING_KINDS:
            raise BadInput(f"{path}: column {header!r}: {kind!r} is not one of "
                           f"{', '.join(MAPPING_KINDS)}")
        if kind == "variable":
            variables.append(header)
        elif kind == "ignore":
            ignored.append(header)
        elif kind in fields:
            raise BadInput(f"{path}: both {fields[kind]!r} and {header!r} are mapped to {kind}")
        else:
            fields[kind] = header
    ignore_others = document.get("ignore_others", False)
    if not isinstance(ignore_others, bool):
        raise BadInput(f"{path}: ignore_others is true or false")
    return fields, variables, ignored, ignore_others


@customers.command("variables")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@with_appcontext
@client_option
def customers_variables(as_json: bool) -> None:
    """List the declared survey variables of the customer base."""
    import json
    from dataclasses import asdict

    from survey.extensions import db as database
    from survey.frame.variables import frame_variables

    variables = frame_variables(database.session)
    if as_json:
        click.echo(json.dumps({"variables": [asdict(v) for v in variables]}, ensure_ascii=False))
        return
    if not variables:
        click.echo("no survey variable declared yet")
    for variable in variables:
        values = (", ".join(variable.allowed_values) if variable.allowed_values is not None
                  else f"any, at most {variable.max_levels} distinct")
        click.echo(f"{variable.name} ({variable.label}): {values}")


@customers.command("declare")
@click.argument("name")
@click.option("--label", help="The column's header, as customer files write it.")
@click.option("--values", help="Comma-separated values, the only ones accepted.")
@click.option("--max-levels", type=int, help="Most distinct values accepted (default 50).")
@with_appcontext
@client_option
def customers_declare(
    name: str, label: str | None, values: str | None, max_levels: int | None
) -> None:
    """Declare (or change) a survey variable of the customer base."""
    from survey.audit import record_event
    from survey.extensions import db as database
    from survey.frame.variables import VariableError, declare_variable

    try:
        variable = declare_variable(
            database.session, name, label,
            allowed_values=values.split(",") if values is not None else None,
            max_levels=max_levels,
        )  # fmt: skip
    except VariableError as exc:
        raise BadInput(str(exc)) from exc
    record_event(database.session, "customers.declare_variable", actor="cli",
                 object_type="survey_variable", object_id=variable.id,
                 summary={"name": variable.name, "allowed_values": variable.allowed_values,
                          "max_levels": variable.max_levels})
    database.session.commit()
    click.echo(f"survey variable {variable.name} declared")


@customers.command("erase")
@click.option("--external-id")
@click.option("--email")
@click.option("--phone")
@with_appcontext
@client_option
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
