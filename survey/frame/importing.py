"""Importing the customer base: map the columns, validate every row, then write all or nothing.

The rules, as the report states them:

- **Columns.** Each field (external id, email, phone, name, language, last contact date) is
  read from the column whose header matches one of its French or English names (`SYNONYMS`,
  compared without accents or case), unless a mapping says otherwise. Every other column is an
  *attribute* (segment, channel, site…), named by its header in `header_key` form; attributes
  are what strata and domains are made of, so they must not hold personal data.
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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.orm import Session

from survey.audit import record_event
from survey.frame.contacts import (
    ContactError,
    fast_normalise_emails,
    fast_normalise_phones,
    mask_email,
    mask_phone,
    mask_text,
    normalise_email,
    normalise_phone,
)
from survey.frame.reading import FileFormatError, Table, header_key, read_table
from survey.models import Customer, CustomerImport, CustomerImportTouch, utcnow

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
_CHUNK = 5000


class CustomerFileError(ValueError):
    """The file cannot be imported at all (format, columns, mapping); the message says why."""




@dataclass(frozen=True)
class ColumnMapping:
    """Which header each field and attribute is read from."""

    fields: dict[str, str]  # field → header
    attributes: dict[str, str]  # attribute name → header

    def as_dict(self) -> dict[str, Any]:
        return {"fields": dict(self.fields), "attributes": dict(self.attributes)}


@dataclass(frozen=True)
class Reject:
    line: int
    column: str
    value: str  # masked when the column holds personal data
    reason: str


@dataclass
class ImportReport:
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
) -> ColumnMapping:
    """Map fields to headers by name, then apply `overrides` (field → header as written).

    `attributes` lists the headers kept as attributes; None keeps every unmapped column.
    Raises `CustomerFileError` when a field or header is unknown, or when no column gives the
    external id, or none gives an email or a phone.
    """
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(FIELDS))
    if unknown:
        raise CustomerFileError(
            f"unknown fields {unknown} in the mapping; fields are {list(FIELDS)}"
        )
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
            if synonym in by_key and by_key[synonym] not in fields.values():
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
    mapped = set(fields.values())
    if attributes is None:
        kept = [header for header in headers if header not in mapped]
    else:
        missing = [header for header in attributes if header not in headers]
        if missing:
            raise CustomerFileError(f"attribute columns {missing} are not in the file")
        kept = [header for header in attributes if header not in mapped]
    names: dict[str, str] = {}
    for header in kept:
        name = header_key(header) or "column"
        if name in names:
            raise CustomerFileError(
                f"columns {names[name]!r} and {header!r} would both be attribute {name!r}"
            )
        names[name] = header
    return ColumnMapping(fields=fields, attributes=names)


# --- validation -----------------------------------------------------------------------------


@dataclass
class _Validation:
    rows: pd.DataFrame  # the valid rows, normalised, with their line
    rejects: list[Reject]
    rejected_lines: set[int]


def _masked(field_name: str, value: str) -> str:
    value = value if len(value) <= 60 else value[:57] + "…"
    masker = PERSONAL_FIELDS.get(field_name)
    return masker(value) if masker else value


def _normalise_with(
    values: pd.Series, fast: Callable[[pd.Series], pd.Series], slow: Callable[[str], str]
) -> tuple[pd.Series, dict[int, str]]:
    """Normalised values (fast path, then the library for the rest) and errors by index."""
    present = values != ""
    normalised = fast(values[present])
    errors: dict[int, str] = {}
    leftovers = normalised[normalised.isna()].index
    results: dict[int, str | None] = {}
    for index in leftovers:
        try:
            results[index] = slow(values.at[index])
        except ContactError as exc:
            errors[index] = str(exc)
            results[index] = None
    if results:
        normalised.loc[list(results)] = pd.Series(results, dtype=object)
    full = pd.Series(None, index=values.index, dtype=object)
    full.loc[normalised.index] = normalised.astype(object)
    return full, errors


def _parse_dates(values: pd.Series, today: date) -> tuple[pd.Series, dict[int, str]]:
    present = values != ""
    iso = values[present].str.extract(f"^{_ISO_DATE.pattern}$")
    french = values[present].str.extract(f"^{_FRENCH_DATE.pattern}$")
    year = iso[0].fillna(french[2])
    month = iso[1].fillna(french[1])
    day = iso[2].fillna(french[0])
    composed = year + "-" + month.str.zfill(2) + "-" + day.str.zfill(2)
    parsed = pd.to_datetime(composed, format="%Y-%m-%d", errors="coerce")
    errors: dict[int, str] = {}
    for index in parsed[parsed.isna()].index:
        errors[index] = "not a date: write 2025-04-25 or 25/04/2025 (day first)"
    future = parsed.notna() & (parsed.dt.date > today)
    for index in parsed[future].index:
        errors[index] = "the date is in the future"
    dates = pd.Series(None, index=values.index, dtype=object)
    good = parsed.notna() & ~future
    dates.loc[parsed[good].index] = parsed[good].dt.date.astype(object)
    return dates, errors


def validate_rows(table: Table, mapping: ColumnMapping, today: date) -> _Validation:
    """Check and normalise every row; the valid rows, and one `Reject` per problem found."""
    source = table.rows
    rows = pd.DataFrame({"line": source["line"]})
    for name in FIELDS:
        header = mapping.fields.get(name)
        rows[name] = source[header].str.strip() if header else ""
    rejects: list[Reject] = [
        Reject(line, "", "", f"the line has {found} fields, the header {len(table.headers)}")
        for line, found in table.malformed
    ]
    problems: list[tuple[int, str, str]] = []  # (index, field, reason)

    def column(name: str) -> str:
        return mapping.fields.get(name, name)

    missing = rows.index[rows["external_id"] == ""]
    problems += [(i, "external_id", "the external id is required") for i in missing]
    too_long = rows.index[rows["external_id"].str.len() > 100]
    problems += [(i, "external_id", "the external id is longer than 100 characters")
                 for i in too_long]
    too_long = rows.index[rows["name"].str.len() > 200]
    problems += [(i, "name", "the name is longer than 200 characters") for i in too_long]

    if "email" in mapping.fields:
        rows["email"], errors = _normalise_with(rows["email"], fast_normalise_emails,
                                                normalise_email)
        problems += [(i, "email", f"invalid email: {reason}") for i, reason in errors.items()]
    else:
        rows["email"] = None
    if "phone" in mapping.fields:
        rows["phone"], errors = _normalise_with(rows["phone"], fast_normalise_phones,
                                                normalise_phone)
        problems += [(i, "phone", f"invalid phone number: {reason}")
                     for i, reason in errors.items()]
    else:
        rows["phone"] = None

    languages = rows["language"].str.lower().str.replace("_", "-").str.split("-").str[0]
    rows["language"] = languages.map(LANGUAGES).where(rows["language"] != "", "fr")
    unknown = rows.index[rows["language"].isna()]
    problems += [(i, "language", "the language must be French (fr) or English (en)")
                 for i in unknown]

    rows["last_contact_on"], errors = _parse_dates(rows["last_contact_on"], today)
    problems += [(i, "last_contact_on", reason) for i, reason in errors.items()]
    rows["name"] = rows["name"].where(rows["name"] != "", None)

    raw = source
    for index, name, reason in problems:
        header = column(name)
        value = raw.at[index, header] if header in raw.columns else ""
        rejects.append(Reject(int(rows.at[index, "line"]), header, _masked(name, value), reason))
    bad = {index for index, _, _ in problems}
    valid = rows.drop(index=list(bad))

    valid = _reject_duplicates(valid, mapping, rejects)
    rejected_lines = {reject.line for reject in rejects}
    attribute_headers = list(mapping.attributes.values())
    attributes = source.loc[valid.index, attribute_headers].apply(
        lambda col: col.str.strip()
    ) if attribute_headers else pd.DataFrame(index=valid.index)
    attributes.columns = list(mapping.attributes)
    valid = valid.assign(attributes=_attribute_dicts(attributes))
    return _Validation(valid, rejects, rejected_lines)


def _attribute_dicts(attributes: pd.DataFrame) -> list[dict[str, str]]:
    names = list(attributes.columns)
    return [
        {name: value for name, value in zip(names, values, strict=True) if value != ""}
        for values in attributes.itertuples(index=False, name=None)
    ]


def _reject_duplicates(
    valid: pd.DataFrame, mapping: ColumnMapping, rejects: list[Reject]
) -> pd.DataFrame:
    """The first row wins: drop later rows that repeat an external id, email or phone."""
    for name, label in (("external_id", "external id"), ("email", "email"), ("phone", "phone")):
        values = valid[name]
        present = values.notna() & (values != "")
        repeated = present & values.duplicated(keep="first")
        if not repeated.any():
            continue
        first_line = valid.loc[present].groupby(name)["line"].transform("min")
        header = mapping.fields.get(name, name)
        for index in valid.index[repeated]:
            rejects.append(
                Reject(
                    int(valid.at[index, "line"]),
                    header,
                    _masked(name, str(values.at[index])),
                    f"duplicate {label}: already on line {int(first_line.at[index])} "
                    "(the first row wins)",
                )
            )
        valid = valid.loc[~repeated]
    return valid


# --- writing --------------------------------------------------------------------------------


def _attributes_json(attributes: dict[str, Any]) -> str:
    return json.dumps(attributes, sort_keys=True, ensure_ascii=False)


def _existing_customers(session: Session) -> pd.DataFrame:
    table = Customer.__table__
    result = session.execute(
        select(
            table.c.id, table.c.external_id, table.c.email, table.c.phone, table.c.name,
            table.c.language, table.c.last_contact_on, table.c.attributes,
        )
    )
    return pd.DataFrame(
        result.all(),
        columns=["id", "external_id", "email", "phone", "name", "language", "last_contact_on",
                 "attributes"],
    )


def _reject_conflicts_with_base(
    valid: pd.DataFrame, existing: pd.DataFrame, mapping: ColumnMapping, rejects: list[Reject]
) -> pd.DataFrame:
    """Reject rows whose email or phone belongs to a customer of the base not in the file."""
    others = existing[~existing["external_id"].isin(valid["external_id"])]
    if others.empty:
        return valid
    for name in ("email", "phone"):
        owners = dict(zip(others[name], others["external_id"], strict=True))
        owners.pop(None, None)
        clash = valid[name].isin(owners.keys()) & valid[name].notna()
        header = mapping.fields.get(name, name)
        for index in valid.index[clash]:
            rejects.append(
                Reject(
                    int(valid.at[index, "line"]),
                    header,
                    _masked(name, str(valid.at[index, name])),
                    f"this {name} belongs to customer {owners[valid.at[index, name]]} already "
                    "in the base and absent from the file",
                )
            )
        valid = valid.loc[~clash]
    return valid


def _none_if_missing(value: Any) -> Any:
    return None if value is None or (isinstance(value, float) and pd.isna(value)) else value


def import_customers(
    session: Session,
    data: bytes,
    filename: str,
    *,
    actor: str,
    actor_id: int | None = None,
    columns: Mapping[str, str] | None = None,
    attributes: Sequence[str] | None = None,
    dry_run: bool = False,
    accept_rejects: bool = False,
    today: date | None = None,
    progress: Callable[[str], None] | None = None,
) -> ImportReport:
    """Validate the file and, unless refused or a dry run, create and update its customers.

    Returns the report in every case. Raises `CustomerFileError` (a ValueError) when the file as a
    whole cannot be read or mapped. Writes nothing when `dry_run`, or when rows are rejected
    and `accept_rejects` is false; otherwise flushes everything in the caller's transaction,
    which commits once.
    """
    say = progress or (lambda message: None)
    today = today or date.today()
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        table = read_table(data, filename)
    except FileFormatError as exc:
        raise CustomerFileError(f"{filename}: {exc}") from exc
    mapping = default_mapping(table.headers, columns, attributes)
    report = ImportReport(
        filename=filename[-255:],
        sha256=sha256,
        file_format=table.file_format,
        encoding=table.encoding,
        delimiter=table.delimiter,
        mapping=mapping,
        dry_run=dry_run,
        rejects_accepted=accept_rejects,
    )
    report.rows_total = len(table.rows) + len(table.malformed)
    if report.rows_total == 0:
        raise CustomerFileError(f"{filename}: the file has a header line but no customer rows")
    say(f"read {report.rows_total} rows ({table.file_format}, {table.encoding or ''})")

    validation = validate_rows(table, mapping, today)
    del table
    if session.get_bind().dialect.name == "postgresql":
        # One import at a time: the base an import checks against is the one it writes to.
        session.execute(text("SELECT pg_advisory_xact_lock(7263)"))
    existing = _existing_customers(session)
    valid = _reject_conflicts_with_base(validation.rows, existing, mapping, validation.rejects)
    report.rejects = sorted(validation.rejects, key=lambda r: (r.line, r.column))
    report.rows_rejected = len({reject.line for reject in report.rejects})
    report.rows_valid = len(valid)
    say(f"validated: {report.rows_valid} valid rows, {report.rows_rejected} rejected")

    plan = _plan_writes(valid, existing)
    report.rows_created = len(plan.created)
    report.rows_updated = len(plan.updated)
    report.rows_unchanged = len(plan.unchanged)
    if dry_run or report.refused:
        return report

    say("writing")
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
    _write(session, customer_import.id, plan, say)
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
        },
    )
    report.imported = True
    report.import_id = customer_import.id
    return report


@dataclass
class _WritePlan:
    created: list[dict[str, Any]]
    updated: list[dict[str, Any]]
    unchanged: list[int]  # customer ids


_COMPARED = ("email", "phone", "name", "language", "last_contact_on")


def _plan_writes(valid: pd.DataFrame, existing: pd.DataFrame) -> _WritePlan:
    now = utcnow()
    ids = dict(zip(existing["external_id"], existing["id"], strict=True))
    known = valid["external_id"].isin(ids.keys())
    new = valid.loc[~known]
    created = [
        {
            "external_id": external_id, "email": _none_if_missing(email),
            "phone": _none_if_missing(phone), "name": _none_if_missing(name),
            "language": language, "last_contact_on": _none_if_missing(last_contact_on),
            "attributes": attributes, "consent": True, "created_at": now, "updated_at": now,
        }
        for external_id, email, phone, name, language, last_contact_on, attributes in zip(
            new["external_id"], new["email"], new["phone"], new["name"], new["language"],
            new["last_contact_on"], new["attributes"], strict=True,
        )
    ]
    updated: list[dict[str, Any]] = []
    unchanged: list[int] = []
    if known.any():
        current = existing.set_index("external_id")
        for row in valid.loc[known].itertuples(index=False):
            before = current.loc[row.external_id]
            after = {name: _none_if_missing(getattr(row, name)) for name in _COMPARED}
            same = all(_none_if_missing(before[name]) == after[name] for name in _COMPARED)
            same = same and _attributes_json(before["attributes"] or {}) == _attributes_json(
                row.attributes
            )
            if same:
                unchanged.append(int(before["id"]))
            else:
                updated.append(
                    {"customer_id": int(before["id"]), **after, "attributes": row.attributes,
                     "updated_at": now}
                )
    return _WritePlan(created, updated, unchanged)


def _write(session: Session, import_id: int, plan: _WritePlan, say: Callable[[str], None]):
    customers = Customer.__table__
    touches: list[dict[str, Any]] = []
    for start in range(0, len(plan.created), _CHUNK):
        chunk = plan.created[start : start + _CHUNK]
        result = session.execute(
            insert(customers).returning(customers.c.id, sort_by_parameter_order=True), chunk
        )
        touches += [
            {"import_id": import_id, "customer_id": customer_id, "action": "created"}
            for customer_id in result.scalars()
        ]
        if start % (_CHUNK * 20) == 0:
            say(f"created {start + len(chunk)} of {len(plan.created)} customers")
    statement = (
        update(customers)
        .where(customers.c.id == bindparam("customer_id"))
        .values({name: bindparam(name) for name in (*_COMPARED, "attributes", "updated_at")})
    )
    for start in range(0, len(plan.updated), _CHUNK):
        session.execute(statement, plan.updated[start : start + _CHUNK])
    touches += [
        {"import_id": import_id, "customer_id": row["customer_id"], "action": "updated"}
        for row in plan.updated
    ]
    touches += [
        {"import_id": import_id, "customer_id": customer_id, "action": "unchanged"}
        for customer_id in plan.unchanged
    ]
    touch_table = CustomerImportTouch.__table__
    for start in range(0, len(touches), _CHUNK * 4):
        session.execute(insert(touch_table), touches[start : start + _CHUNK * 4])
    session.flush()


def last_import(session: Session) -> CustomerImport | None:
    return session.scalar(select(CustomerImport).order_by(CustomerImport.id.desc()).limit(1))


def customer_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Customer)) or 0
