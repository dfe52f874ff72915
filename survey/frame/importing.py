"""Importing the customer base: map the columns, validate every row, then write all or nothing.

The rules, as the report states them:

- **Columns.** Each field (external id, email, phone, name, language, last contact date) is
  read from the column whose header matches one of its French or English names (`SYNONYMS`,
  compared without accents or case), unless a mapping says otherwise. Every other column must
  be declared: a *survey variable* (segment, channel, site…: a declared variable of the base,
  one of the usual names of `survey.frame.variables.USUAL_VARIABLES`, or named by the import),
  stored under its header in `header_key` form, or *ignored*. Undeclared columns refuse the
  file, naming them; ignored columns are never stored. A survey variable has few distinct
  values and none that looks like an email or a phone number (`survey.frame.variables`), since
  variables reach invitations, exports and reports.
- **Rows.** The external id is required (100 characters at most). An email must have a valid
  syntax (`email-validator`, no network) and is stored normalised and lowercased; a phone
  number must be valid for `phonenumbers` (France by default) and is stored in E.164; a date is
  ISO (``2025-04-25``) or French day-first (``25/04/2025``), an optional time after it being
  ignored, and not in the future; the language is French or English (``fr``, ``en``,
  ``français``, ``English``…; blank means French). A customer without email or phone is
  accepted: the frame will exclude them for want of a contact.
- **Duplicates.** The first row wins: a later row repeating the external id, the email or the
  phone of an earlier valid row is rejected, naming that row's line; so is a row whose email
  or phone belongs to another customer already in the base and absent from the file.
- **All or nothing.** If any row is rejected nothing is written, unless the rejects are
  accepted, in which case the valid rows are imported and the rejects recorded. Everything is
  written in one transaction that the caller commits: a crash leaves the base as it was.
- **Re-import.** Customers are matched on the external id: new ones are created, known ones
  updated (their fields and attributes replaced by the file's), and every customer the file
  names is linked to the import (`CustomerImportTouch`: created, updated or unchanged).
  Customers the file does not name are left as they are: an import never deletes.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from survey.audit import record_event
from survey.clients.scope import client_scope, effective_client_id
from survey.frame.bulk import bulk_insert, timestamp_text
from survey.frame.contacts import (
    ContactError,
    fast_email,
    fast_phone,
    mask_email,
    mask_phone,
    mask_text,
    normalise_email,
    normalise_phone,
)
from survey.frame.reading import XLSX_MAGIC, FileFormatError, Table, header_key, read_table
from survey.frame.variables import (
    MAX_LEVELS_LIMIT,
    USUAL_VARIABLES,
    FrameVariable,
    VariableError,
    check_values,
    declare_from_import,
    frame_variables,
)
from survey.models import Customer, CustomerImport, utcnow

FIELDS = ("external_id", "email", "phone", "name", "language", "last_contact_on")
PERSONAL_FIELDS = {"email": mask_email, "phone": mask_phone, "name": mask_text}

SYNONYMS: dict[str, tuple[str, ...]] = {
    "external_id": (
        "external_id", "id", "customer_id", "client_id", "id_client", "identifiant",
        "identifiant_client", "numero_client", "num_client", "no_client", "n_client",
        "code_client", "ref_client", "reference_client", "customer_number", "customer_ref",
    ),
    "email": (
        "email", "e_mail", "mail", "courriel", "adresse_email", "adresse_mail",
        "adresse_e_mail", "email_address",
    ),
    "phone": (
        "phone", "telephone", "tel", "mobile", "portable", "numero_de_telephone",
        "telephone_mobile", "tel_mobile", "gsm", "phone_number", "mobile_phone", "cell",
    ),
    "name": ("name", "nom", "full_name", "nom_complet", "customer_name", "nom_client"),
    "language": ("language", "lang", "langue", "locale", "preferred_language"),
    "last_contact_on": (
        "last_contact", "last_contact_date", "last_contact_on", "date_dernier_contact",
        "dernier_contact", "date_de_dernier_contact", "date_du_dernier_contact", "date_contact",
    ),
}

LANGUAGES = {
    "fr": "fr", "fra": "fr", "fre": "fr", "francais": "fr", "français": "fr", "french": "fr",
    "en": "en", "eng": "en", "anglais": "en", "english": "en",
}

_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?")
_FRENCH_DATE = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?: .*)?")


#: What `import_customers` does in turn, as reported to its `on_stage` callback: check every
#: row of the file, compare the valid ones with the base, write (unless refused or a dry run).
IMPORT_STAGES = ("checking", "comparing", "writing")


class CustomerFileError(ValueError):
    """The file cannot be imported at all (format, columns, mapping); the message says why."""


class UndeclaredColumnsError(CustomerFileError):
    """Columns that are neither a customer field nor a survey variable, and not ignored."""

    def __init__(self, columns: Sequence[str]):
        self.columns = list(columns)
        super().__init__(
            f"the file has columns that are not declared: {', '.join(map(repr, self.columns))}. "
            "Declare each as a survey variable (a category such as a segment or a channel) or "
            "ignore it: a column that is not declared is never stored"
        )


@dataclass(frozen=True)
class ColumnMapping:
    """Which header each field and survey variable is read from, and the ignored headers."""

    fields: dict[str, str]  # field → header
    attributes: dict[str, str]  # survey variable name → header
    ignored: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"fields": dict(self.fields), "attributes": dict(self.attributes),
                "ignored": list(self.ignored)}


@dataclass(frozen=True)
class Reject:
    """One problem of one row: where (line of the file, column header), what, and why."""

    line: int
    column: str
    value: str  # masked when the column holds personal data
    reason: str


@dataclass
class ImportReport:
    """What an import found and did; `refused` when rejects were not accepted."""

    filename: str
    sha256: str
    file_format: str
    encoding: str | None
    delimiter: str | None
    mapping: ColumnMapping
    rows_total: int = 0
    rows_valid: int = 0
    rows_rejected: int = 0
    rows_created: int = 0
    rows_updated: int = 0
    rows_unchanged: int = 0
    rejects: list[Reject] = field(default_factory=list)
    dry_run: bool = False
    rejects_accepted: bool = False
    imported: bool = False
    import_id: int | None = None

    @property
    def refused(self) -> bool:
        """Rows were rejected and not accepted: nothing was (or would be) imported."""
        return self.rows_rejected > 0 and not self.rejects_accepted

    def as_dict(self) -> dict[str, Any]:
        report = asdict(self)
        report["mapping"] = self.mapping.as_dict()
        report["refused"] = self.refused
        return report


# --- mapping --------------------------------------------------------------------------------


def default_mapping(
    headers: Sequence[str],
    overrides: Mapping[str, str] | None = None,
    attributes: Sequence[str] | None = None,
    *,
    variables: Sequence[str] = (),
    ignore: Sequence[str] = (),
    ignore_others: bool = False,
    declared: Iterable[str] = (),
) -> ColumnMapping:
    """Map fields to headers by name, then apply `overrides` (field → header as written).

    Every other header is a survey variable when `variables` names it, when its name is a
    `declared` variable of the base or one of `USUAL_VARIABLES`; it is ignored when `ignore`
    names it or `ignore_others` is set. `attributes` (the older form) lists the variables and
    ignores every other column. Raises `UndeclaredColumnsError` naming the columns left over,
    and `CustomerFileError` when a field or header is unknown, when no column gives the
    external id, or none gives an email or a phone.
    """
    if attributes is not None:
        variables, ignore_others = list(attributes), True
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(FIELDS))
    if unknown:
        raise CustomerFileError(
            f"unknown fields {unknown} in the mapping; fields are {list(FIELDS)}"
        )
    for kind, named in (("survey variable", variables), ("ignored column", ignore)):
        missing = [header for header in named if header not in headers]
        if missing:
            raise CustomerFileError(
                f"{kind}s {', '.join(map(repr, missing))} are not columns of the file "
                f"(columns: {', '.join(headers)})"
            )
    both = sorted(set(variables) & set(ignore))
    if both:
        raise CustomerFileError(f"columns {both} are both a survey variable and ignored")
    by_key = {header_key(header): header for header in headers}
    fields: dict[str, str] = {}
    for name in FIELDS:
        if name in overrides:
            if overrides[name] not in headers:
                raise CustomerFileError(
                    f"the mapping reads {name} from column {overrides[name]!r}, which the file "
                    f"does not have (columns: {', '.join(headers)})"
                )
            fields[name] = overrides[name]
            continue
        for synonym in SYNONYMS[name]:
            if (synonym in by_key and by_key[synonym] not in fields.values()
                    and by_key[synonym] not in variables and by_key[synonym] not in ignore):
                fields[name] = by_key[synonym]
                break
    if "external_id" not in fields:
        raise CustomerFileError(
            "no column gives the customer's external id: name one "
            f"{', '.join(SYNONYMS['external_id'][:6])}… or map it (columns found: "
            f"{', '.join(headers)})"
        )
    if "email" not in fields and "phone" not in fields:
        raise CustomerFileError(
            "no column gives an email or a phone number: name one email/courriel or "
            f"phone/téléphone, or map it (columns found: {', '.join(headers)})"
        )
    mapped = {header: name for name, header in fields.items()}
    clash = [header for header in (*variables, *ignore) if header in mapped]
    if clash:
        raise CustomerFileError(
            f"column {clash[0]!r} gives the customer's {mapped[clash[0]].replace('_', ' ')}: it "
            "cannot be a survey variable nor ignored"
        )
    known = set(declared) | USUAL_VARIABLES
    kept: list[str] = []
    ignored: list[str] = []
    undeclared: list[str] = []
    for header in headers:
        if header in mapped:
            continue
        if header in ignore:
            ignored.append(header)
        elif header in variables or header_key(header) in known:
            kept.append(header)
        elif ignore_others:
            ignored.append(header)
        else:
            undeclared.append(header)
    if undeclared:
        raise UndeclaredColumnsError(undeclared)
    names: dict[str, str] = {}
    for header in kept:
        name = header_key(header) or "column"
        if name == "language":
            raise CustomerFileError(
                f"column {header!r} cannot be a survey variable: 'language' is the customer's "
                "language field"
            )
        if name in names:
            raise CustomerFileError(
                f"columns {names[name]!r} and {header!r} would both be survey variable {name!r}"
            )
        names[name] = header
    return ColumnMapping(fields=fields, attributes=names, ignored=tuple(ignored))


# --- validation -----------------------------------------------------------------------------


@dataclass
class _Validation:
    rows_total: int
    # The valid rows: (line, external_id, email, phone, name, language, last contact as ISO
    # text, attributes as canonical JSON text), ready for the database.
    rows: list[tuple[Any, ...]]
    rejects: list[Reject]
    # The distinct values of each survey variable (name → values), for `check_values`.
    variable_values: dict[str, set[str]] = field(default_factory=dict)


def _masked(field_name: str, value: str) -> str:
    value = value if len(value) <= 60 else value[:57] + "…"
    masker = PERSONAL_FIELDS.get(field_name)
    return masker(value) if masker else value


def _attributes_json(attributes: Mapping[str, Any]) -> str:
    """Canonical JSON text of the attributes: what is stored, and what re-imports compare."""
    return json.dumps(attributes, sort_keys=True, ensure_ascii=False)


class _AttributesWriter:
    """`_attributes_json` of a row's variable cells, computed once per distinct combination,
    with the row's problems (a value not among a variable's allowed values).

    Variables (segment, channel, site…) take few values, so a million rows have a few dozen
    combinations: remembering them saves a JSON encoding per row. The distinct values of each
    variable are collected on the way, for `check_values`.
    """

    def __init__(
        self,
        columns: Sequence[tuple[str, int]],
        headers: Mapping[str, str] | None = None,
        allowed: Mapping[str, frozenset[str]] | None = None,
    ):
        self.columns = sorted(columns)
        self.indexes = [index for _, index in self.columns]
        self.headers = dict(headers or {})
        self.allowed = dict(allowed or {})
        self.seen: dict[tuple[str, ...], tuple[str, tuple[tuple[str, str, str], ...]]] = {}
        self.values: dict[str, set[str]] = {name: set() for name, _ in self.columns}

    def __call__(self, cells: Sequence[str]) -> tuple[str, tuple[tuple[str, str, str], ...]]:
        values = tuple([cells[index] for index in self.indexes])
        known = self.seen.get(values)
        if known is None:
            attributes = {
                name: value.strip()
                for (name, _), value in zip(self.columns, values, strict=True)
                if value.strip()
            }
            problems = []
            for name, value in attributes.items():
                distinct = self.values[name]
                if len(distinct) <= MAX_LEVELS_LIMIT:
                    distinct.add(value)
                if name in self.allowed and value not in self.allowed[name]:
                    problems.append((
                        self.headers.get(name, name), value,
                        f"{value!r} is not a value of survey variable {name!r} (allowed: "
                        f"{', '.join(sorted(self.allowed[name]))})",
                    ))  # fmt: skip
            known = (_attributes_json(attributes), tuple(problems))
            if len(self.seen) < 100_000:
                self.seen[values] = known
        return known


class _DateReader:
    """ISO or French day-first dates as ISO text; remembers the few distinct values of a file."""

    def __init__(self, today: date):
        self.today = today
        self.seen: dict[str, tuple[str | None, str | None]] = {}

    def __call__(self, raw: str) -> tuple[str | None, str | None]:
        """(ISO date, None) or (None, the reason it is not accepted)."""
        if raw not in self.seen:
            self.seen[raw] = self._read(raw)
        return self.seen[raw]

    def _read(self, raw: str) -> tuple[str | None, str | None]:
        if match := _ISO_DATE.fullmatch(raw):
            year, month, day = match.group(1, 2, 3)
        elif match := _FRENCH_DATE.fullmatch(raw):
            day, month, year = match.group(1, 2, 3)
        else:
            return None, "not a date: write 2025-04-25 or 25/04/2025 (day first)"
        try:
            value = date(int(year), int(month), int(day))
        except ValueError:
            return None, "not a date: no such day"
        if value > self.today:
            return None, "the date is in the future"
        return value.isoformat(), None


def _language(raw: str) -> str | None:
    """``fr`` or ``en`` from a language cell (``fr-FR``, ``Français``, ``EN``…); None if other.

    A blank cell means French, the centre's language.
    """
    if not raw:
        return "fr"
    return LANGUAGES.get(raw.lower().replace("_", "-").split("-")[0])


# The common spellings, looked up before `_language` (one dictionary access per row).
_LANGUAGE_OF = {"": "fr", "fr": "fr", "en": "en", "FR": "fr", "EN": "en"}


#: How often `validate_rows` reports the rows it has checked: rarely enough that the report
#: costs nothing next to the rows' checks, often enough for a progress bar (a second or less).
ROWS_PER_PROGRESS = 10_000


def validate_rows(
    table: Table,
    mapping: ColumnMapping,
    today: date,
    on_rows: Callable[[int], None] | None = None,
    declared: Mapping[str, FrameVariable] | None = None,
) -> _Validation:
    """Check and normalise every row, in one pass; the valid rows and one `Reject` per problem.

    `declared` gives the declared survey variables, whose allowed values are checked per row.

    Duplicates are decided here too, in file order: the first valid row wins. `on_rows`, when
    given, is called with the number of rows read so far every `ROWS_PER_PROGRESS` rows.
    """
    width = len(table.headers)
    position = {header: index for index, header in enumerate(table.headers)}
    column = {name: position[header] for name, header in mapping.fields.items()}
    declared = declared or {}
    attributes_json = _AttributesWriter(
        [(name, position[header]) for name, header in mapping.attributes.items()],
        headers=mapping.attributes,
        allowed={
            name: frozenset(declared[name].allowed_values or ())
            for name in mapping.attributes
            if name in declared and declared[name].allowed_values is not None
        },
    )
    i_id, i_email, i_phone = column["external_id"], column.get("email"), column.get("phone")
    i_name, i_language = column.get("name"), column.get("language")
    i_date = column.get("last_contact_on")
    read_date = _DateReader(today)
    first_line: dict[str, dict[str, int]] = {"external_id": {}, "email": {}, "phone": {}}
    rows: list[tuple[Any, ...]] = []
    rejects: list[Reject] = []
    total = 0

    next_report = ROWS_PER_PROGRESS if on_rows is not None else -1
    for line, cells in table.rows:
        total += 1
        if total == next_report:
            on_rows(total)  # type: ignore[misc]  # set whenever next_report can be reached
            next_report += ROWS_PER_PROGRESS
        if len(cells) != width:
            if len(cells) > width and not any(cell.strip() for cell in cells[width:]):
                cells = cells[:width]  # trailing separators, as some exports write
            else:
                rejects.append(
                    Reject(line, "", "", f"the line has {len(cells)} fields, the header {width}")
                )
                continue
        problems: list[tuple[str, str, str]] = []  # (field, raw value, reason)

        external_id = cells[i_id].strip()
        if not external_id:
            problems.append(("external_id", "", "the external id is required"))
        elif len(external_id) > 100:
            problems.append(("external_id", external_id, "the external id is longer than 100 "
                             "characters"))
        email = phone = name = contact_on = None
        if i_email is not None and (raw := cells[i_email].strip()):
            email = fast_email(raw)
            if email is None:
                try:
                    email = normalise_email(raw)
                except ContactError as exc:
                    problems.append(("email", raw, f"invalid email: {exc}"))
        if i_phone is not None and (raw := cells[i_phone].strip()):
            phone = fast_phone(raw)
            if phone is None:
                try:
                    phone = normalise_phone(raw)
                except ContactError as exc:
                    problems.append(("phone", raw, f"invalid phone number: {exc}"))
        if i_name is not None and (raw := cells[i_name].strip()):
            name = raw
            if len(raw) > 200:
                problems.append(("name", raw, "the name is longer than 200 characters"))
        raw = cells[i_language].strip() if i_language is not None else ""
        language = _LANGUAGE_OF.get(raw) or _language(raw)
        if language is None:
            problems.append(("language", raw, "the language must be French (fr) or English (en)"))
        if i_date is not None and (raw := cells[i_date].strip()):
            contact_on, reason = read_date(raw)
            if reason:
                problems.append(("last_contact_on", raw, reason))
        attributes_text, variable_problems = attributes_json(cells)
        if variable_problems:
            problems += variable_problems
        if not problems:
            for name_of, value in (("external_id", external_id), ("email", email),
                                   ("phone", phone)):
                if value is not None and value in first_line[name_of]:
                    label = name_of.replace("_", " ")
                    problems.append((name_of, value, f"duplicate {label}: already on line "
                                     f"{first_line[name_of][value]} (the first row wins)"))
                    break
        if problems:
            rejects += [
                Reject(line, mapping.fields.get(field_name, field_name),
                       _masked(field_name, raw_value), reason)
                for field_name, raw_value, reason in problems
            ]
            continue
        first_line["external_id"][external_id] = line
        if email is not None:
            first_line["email"][email] = line
        if phone is not None:
            first_line["phone"][phone] = line
        rows.append((line, external_id, email, phone, name, language, contact_on,
                     attributes_text))
    return _Validation(total, rows, rejects, attributes_json.values)


# --- writing --------------------------------------------------------------------------------

# What an import compares and writes, in the order of the validated rows after the line and
# the external id.
_WRITTEN = ("email", "phone", "name", "language", "last_contact_on", "attributes")


def _existing_customers(session: Session, client_id: int) -> dict[str, tuple[Any, ...]]:
    """external_id → (id, *_WRITTEN as text) of the client's customers, the same text the
    import writes."""
    result = session.execute(
        text(
            "SELECT external_id, id, email, phone, name, language, "
            "CAST(last_contact_on AS TEXT), CAST(attributes AS TEXT) FROM customer "
            "WHERE client_id = :client_id"
        ),
        {"client_id": client_id},
    )
    return {row[0]: tuple(row[1:]) for row in result}


def _reject_conflicts_with_base(
    validation: _Validation, existing: Mapping[str, tuple[Any, ...]], mapping: ColumnMapping
) -> list[tuple[Any, ...]]:
    """Drop (and report) rows whose email or phone belongs to a customer absent from the file."""
    if not existing:
        return validation.rows
    in_file = {row[1] for row in validation.rows}
    owners: dict[str, dict[str, str]] = {"email": {}, "phone": {}}
    for external_id, (_, email, phone, *_rest) in existing.items():
        if external_id not in in_file:
            if email:
                owners["email"][email] = external_id
            if phone:
                owners["phone"][phone] = external_id
    kept = []
    for row in validation.rows:
        clash = next(
            ((name, row[i]) for name, i in (("email", 2), ("phone", 3))
             if row[i] is not None and row[i] in owners[name]),
            None,
        )
        if clash is None:
            kept.append(row)
            continue
        name, value = clash
        validation.rejects.append(
            Reject(row[0], mapping.fields.get(name, name), _masked(name, value),
                   f"this {name} belongs to customer {owners[name][value]}, already in the base "
                   "and absent from the file")
        )
    return kept


def import_customers(session: Session, data: bytes, filename: str, **options: Any) -> ImportReport:
    """Import a customer file into the current client's base (see `_import_customers`): the
    base an import compares with and writes to is one client's, whoever runs it."""
    client_id = effective_client_id(session)
    with client_scope(client_id):
        return _import_customers(session, data, filename, client_id=client_id, **options)


def _import_customers(
    session: Session,
    data: bytes,
    filename: str,
    *,
    client_id: int,
    actor: str,
    actor_id: int | None = None,
    columns: Mapping[str, str] | None = None,
    attributes: Sequence[str] | None = None,
    variables: Sequence[str] = (),
    ignore: Sequence[str] = (),
    ignore_others: bool = False,
    dry_run: bool = False,
    accept_rejects: bool = False,
    today: date | None = None,
    progress: Callable[[str], None] | None = None,
    on_rows: Callable[[int], None] | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> ImportReport:
    """Validate the file and, unless refused or a dry run, create and update its customers.

    Columns are mapped by `default_mapping` (`columns`, `variables`, `ignore`, `ignore_others`,
    `attributes`), with the base's declared survey variables. Returns the report in every
    case. Raises `CustomerFileError` (a ValueError) when the file as a whole cannot be read or
    mapped, or when a survey variable's values cannot be one's (`check_values`). Writes
    nothing when `dry_run`, or when rows are rejected and `accept_rejects` is false;
    otherwise writes everything in the caller's transaction, which commits once.

    Three optional callbacks follow the work: `progress` receives sentences for a person
    (the command line prints them), `on_rows` the number of rows checked so far (see
    `validate_rows`), `on_stage` each of `IMPORT_STAGES` as it begins (a background job shows
    them).
    """
    say = progress or (lambda message: None)
    stage = on_stage or (lambda name: None)
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        stage("checking")
        table = read_table(data, filename)
        declared = {variable.name: variable for variable in frame_variables(session)}
        mapping = default_mapping(table.headers, columns, attributes, variables=variables,
                                  ignore=ignore, ignore_others=ignore_others, declared=declared)
        validation = validate_rows(table, mapping, today or date.today(), on_rows, declared)
        for name, header in mapping.attributes.items():
            check_values(declared.get(name), name, header, validation.variable_values[name])
    except (FileFormatError, VariableError) as exc:
        raise CustomerFileError(f"{filename}: {exc}") from exc
    file_format, encoding, delimiter = table.file_format, table.encoding, table.delimiter
    del table
    if validation.rows_total == 0:
        raise CustomerFileError(f"{filename}: the file has a header line but no customer rows")
    say(f"read and checked {validation.rows_total} rows")
    stage("comparing")
    if session.get_bind().dialect.name == "postgresql":
        # One import at a time: the base an import checks against is the one it writes to.
        session.execute(text("SELECT pg_advisory_xact_lock(7263)"))
    existing = _existing_customers(session, client_id)
    valid = _reject_conflicts_with_base(validation, existing, mapping)
    plan = _plan_writes(valid, existing)
    rejects = sorted(validation.rejects, key=lambda r: r.line)
    report = ImportReport(
        filename=filename[-255:],
        sha256=sha256,
        file_format=file_format,
        encoding=encoding,
        delimiter=delimiter,
        mapping=mapping,
        rows_total=validation.rows_total,
        rows_valid=len(valid),
        rows_rejected=len({reject.line for reject in rejects}),
        rows_created=len(plan.created),
        rows_updated=len(plan.updated),
        rows_unchanged=len(plan.unchanged),
        rejects=rejects,
        dry_run=dry_run,
        rejects_accepted=accept_rejects,
    )
    say(f"{report.rows_valid} valid rows, {report.rows_rejected} rejected")
    if dry_run or report.refused:
        return report

    say("writing")
    stage("writing")
    customer_import = CustomerImport(
        filename=report.filename,
        sha256=sha256,
        rows_total=report.rows_total,
        rows_created=report.rows_created,
        rows_updated=report.rows_updated,
        rows_unchanged=report.rows_unchanged,
        rows_rejected=report.rows_rejected,
        rejects_accepted=accept_rejects,
        rejects=[asdict(reject) for reject in report.rejects],
        mapping=mapping.as_dict(),
        user_id=actor_id,
    )
    session.add(customer_import)
    session.flush()
    declare_from_import(session, mapping.attributes)
    _write(session, customer_import.id, client_id, plan, say)
    record_event(
        session,
        "customers.import",
        actor=actor,
        actor_id=actor_id,
        object_type="customer_import",
        object_id=customer_import.id,
        summary={
            "sha256": sha256,
            "rows_total": report.rows_total,
            "created": report.rows_created,
            "updated": report.rows_updated,
            "unchanged": report.rows_unchanged,
            "rejected": report.rows_rejected,
            "rejects_accepted": accept_rejects,
            "variables": sorted(mapping.attributes),
            "ignored_columns": len(mapping.ignored),
        },
    )
    report.imported = True
    report.import_id = customer_import.id
    return report


@dataclass
class _WritePlan:
    created: list[tuple[Any, ...]]  # (external_id, *_WRITTEN)
    updated: list[tuple[Any, ...]]  # (id, *_WRITTEN)
    unchanged: list[int]  # customer ids


def _plan_writes(valid: list[tuple[Any, ...]], existing: Mapping[str, tuple[Any, ...]]):
    created, updated, unchanged = [], [], []
    for row in valid:
        values = row[2:]
        known = existing.get(row[1])
        if known is None:
            created.append(row[1:])
        elif tuple(known[1:]) == values:
            unchanged.append(known[0])
        else:
            updated.append((known[0], *values))
    return _WritePlan(created, updated, unchanged)


def _bulk_update(session: Session, rows: list[tuple[Any, ...]], updated_at: str) -> None:
    """Set `_WRITTEN` and updated_at of customers by id; rows are (id, *_WRITTEN)."""
    if not rows:
        return
    connection = session.connection()
    assignments = ", ".join(f"{name} = ?" for name in (*_WRITTEN, "updated_at"))
    if connection.dialect.name != "postgresql":
        connection.exec_driver_sql(
            f"UPDATE customer SET {assignments} WHERE id = ?",  # noqa: S608 - constant names
            [(*row[1:], updated_at, row[0]) for row in rows],
        )
        return
    connection.exec_driver_sql("DROP TABLE IF EXISTS customer_import_update")
    connection.exec_driver_sql(
        "CREATE TEMPORARY TABLE customer_import_update (id integer PRIMARY KEY, "
        "email varchar(254), phone varchar(20), name varchar(200), language varchar(2), "
        "last_contact_on date, attributes json) ON COMMIT DROP"
    )
    bulk_insert(session, "customer_import_update", ("id", *_WRITTEN), rows)
    assignments = ", ".join(f"{name} = u.{name}" for name in _WRITTEN)
    connection.exec_driver_sql(
        f"UPDATE customer SET {assignments}, updated_at = %(updated_at)s "  # noqa: S608
        "FROM customer_import_update AS u WHERE customer.id = u.id",
        {"updated_at": updated_at},
    )


def _write(session: Session, import_id: int, client_id: int, plan: _WritePlan,
           say: Callable[[str], None]):
    now = timestamp_text(utcnow())
    connection = session.connection()
    before = connection.exec_driver_sql("SELECT COALESCE(MAX(id), 0) FROM customer").scalar()
    bulk_insert(
        session,
        "customer",
        ("client_id", "external_id", *_WRITTEN, "consent", "created_at", "updated_at"),
        ((client_id, *row, True, now, now) for row in plan.created),
    )
    say(f"created {len(plan.created)} customers")
    _bulk_update(session, plan.updated, now)
    say(f"updated {len(plan.updated)} customers")
    # Imports are serialised (SQLite's write lock, PostgreSQL's advisory lock) and this one's
    # rows carry its timestamp, so these are exactly the customers just created.
    session.execute(
        text(
            "INSERT INTO customer_import_touch (import_id, customer_id, action) "
            "SELECT :import_id, id, 'created' FROM customer WHERE id > :before "
            "AND created_at = :now AND client_id = :client_id"
        ),
        {"import_id": import_id, "before": before, "now": now, "client_id": client_id},
    )
    touches = [(import_id, row[0], "updated") for row in plan.updated]
    touches += [(import_id, customer_id, "unchanged") for customer_id in plan.unchanged]
    bulk_insert(session, "customer_import_touch", ("import_id", "customer_id", "action"),
                 touches)
    say("recorded which customers the import touched")
    session.expire_all()


def check_customer_file(
    data: bytes,
    filename: str,
    columns: Mapping[str, str] | None = None,
    attributes: Sequence[str] | None = None,
    *,
    session: Session | None = None,
    variables: Sequence[str] = (),
    ignore: Sequence[str] = (),
    ignore_others: bool = False,
) -> ColumnMapping:
    """Read the file's header and map its columns, without checking rows.

    What a web page asks before it queues the import in the background, so that a file that is
    not a table, or lacks the columns it needs, is refused at once next to the field. Raises
    `CustomerFileError` with the reason (`UndeclaredColumnsError` for undeclared columns).
    """
    try:
        table = read_table(data, filename)
    except FileFormatError as exc:
        raise CustomerFileError(f"{filename}: {exc}") from exc
    declared = [variable.name for variable in frame_variables(session)] if session else ()
    return default_mapping(table.headers, columns, attributes, variables=variables,
                           ignore=ignore, ignore_others=ignore_others, declared=declared)


def estimated_rows(data: bytes) -> int | None:
    """The number of data rows of a CSV file, counted as its lines less the header, or None
    when it cannot be told cheaply (XLSX, a file without line feeds).

    For a progress bar only: blank lines and quoted line breaks make it a little off, which the
    final count corrects.
    """
    if data.startswith(XLSX_MAGIC):
        return None
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    return lines - 1 if lines > 1 else None


def last_import(session: Session) -> CustomerImport | None:
    return session.scalar(select(CustomerImport).order_by(CustomerImport.id.desc()).limit(1))


def customer_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Customer)) or 0


@dataclass(frozen=True)
class ColumnPreview:
    """One column of a file as an import would read it, with its first values (masked)."""

    header: str
    role: str  # a field of FIELDS, "variable", "ignored" or "undeclared"
    examples: tuple[str, ...]


def preview_columns(
    session: Session,
    data: bytes,
    filename: str,
    *,
    variables: Sequence[str] = (),
    ignore_others: bool = False,
    rows: int = 3,
) -> list[ColumnPreview]:
    """How each column of the file would be read, with its first `rows` values.

    Only survey variables show their values as written; every other column's are masked (a
    first letter, an email's or a phone number's outline), since undeclared columns may hold
    anything. Raises `CustomerFileError` when the file cannot be read or mapped at all.
    """
    try:
        table = read_table(data, filename)
        declared = [variable.name for variable in frame_variables(session)]
        mapping = default_mapping(table.headers, variables=variables, ignore_others=True,
                                  declared=declared)
        first = [cells for _, (_, cells) in zip(range(rows), table.rows, strict=False)]
    except FileFormatError as exc:
        raise CustomerFileError(f"{filename}: {exc}") from exc
    roles = {header: name for name, header in mapping.fields.items()}
    roles.update(dict.fromkeys(mapping.attributes.values(), "variable"))
    roles.update(dict.fromkeys(mapping.ignored, "ignored" if ignore_others else "undeclared"))
    previews = []
    for index, header in enumerate(table.headers):
        role = roles.get(header, "undeclared")
        values = [cells[index].strip() for cells in first if index < len(cells)]
        if role != "variable":
            masker = PERSONAL_FIELDS.get(role, mask_text)
            values = [masker(value) if value else "" for value in values]
        previews.append(ColumnPreview(header, role, tuple(values)))
    return previews
