"""Performance criteria: define them per programme, record their monthly values (a CSV from
the telephony or ticketing tool, or a form), and read them against their targets.

A rate is a share of cases (calls answered within 60 s over calls offered): its file gives the
numerator and the denominator, and the stored value is their quotient. Targets and values of
rates are shares (0.8); the command line and the forms take and show percentages.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.audit import record_event
from survey.frame.reading import FileFormatError, decode_text, detect_delimiter
from survey.models import (
    CriterionDirection,
    CriterionUnit,
    CriterionValue,
    PerformanceCriterion,
    Programme,
)

CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")
MONTH_PATTERN = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
#: The columns of a criteria file; numerator and denominator are for rates only.
COLUMNS = ("month", "criterion", "value", "numerator", "denominator")
REQUIRED_COLUMNS = ("month", "criterion")
# A file's percentage may be rounded to 0.1 point by the tool that exported it.
RATE_TOLERANCE = 0.0006
MAX_ROWS = 100_000


class CriteriaError(ValueError):
    """A criterion or a value that cannot be recorded; the message says which field and why
    ("field: why", the command line's words). `reason` and `params` let a page say it in the
    reader's language (`survey.publication.views.PROBLEMS`)."""

    def __init__(self, message: str, reason: str | None = None, **params: object) -> None:
        super().__init__(message)
        self.reason = reason
        self.params = params

    @property
    def field(self) -> str:
        return str(self).partition(": ")[0]


@dataclass(frozen=True)
class LineError:
    line: int
    field: str
    message: str
    reason: str | None = None  # as `CriteriaError.reason`
    params: dict[str, object] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"line {self.line}, field {self.field}: {self.message}"


@dataclass(frozen=True)
class FileProblem:
    """What makes a whole file unusable (not one line's field)."""

    message: str
    reason: str
    params: dict[str, object] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


class CriteriaFileError(CriteriaError):
    """A criteria file refused whole: every error found, each with its line and field."""

    def __init__(self, filename: str, errors: Sequence[LineError | FileProblem]) -> None:
        self.filename = filename
        self.errors = list(errors)
        shown = "; ".join(str(e) for e in self.errors[:20])
        more = f" (and {len(self.errors) - 20} more)" if len(self.errors) > 20 else ""
        super().__init__(f"{filename}: refused, nothing imported: {shown}{more}")


@dataclass(frozen=True)
class ParsedValue:
    line: int
    month: str
    code: str
    value: float
    numerator: int | None
    denominator: int | None


@dataclass(frozen=True)
class ImportResult:
    filename: str
    created: int
    updated: int
    unchanged: int


def get_programme(session: Session, name_or_id: str | int) -> Programme:
    """A programme by its id or its exact name."""
    programme = None
    if isinstance(name_or_id, int) or str(name_or_id).isdigit():
        programme = session.get(Programme, int(name_or_id))
    if programme is None:
        programme = session.scalar(select(Programme).where(Programme.name == str(name_or_id)))
    if programme is None:
        raise CriteriaError(f"programme: no programme named {name_or_id!r}",
                            "unknown_programme", value=name_or_id)
    return programme


def criteria_of(session: Session, programme: Programme) -> list[PerformanceCriterion]:
    return list(session.scalars(
        select(PerformanceCriterion).where(PerformanceCriterion.programme_id == programme.id)
        .order_by(PerformanceCriterion.position, PerformanceCriterion.code)
    ).all())


def target_from_display(unit: str, target: float) -> float:
    """A target as typed (a percentage for a rate) as stored (a share)."""
    return target / 100 if unit == CriterionUnit.RATE.value else target


def define_criterion(
    session: Session,
    programme: Programme,
    *,
    code: str,
    label_fr: str,
    label_en: str,
    unit: str,
    target: float,
    direction: str,
    item: str | None = None,
    actor: str,
    actor_id: int | None = None,
) -> PerformanceCriterion:
    """Create the criterion `code` of `programme`, or change it (its values are kept).

    `target` is stored as given: a share for a rate (`target_from_display` converts a
    percentage)."""
    code = (code or "").strip()
    if not CODE_PATTERN.match(code):
        raise CriteriaError(f"code: {code!r} is not a criterion code (lower-case letters, "
                            "digits, '-' and '_', up to 50 characters)", "bad_code", value=code)
    if unit not in {u.value for u in CriterionUnit}:
        raise CriteriaError(f"unit: {unit!r} is not one of "
                            f"{', '.join(u.value for u in CriterionUnit)}", "bad_choice",
                            value=unit)
    if direction not in {d.value for d in CriterionDirection}:
        raise CriteriaError(f"direction: {direction!r} is not 'higher' or 'lower'",
                            "bad_choice", value=direction)
    label_fr, label_en = (label_fr or "").strip(), (label_en or "").strip()
    if not label_fr or not label_en:
        raise CriteriaError("label: the criterion needs a French and an English label",
                            "labels_missing")
    if len(label_fr) > 200 or len(label_en) > 200:
        raise CriteriaError("label: 200 characters at most", "label_too_long", max=200)
    if not math.isfinite(target) or target < 0:
        raise CriteriaError(f"target: {target!r} is not a number zero or above", "below_zero",
                            value=target)
    if unit == CriterionUnit.RATE.value and target > 1:
        raise CriteriaError(f"target: a rate's target is a percentage up to 100, not "
                            f"{target * 100:g}", "rate_target", value=target * 100)
    item = (item or "").strip() or None
    criterion = session.scalar(select(PerformanceCriterion).where(
        PerformanceCriterion.programme_id == programme.id, PerformanceCriterion.code == code))
    created = criterion is None
    if criterion is None:
        position = len(criteria_of(session, programme))
        criterion = PerformanceCriterion(programme_id=programme.id, code=code, position=position)
        session.add(criterion)
    elif criterion.unit != unit and criterion.values:
        raise CriteriaError(f"unit: criterion {code!r} has values in {criterion.unit}; "
                            "its unit cannot change", "unit_fixed", code=code)
    criterion.label_fr, criterion.label_en = label_fr, label_en
    criterion.unit, criterion.target, criterion.direction = unit, float(target), direction
    criterion.item = item
    session.flush()
    record_event(
        session, "criterion.define" if created else "criterion.change", actor=actor,
        actor_id=actor_id, object_type="programme", object_id=programme.id,
        summary={"criterion": criterion.id, "code": code, "unit": unit, "target": target,
                 "direction": direction, "item": item},
    )  # fmt: skip
    return criterion


def _number(text: str) -> float:
    """A number as a French or English export writes it (`87,5`, `87.5`, `1 234`)."""
    cleaned = text.strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    if cleaned.endswith("%"):
        cleaned = cleaned[:-1]
    if "," in cleaned and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    value = float(cleaned)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def _count(text: str) -> int:
    value = _number(text)
    if not value.is_integer() or value < 0:
        raise ValueError(text)
    return int(value)


def check_month(month: str) -> str:
    month = (month or "").strip()
    if not MONTH_PATTERN.match(month):
        raise CriteriaError(f"month: {month!r} is not a month written YYYY-MM", "bad_month",
                            value=month)
    return month


def checked_value(
    unit: str, value: str | float | None, numerator: str | int | None,
    denominator: str | int | None,
) -> tuple[float, int | None, int | None]:
    """The stored value (and counts) of one month, or `CriteriaError` naming the field.

    A rate needs its numerator and denominator; its `value`, when given, is a percentage that
    must agree with them. Another unit needs its value and no counts.
    """
    def given(cell: Any) -> bool:
        return cell is not None and str(cell).strip() != ""

    def parse(cell: Any, field: str, reader: Any) -> Any:
        try:
            return reader(str(cell))
        except ValueError:
            raise CriteriaError(f"{field}: {str(cell).strip()!r} is not a "
                                f"{'whole number' if reader is _count else 'number'}",
                                "not_a_whole_number" if reader is _count else "not_a_number",
                                value=str(cell).strip()) from None

    if unit == CriterionUnit.RATE.value:
        for field, cell in (("numerator", numerator), ("denominator", denominator)):
            if not given(cell):
                raise CriteriaError(f"{field}: a rate needs its numerator and denominator",
                                    "rate_needs_counts")
        top, bottom = parse(numerator, "numerator", _count), parse(denominator, "denominator",
                                                                   _count)
        if bottom == 0:
            raise CriteriaError("denominator: zero cases; leave the month out instead",
                                "zero_cases")
        if top > bottom:
            raise CriteriaError(f"numerator: {top} is more than the denominator {bottom}",
                                "numerator_too_big", top=top, bottom=bottom)
        share = top / bottom
        if given(value):
            percentage = parse(value, "value", _number)
            if abs(percentage / 100 - share) > RATE_TOLERANCE:
                raise CriteriaError(f"value: {percentage:g} % does not agree with "
                                    f"{top}/{bottom} = {share * 100:.1f} %", "rate_disagrees",
                                    value=percentage, top=top, bottom=bottom,
                                    share=round(share * 100, 1))
        return share, top, bottom
    for field, cell in (("numerator", numerator), ("denominator", denominator)):
        if given(cell):
            raise CriteriaError(f"{field}: only a rate has a numerator and denominator",
                                "counts_only_for_rates")
    if not given(value):
        raise CriteriaError("value: missing", "value_missing")
    number = parse(value, "value", _number)
    if number < 0:
        raise CriteriaError(f"value: {number:g} is below zero", "below_zero", value=number)
    if unit == CriterionUnit.COUNT.value and not number.is_integer():
        raise CriteriaError(f"value: {number:g} is not a whole count", "not_a_whole_number",
                            value=number)
    return number, None, None


def parse_criteria_file(
    data: bytes, filename: str, criteria: Mapping[str, PerformanceCriterion]
) -> list[ParsedValue]:
    """Every row of a criteria CSV, or `CriteriaFileError` with every error (line, field)."""
    try:
        text, _encoding = decode_text(data)
    except FileFormatError as error:
        raise CriteriaFileError(filename, [FileProblem(str(error), "unreadable_file")]
                                ) from error
    if not text.strip():
        raise CriteriaFileError(filename, [FileProblem("the file is empty", "empty_file")])
    first = next(line for line in text.splitlines() if line.strip())
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=detect_delimiter(first))
    rows: list[tuple[int, list[str]]] = []
    line = 1
    try:
        for record in reader:
            if "".join(record).strip():
                rows.append((line, record))
            line = reader.line_num + 1
    except csv.Error as error:
        raise CriteriaFileError(filename, [FileProblem(
            f"line {reader.line_num}: unreadable CSV ({error})", "unreadable_csv",
            {"line": reader.line_num})]) from error
    header_line, header = rows[0]
    names = [cell.strip().lower() for cell in header]
    errors: list[LineError | FileProblem] = []
    for name in names:
        if name not in COLUMNS:
            errors.append(LineError(header_line, name or "(empty)",
                                    f"unknown column (expected {', '.join(COLUMNS)})",
                                    "unknown_column", {"columns": ", ".join(COLUMNS)}))
    for name in REQUIRED_COLUMNS:
        if name not in names:
            errors.append(LineError(header_line, name, "column missing", "column_missing"))
    if "value" not in names and "numerator" not in names:
        errors.append(LineError(header_line, "value", "column missing", "column_missing"))
    if errors:
        raise CriteriaFileError(filename, errors)
    if len(rows) - 1 > MAX_ROWS:
        raise CriteriaFileError(filename, [FileProblem(f"more than {MAX_ROWS} rows",
                                                       "too_many_rows", {"max": MAX_ROWS})])
    parsed: list[ParsedValue] = []
    seen: dict[tuple[str, str], int] = {}
    for number, record in rows[1:]:
        cells = {name: (record[i].strip() if i < len(record) else "")
                 for i, name in enumerate(names)}
        if len(record) > len(names) and "".join(record[len(names):]).strip():
            errors.append(LineError(number, "(extra)", "more cells than columns", "extra_cells"))
            continue
        code = cells.get("criterion", "")
        criterion = criteria.get(code)
        if criterion is None:
            known = ", ".join(sorted(criteria)) or "none defined"
            errors.append(LineError(number, "criterion", f"{code!r} is not a criterion of the "
                                    f"programme ({known})", "unknown_criterion",
                                    {"value": code, "known": ", ".join(sorted(criteria))}))
            continue
        try:
            month = check_month(cells.get("month", ""))
        except CriteriaError as error:
            errors.append(LineError(number, "month", str(error).split(": ", 1)[1],
                                    error.reason, error.params))
            continue
        if (code, month) in seen:
            errors.append(LineError(number, "month", f"{code} {month} already on line "
                                    f"{seen[(code, month)]}", "duplicate_month",
                                    {"code": code, "month": month, "line": seen[(code, month)]}))
            continue
        seen[(code, month)] = number
        try:
            value, top, bottom = checked_value(criterion.unit, cells.get("value"),
                                               cells.get("numerator"), cells.get("denominator"))
        except CriteriaError as error:
            name, message = str(error).split(": ", 1)
            errors.append(LineError(number, name, message, error.reason, error.params))
            continue
        parsed.append(ParsedValue(number, month, code, value, top, bottom))
    if errors:
        raise CriteriaFileError(filename, errors)
    if not parsed:
        raise CriteriaFileError(filename, [FileProblem("no rows after the header", "no_rows")])
    return parsed


def _store(
    session: Session, criterion: PerformanceCriterion, month: str, value: float,
    numerator: int | None, denominator: int | None, source: str,
) -> str:
    existing = session.scalar(select(CriterionValue).where(
        CriterionValue.criterion_id == criterion.id, CriterionValue.month == month))
    if existing is None:
        session.add(CriterionValue(criterion_id=criterion.id, month=month, value=value,
                                   numerator=numerator, denominator=denominator, source=source))
        return "created"
    if (existing.value, existing.numerator, existing.denominator) == (value, numerator,
                                                                      denominator):
        return "unchanged"
    existing.value, existing.numerator, existing.denominator = value, numerator, denominator
    existing.source = source
    return "updated"


def import_criteria_file(
    session: Session, programme: Programme, data: bytes, filename: str, *, actor: str,
    actor_id: int | None = None,
) -> ImportResult:
    """Record every month of the file, or none (`CriteriaFileError`): a month already recorded
    takes the file's value."""
    criteria = {c.code: c for c in criteria_of(session, programme)}
    parsed = parse_criteria_file(data, filename, criteria)
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for row in parsed:
        counts[_store(session, criteria[row.code], row.month, row.value, row.numerator,
                      row.denominator, filename[-200:])] += 1
    session.flush()
    record_event(
        session, "criteria.import", actor=actor, actor_id=actor_id, object_type="programme",
        object_id=programme.id, summary={"file": filename[-200:], "rows": len(parsed), **counts},
    )  # fmt: skip
    return ImportResult(filename, counts["created"], counts["updated"], counts["unchanged"])


def record_value(
    session: Session, criterion: PerformanceCriterion, month: str, *, value: str | None,
    numerator: str | None = None, denominator: str | None = None, actor: str,
    actor_id: int | None = None,
) -> CriterionValue:
    """Record one month typed in a form (`CriteriaError` names the field)."""
    month = check_month(month)
    stored, top, bottom = checked_value(criterion.unit, value, numerator, denominator)
    _store(session, criterion, month, stored, top, bottom, "form")
    session.flush()
    record_event(
        session, "criteria.value", actor=actor, actor_id=actor_id,
        object_type="programme", object_id=criterion.programme_id,
        summary={"criterion": criterion.code, "month": month, "value": stored,
                 "numerator": top, "denominator": bottom},
    )  # fmt: skip
    return session.scalars(select(CriterionValue).where(
        CriterionValue.criterion_id == criterion.id, CriterionValue.month == month)).one()


# --- reading them against their targets --------------------------------------------------------


def months_between(first: str, last: str) -> list[str]:
    """Every month from `first` to `last` included, as YYYY-MM."""
    year, month = int(first[:4]), int(first[5:])
    end = (int(last[:4]), int(last[5:]))
    out = []
    while (year, month) <= end:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def last_months(until: date, count: int = 12) -> list[str]:
    """The `count` months ending with the month of `until`."""
    year, month = until.year, until.month
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return out[::-1]


def meets(direction: str, value: float | None, target: float) -> bool | None:
    if value is None:
        return None
    # Rounded the way the page shows it, so that "80.0 %" against a target of 80 % is met.
    value, target = round(value, 9), round(target, 9)
    return value >= target if direction == CriterionDirection.HIGHER.value else value <= target


def period_value(criterion: PerformanceCriterion, values: Iterable[CriterionValue]
                 ) -> float | None:
    """The criterion over several months: a rate pools its counts (the sum of numerators over
    the sum of denominators); other units take the mean of the months (a count, their total)."""
    values = list(values)
    if not values:
        return None
    if criterion.unit == CriterionUnit.RATE.value:
        bottom = sum(v.denominator or 0 for v in values)
        return sum(v.numerator or 0 for v in values) / bottom if bottom else None
    if criterion.unit == CriterionUnit.COUNT.value:
        return float(sum(v.value for v in values))
    return sum(v.value for v in values) / len(values)


def criteria_table(
    session: Session, programme: Programme, months: Sequence[str]
) -> list[dict[str, Any]]:
    """Each criterion with its value, and whether it met its target, month by month over
    `months`, and over the whole period (JSON-ready: the open data publishes it as it is)."""
    rows = []
    wanted = set(months)
    for criterion in criteria_of(session, programme):
        by_month = {v.month: v for v in criterion.values if v.month in wanted}
        period = period_value(criterion, by_month.values())
        rows.append({
            "code": criterion.code,
            "label": {"fr": criterion.label_fr, "en": criterion.label_en},
            "unit": criterion.unit,
            "target": criterion.target,
            "direction": criterion.direction,
            "item": criterion.item,
            "months": [
                {
                    "month": month,
                    "value": by_month[month].value if month in by_month else None,
                    "numerator": by_month[month].numerator if month in by_month else None,
                    "denominator": by_month[month].denominator if month in by_month else None,
                    "met": meets(criterion.direction,
                                 by_month[month].value if month in by_month else None,
                                 criterion.target),
                }
                for month in months
            ],
            "period": {"value": period, "met": meets(criterion.direction, period,
                                                      criterion.target),
                       "months_met": sum(1 for m in months if m in by_month and meets(
                           criterion.direction, by_month[m].value, criterion.target)),
                       "months_measured": len(by_month)},
        })
    return rows
