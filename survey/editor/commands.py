"""Questionnaire definitions on the command line."""

from __future__ import annotations

import click


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
def questionnaires_list() -> None:
    """List the bundled definitions."""
    from questionnaires import definition_sha256, get_bundled, list_bundled

    for bundled in list_bundled():
        sha256 = definition_sha256(get_bundled(bundled.key))
        click.echo(f"{bundled.key}\tversion {bundled.version}\t{'/'.join(bundled.languages)}\t"
                   f"sha256 {sha256[:12]}\t{bundled.title}")


# Registered on `barometre` by `survey.cli`.
COMMANDS = (questionnaires,)
