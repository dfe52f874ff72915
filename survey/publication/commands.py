"""`barometre criteria`: a programme's performance criteria and their monthly values."""

from __future__ import annotations

from pathlib import Path

import click

from survey.commandline import BadInput, with_appcontext


@click.group()
def criteria() -> None:
    """Performance criteria: define them, import their monthly values, list them."""


@criteria.command("define")
@click.argument("programme")
@click.argument("code")
@click.option("--label-fr", required=True, help="The criterion as French readers see it.")
@click.option("--label-en", required=True, help="The criterion as English readers see it.")
@click.option("--unit", required=True, type=click.Choice(["rate", "seconds", "days", "count"]))
@click.option("--target", required=True, type=float,
              help="The target, in the criterion's unit (a percentage for a rate).")
@click.option("--direction", required=True, type=click.Choice(["higher", "lower"]),
              help="Whether a higher or a lower value is better.")
@click.option("--item", help="The questionnaire item (question code) asking the customers "
              "about the same commitment.")
@with_appcontext
def define(programme: str, code: str, label_fr: str, label_en: str, unit: str, target: float,
           direction: str, item: str | None) -> None:
    """Define (or change) the criterion CODE of PROGRAMME (its name or id)."""
    from survey.extensions import db as database
    from survey.publication.criteria import (
        CriteriaError,
        define_criterion,
        get_programme,
        target_from_display,
    )

    try:
        found = get_programme(database.session, programme)
        criterion = define_criterion(
            database.session, found, code=code, label_fr=label_fr, label_en=label_en,
            unit=unit, target=target_from_display(unit, target), direction=direction,
            item=item, actor="cli",
        )  # fmt: skip
    except CriteriaError as exc:
        raise BadInput(str(exc)) from exc
    database.session.commit()
    click.echo(f"criterion {criterion.code} of {found.name}: target {target:g} "
               f"({unit}, {direction} is better)")


@criteria.command("import")
@click.argument("programme")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def import_(programme: str, file: Path) -> None:
    """Import monthly values from FILE (CSV: month, criterion, value, numerator, denominator).

    A file with any error is refused whole, each error named with its line and field."""
    from survey.extensions import db as database
    from survey.publication.criteria import CriteriaError, get_programme, import_criteria_file

    try:
        found = get_programme(database.session, programme)
        result = import_criteria_file(database.session, found, file.read_bytes(), file.name,
                                      actor="cli")
    except CriteriaError as exc:
        raise BadInput(str(exc)) from exc
    database.session.commit()
    click.echo(f"{file.name}: {result.created} months added, {result.updated} changed, "
               f"{result.unchanged} unchanged")


@criteria.command("list")
@click.argument("programme")
@click.option("--months", default=12, show_default=True, type=click.IntRange(1, 120),
              help="How many months, ending with the last month recorded.")
@with_appcontext
def list_(programme: str, months: int) -> None:
    """List the criteria of PROGRAMME with their last months against their targets."""
    from sqlalchemy import func, select

    from survey.extensions import db as database
    from survey.models import CriterionValue, PerformanceCriterion
    from survey.publication.criteria import (
        CriteriaError,
        criteria_table,
        get_programme,
        last_months,
    )

    try:
        found = get_programme(database.session, programme)
    except CriteriaError as exc:
        raise BadInput(str(exc)) from exc
    latest = database.session.scalar(
        select(func.max(CriterionValue.month)).join(PerformanceCriterion)
        .where(PerformanceCriterion.programme_id == found.id))
    from datetime import date

    until = date(int(latest[:4]), int(latest[5:]), 1) if latest else date.today()
    table = criteria_table(database.session, found, last_months(until, months))
    if not table:
        click.echo(f"{found.name}: no criterion defined")
        return

    def show(unit: str, value: float | None) -> str:
        if value is None:
            return "-"
        return f"{value * 100:.1f}%" if unit == "rate" else f"{value:g}"

    for row in table:
        click.echo(f"{row['code']}\t{row['label']['en']}\t{row['unit']}\ttarget "
                   f"{show(row['unit'], row['target'])} ({row['direction']} is better)\t"
                   f"item {row['item'] or '-'}")
        for month in row["months"]:
            if month["value"] is not None:
                mark = "met" if month["met"] else "missed"
                click.echo(f"  {month['month']}\t{show(row['unit'], month['value'])}\t{mark}")


# Registered on `barometre` by `survey.cli`.
COMMANDS = (criteria,)
