"""Survey variables: the declared columns of the customer base (segment, channel, site…).

A customer file's columns are each one of: the identifier, a contact (email, phone, name —
personal data, purged), a field (language, last contact date), a **survey variable**, or
ignored. Only survey variables are stored on customers (`Customer.attributes`), copied into
invitations and reach exports, design files and reports; an ignored or undeclared column is
never stored. A survey variable is a category used for strata, calibration and domains: it has
few distinct values (`max_levels`, or a fixed list of `allowed_values`), and a column whose
values look like emails or phone numbers cannot be one.

Other packages (weighting, plans, reports) read the declared variables through
`frame_variables` only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.frame.reading import header_key
from survey.models import SurveyVariable
from survey.privacy.masking import looks_personal

#: Distinct values a survey variable may take unless declared otherwise: more makes it an
#: identifier or a free text, not a category to stratify or report on.
MAX_LEVELS = 50
#: The most a declaration may allow.
MAX_LEVELS_LIMIT = 1000

#: Column names taken as survey variables without a declaration, as the customer fields are
#: recognised by their usual names: the categories every centre splits its base by. Their
#: values are checked like any variable's.
USUAL_VARIABLES = frozenset({
    "segment", "canal", "channel", "site", "region", "agence", "agency", "produit", "product",
    "offre", "offer", "marche", "market", "type_client", "customer_type", "categorie",
    "category", "pays", "country", "activite", "business_unit", "centre", "center",
})


class VariableError(ValueError):
    """A column cannot be a survey variable, or a declaration is invalid; says why."""


@dataclass(frozen=True)
class FrameVariable:
    """One declared survey variable, as every other package sees it."""

    name: str  # the key in `Customer.attributes` and `Invitation.attributes`
    label: str  # the column's header as the customer file wrote it
    allowed_values: tuple[str, ...] | None  # None: any value, up to max_levels of them
    max_levels: int


def frame_variables(session: Session) -> list[FrameVariable]:
    """The declared survey variables, by name.

    The customer's `language` is a field, not a variable, but plans may stratify on it too.
    """
    return [
        FrameVariable(
            name=row.name,
            label=row.label,
            allowed_values=tuple(row.allowed_values) if row.allowed_values is not None else None,
            max_levels=row.max_levels,
        )
        for row in session.scalars(select(SurveyVariable).order_by(SurveyVariable.name))
    ]


def variable_name(header: str) -> str:
    """The name a column gets as a variable: ``"Type de client"`` → ``"type_de_client"``."""
    name = header_key(header)
    if not name:
        raise VariableError(f"column {header!r} has no letters or digits to name a variable")
    if len(name) > 100:
        raise VariableError(f"column {header[:40]!r}… is too long a name for a variable")
    return name


def check_values(
    variable: FrameVariable | None,
    name: str,
    header: str,
    values: Iterable[str],
    max_levels: int = MAX_LEVELS,
) -> None:
    """Refuse a column whose (distinct, non-blank) values cannot be a survey variable's.

    Raises `VariableError` when there are more than the variable's maximum number of levels,
    or when a value looks like an email or a phone number. `variable` is the declaration when
    there is one (its own maximum applies; allowed values are checked row by row elsewhere).
    """
    limit = variable.max_levels if variable is not None else max_levels
    distinct = {value for value in values if value}
    for value in sorted(distinct):
        kind = looks_personal(value)
        if kind is not None:
            what = "an email address" if kind == "email" else "a phone number"
            raise VariableError(
                f"column {header!r} holds {what} in some rows: a survey variable cannot hold "
                "personal data. Ignore the column, or map it to the customer's email or phone"
            )
    if len(distinct) > limit:
        raise VariableError(
            f"column {header!r} has {len(distinct)} distinct values: a survey variable has at "
            f"most {limit} (a category such as a segment or a channel). A column with that many "
            "values is an identifier or personal data: ignore it"
        )


def declare_variable(
    session: Session,
    name: str,
    label: str | None = None,
    *,
    allowed_values: Iterable[str] | None = None,
    max_levels: int | None = None,
) -> SurveyVariable:
    """Create or change the declaration of variable `name` (flushes; the caller commits)."""
    name = variable_name(name)
    if max_levels is not None and not 0 < max_levels <= MAX_LEVELS_LIMIT:
        raise VariableError(
            f"the maximum number of values of {name!r} must be between 1 and {MAX_LEVELS_LIMIT}"
        )
    values = None
    if allowed_values is not None:
        values = sorted({value.strip() for value in allowed_values if value.strip()})
        if not values:
            raise VariableError(f"the allowed values of {name!r} are empty")
        check_values(None, name, label or name, values, max_levels=MAX_LEVELS_LIMIT)
    row = session.scalar(select(SurveyVariable).where(SurveyVariable.name == name))
    if row is None:
        row = SurveyVariable(name=name, label=(label or name)[:200], max_levels=MAX_LEVELS)
        session.add(row)
    elif label:
        row.label = label[:200]
    if values is not None:
        row.allowed_values = values
        row.max_levels = max(row.max_levels, len(values))
    if max_levels is not None:
        row.max_levels = max_levels
    session.flush()
    return row


def declare_from_import(session: Session, variables: Mapping[str, str]) -> None:
    """Record the variables (name → header) an import stored, keeping existing declarations."""
    known = set(session.scalars(select(SurveyVariable.name)))
    for name, header in variables.items():
        if name not in known:
            session.add(SurveyVariable(name=name, label=header[:200], max_levels=MAX_LEVELS))
    session.flush()
