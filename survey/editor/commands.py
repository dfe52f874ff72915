"""Questionnaire definitions on the command line."""

from __future__ import annotations

from pathlib import Path

import click

from survey.clients.commands import client_option
from survey.commandline import BadInput, with_appcontext


@click.group()
def questionnaires() -> None:
    """Questionnaire definitions."""


@questionnaires.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def questionnaires_validate(files: tuple[str, ...]) -> None:
    """Check definition files and report every error with its place."""
    from questionnaires import validate_file

    errors = [error for file in files for error in validate_file(file)]
    for error in errors:
        click.echo(str(error), err=True)
    if errors:
        raise SystemExit(2)
    for file in files:
        click.echo(f"{file}: valid")


@questionnaires.command("list")
@with_appcontext
@client_option
def questionnaires_list() -> None:
    """List the templates, the drafts being written and the frozen versions."""
    from questionnaires import definition_sha256, get_bundled, list_bundled
    from survey.editor.operations import check_draft, list_drafts, list_versions
    from survey.extensions import db

    for bundled in list_bundled():
        sha256 = definition_sha256(get_bundled(bundled.key))
        click.echo(f"{bundled.key}\ttemplate\tversion {bundled.version}\t"
                   f"{'/'.join(bundled.languages)}\tsha256 {sha256[:12]}\t{bundled.title}")
    for draft in list_drafts(db.session):
        _, errors = check_draft(draft)
        state = f"{len(errors)} error(s)" if errors else "valid"
        title = draft.data.get("title") if isinstance(draft.data.get("title"), dict) else {}
        click.echo(f"{draft.key}\tdraft\t{state}\tupdated {draft.updated_at:%Y-%m-%d %H:%M}"
                   f"\t{next(iter(title.values()), '')}")
    for version in list_versions(db.session):
        if version.key in {bundled.key for bundled in list_bundled()}:
            continue
        click.echo(f"{version.key}\tversion {version.number}\t{version.version}\t"
                   f"sha256 {version.sha256[:12]}\t{version.title}")


@questionnaires.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@with_appcontext
@client_option
def questionnaires_import(file: str) -> None:
    """Freeze a definition file as a version of the questionnaire its `id` names."""
    from questionnaires import DefinitionInvalid
    from survey.editor.operations import EditorError, import_definition
    from survey.extensions import db

    try:
        version, new = import_definition(db.session, Path(file), actor="cli")
    except DefinitionInvalid as exc:
        for error in exc.errors:
            click.echo(str(error), err=True)
        raise SystemExit(2) from exc
    except EditorError as exc:
        raise BadInput(f"{file}: {exc}") from exc
    db.session.commit()
    said = "imported as" if new else "already frozen as"
    click.echo(f"{file}: {said} {version.key} version {version.number} sha256 {version.sha256}")


@questionnaires.command("export")
@click.argument("key")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False),
              help="The YAML file to write ('-' for standard output).")
@click.option("--version", "number", type=int, help="The version's number (default: latest).")
@with_appcontext
@client_option
def questionnaires_export(key: str, out: str, number: int | None) -> None:
    """Write a frozen version (or a template) as a YAML definition file."""
    from survey.editor.operations import EditorError, export_yaml
    from survey.extensions import db

    try:
        text = export_yaml(db.session, key, number)
    except EditorError as exc:
        raise BadInput(str(exc)) from exc
    if out == "-":
        click.echo(text, nl=False)
        return
    Path(out).write_text(text, encoding="utf-8")
    click.echo(f"wrote {out}")


# Registered on `barometre` by `survey.cli`.
COMMANDS = (questionnaires,)
