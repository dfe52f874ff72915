"""The respondents table and the design of the analysis contract, built from a campaign.

This pair is what `barometre export` writes and what the report analyses, so that
`barometre analyze EXPORT.csv --design EXPORT.design.json` reproduces every number of the report.

One row per complete, non-test response:

- ``respondent``: an opaque identifier (``R000001``…, in order of response), never a customer's
  id, email or phone;
- ``stratum``, ``invitation_channel`` (email or sms) and the invitation's attribute snapshot
  (segment, channel, site…), the domains of the report;
- one column per column of the frozen questionnaire's data dictionary ("not applicable" and
  hidden questions are blank cells, see `questionnaires.questions`);
- ``disposition`` (always ``complete`` here) and ``weight``, the final weight under the design.

Text that a spreadsheet would run as a formula is neutralised once, here, for the categories
(strata, domains) and in the design's keys alike, so that the export and the design file still
agree (`neutralise`).
"""

from __future__ import annotations

import hashlib
import io
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis import AnalysisInputError, final_weights, parse_design
from questionnaires import NOT_APPLICABLE, Questionnaire
from survey.models import Campaign, Invitation, Response, ResponseStatus
from survey.privacy.masking import mask_personal_data
from survey.weighting.operations import resolve_calibration, sample_level_table

RESPONDENT = "respondent"
STRATUM = "stratum"
INVITATION_CHANNEL = "invitation_channel"
DISPOSITION = "disposition"
WEIGHT = "weight"
RESERVED_COLUMNS = (RESPONDENT, STRATUM, INVITATION_CHANNEL, DISPOSITION, WEIGHT)

# A domain with more levels than this is an identifier or a free text, not a domain to report.
MAX_DOMAIN_LEVELS = 20

# Spreadsheets run a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")



class DatasetError(ValueError):
    """The campaign cannot give a respondents table (yet): the message says why."""


def neutralise(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula gets a leading apostrophe.

    ``=SUM(A1)`` becomes ``'=SUM(A1)``: Excel and LibreOffice show it as text. Numbers and blank
    cells are never touched, and an already neutralised cell is left as it is.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


@dataclass
class RespondentsDataset:
    """The respondents table, its design (a DESIGN.json mapping) and how to read it."""

    frame: pd.DataFrame
    design: dict[str, Any]
    questionnaire: Questionnaire
    domains: list[str] = field(default_factory=list)
    text_columns: list[str] = field(default_factory=list)
    # Per rating offering "not applicable": who chose it (a blank cell in the table itself).
    not_applicable: dict[str, np.ndarray] = field(default_factory=dict)
    # Why the chosen calibration could not be applied (the weights are then the design's).
    calibration_note: str | None = None

    @property
    def data_sha256(self) -> str:
        """SHA-256 of the UTF-8 CSV export: the one `barometre export --format csv` writes."""
        return hashlib.sha256(csv_bytes(self.frame)).hexdigest()


def load_questionnaire(campaign: Campaign) -> Questionnaire:
    return Questionnaire.from_canonical_json(campaign.questionnaire_version.definition)


def build_dataset(
    session: Session, campaign: Campaign, *, plan: Mapping[str, Any] | None = None
) -> RespondentsDataset:
    """The respondents of `campaign` (complete, non-test responses) and their design.

    `plan` replaces the campaign's own (a weighting preview)."""
    plan = campaign.plan if plan is None else plan
    questionnaire = load_questionnaire(campaign)
    rows = session.execute(
        select(Response.id, Response.answers, Invitation)
        .join(Invitation, Response.invitation_id == Invitation.id)
        .where(
            Invitation.campaign_id == campaign.id,
            Invitation.is_test.is_(False),
            Response.status == ResponseStatus.COMPLETE.value,
        )
        .order_by(Response.id)
    ).all()
    records = [
        RespondentRecord(
            stratum=invitation.stratum,
            invitation_channel=invitation.channel,
            attributes=invitation.attributes or {},
            design_weight=invitation.design_weight,
            answers=answers or {},
        )
        for _, answers, invitation in rows
    ]
    return dataset_from_records(
        records,
        questionnaire,
        frame_counts=campaign.frame_counts,
        plan=plan or {},
        calibration=resolve_calibration(plan, campaign.frame_margins),
    )


@dataclass(frozen=True)
class RespondentRecord:
    """What one complete response contributes, free of any database object."""

    stratum: str
    invitation_channel: str
    attributes: Mapping[str, Any]
    design_weight: float
    answers: Mapping[str, Any]


def dataset_from_records(
    records: Iterable[RespondentRecord],
    questionnaire: Questionnaire,
    *,
    frame_counts: Mapping[str, int] | None,
    plan: Mapping[str, Any],
    calibration: Mapping[str, Any] | None = None,
) -> RespondentsDataset:
    """The table and design from plain records (the database-free half of `build_dataset`).

    `calibration` is the design's (``{"method", "margins"}``, from
    `survey.weighting.operations.resolve_calibration`); its variables' columns hold each
    respondent's level as the margins count it (``(none)`` for a blank). When the respondents
    cannot be calibrated (a level without respondents), the design keeps its base weights and
    `RespondentsDataset.calibration_note` says why.
    """
    if calibration is None:
        legacy = plan.get("calibration")
        if isinstance(legacy, Mapping) and legacy.get("margins") and "source" not in legacy:
            calibration = {"method": legacy.get("method", "rake"), "margins": legacy["margins"]}
    calibration_variables = list(calibration["margins"]) if calibration else []
    question_columns = [entry["code"] for entry in questionnaire.data_dictionary("en")]
    text_columns = [
        entry["code"] for entry in questionnaire.data_dictionary("en") if entry["type"] == "text"
    ]
    na_codes = [
        question.code
        for _, question in questionnaire.questions()
        if getattr(question, "not_applicable", False) is True
    ]
    not_applicable: dict[str, list[bool]] = {code: [] for code in na_codes}
    recorder = AnalysisRecorder(questionnaire)
    rows: list[dict[str, Any]] = []
    for position, record in enumerate(records, start=1):
        row: dict[str, Any] = {
            RESPONDENT: f"R{position:06d}",
            STRATUM: neutralise(str(record.stratum)),
            INVITATION_CHANNEL: record.invitation_channel,
        }
        for name, value in record.attributes.items():
            row[_attribute_column(name, question_columns)] = neutralise(_category(value))
        if calibration_variables:
            levels = sample_level_table(record.attributes, calibration_variables)
            for name, level in levels.items():
                row[_attribute_column(name, question_columns)] = neutralise(level)
        for code in na_codes:
            not_applicable[code].append(record.answers.get(code) == NOT_APPLICABLE)
        answers = recorder.record(record.answers)
        for code in text_columns:
            if answers.get(code):
                answers[code] = mask_personal_data(answers[code])
        row.update(answers)
        row["_design_weight"] = record.design_weight
        rows.append(row)
    if len(rows) < 2:
        raise DatasetError(
            f"the campaign has {len(rows)} complete response(s): at least 2 are needed to "
            "estimate anything"
        )
    frame = pd.DataFrame(rows)
    attribute_columns = sorted(
        c
        for c in frame.columns
        if c not in (*RESERVED_COLUMNS, *question_columns, "_design_weight")
    )
    for column in question_columns:
        if column not in frame.columns:
            frame[column] = None
    for column in question_columns:
        if column not in text_columns:
            frame[column] = _numbers_or_text(frame[column])
    for column in (STRATUM, INVITATION_CHANNEL, *attribute_columns, *text_columns):
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    frame[DISPOSITION] = "complete"
    domains = [
        column
        for column in (STRATUM, INVITATION_CHANNEL, *attribute_columns)
        if 2 <= frame[column].nunique(dropna=True) <= MAX_DOMAIN_LEVELS
        # An attribute that is the stratum under another name would repeat its table.
        and (column == STRATUM or not frame[column].equals(frame[STRATUM]))
    ]
    design = build_design(
        questionnaire, frame, frame_counts=frame_counts, plan=plan, domains=domains,
        calibration=_calibration_columns(calibration, question_columns),
    )
    if "weights" in design:
        frame["_design_weight"] = frame["_design_weight"].astype(float)
        frame = frame.rename(columns={"_design_weight": WEIGHT})
    else:
        frame = frame.drop(columns="_design_weight")
    ordered = [
        RESPONDENT, STRATUM, INVITATION_CHANNEL, *attribute_columns, *question_columns,
        DISPOSITION,
    ]  # fmt: skip
    frame = frame[ordered + ([WEIGHT] if WEIGHT in frame.columns else [])]
    # The final weight, calibrated when the design calibrates: what every estimate uses.
    calibration_note = None
    try:
        frame[WEIGHT] = final_weights(frame, parse_design(design)).to_numpy()
    except AnalysisInputError as error:
        if "calibration" not in design:
            raise
        # The report, the export and `analyze` must agree: the design file loses the
        # calibration too, and the report says why.
        calibration_note = str(error)
        design.pop("calibration")
        frame[WEIGHT] = final_weights(frame, parse_design(design)).to_numpy()
    return RespondentsDataset(
        frame=frame,
        design=design,
        questionnaire=questionnaire,
        domains=domains,
        text_columns=text_columns,
        not_applicable={
            code: np.array(flags, dtype=bool) for code, flags in not_applicable.items()
        },
        calibration_note=calibration_note,
    )


def _calibration_columns(
    calibration: Mapping[str, Any] | None, question_columns: list[str]
) -> dict[str, Any] | None:
    """The calibration with its variables named as the table's columns."""
    if not calibration:
        return None
    return {
        "method": calibration["method"],
        "margins": {
            _attribute_column(variable, question_columns): counts
            for variable, counts in calibration["margins"].items()
        },
    }


class AnalysisRecorder:
    """`Questionnaire.analysis_record`, with the questions' conditions looked up once.

    The questionnaire's own method finds each condition's questions by a linear search, which
    is what a respondent's page needs but costs seconds over 100,000 respondents. This keeps its
    rule exactly (a hidden question's answer is dropped, conditions see earlier kept answers);
    a test checks that both agree.
    """

    def __init__(self, questionnaire: Questionnaire) -> None:
        questions = [question for _, question in questionnaire.questions()]
        self._by_code = {question.code: question for question in questions}
        self._steps = [
            (question, question.code, question.condition,
             question.condition.codes if question.condition is not None else ())
            for question in questions
        ]  # fmt: skip

    def record(self, answers: Mapping[str, Any]) -> dict[str, Any]:
        kept: dict[str, Any] = {}
        record: dict[str, Any] = {}
        for question, code, condition, codes in self._steps:
            if code in answers:
                shown = condition is None or condition.evaluate(
                    {
                        other: self._by_code[other].condition_value(kept[other])
                        for other in codes
                        if other in kept
                    }
                )
                if shown:
                    kept[code] = answers[code]
            record.update(question.analysis_values(kept.get(code)))
        return record


def build_design(
    questionnaire: Questionnaire,
    frame: pd.DataFrame,
    *,
    frame_counts: Mapping[str, int] | None,
    plan: Mapping[str, Any],
    domains: list[str],
    calibration: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The DESIGN.json mapping of the analysis contract for this campaign.

    Stratified by ``stratum`` with the frame counts frozen at the draw as population; without
    them (a campaign that was never drawn) the invitations' design weights are used.
    ``calibration`` (``{"method": "rake", "margins": {...}}``) is written when given.
    """
    design: dict[str, Any] = {
        "confidence": float(plan.get("confidence", 0.95)),
        "strata": STRATUM,
    }
    if frame_counts:
        design["population"] = {neutralise(str(k)): int(v) for k, v in frame_counts.items()}
    else:
        design["weights"] = WEIGHT
    if calibration and calibration.get("margins"):
        design["calibration"] = {
            "method": calibration.get("method", "rake"),
            "margins": {
                variable: {neutralise(str(level)): count for level, count in counts.items()}
                for variable, counts in calibration["margins"].items()
            },
        }
    design["proportion_ci"] = plan.get("proportion_ci", "logit")
    if domains:
        design["by"] = list(domains)
    design["id"] = RESPONDENT
    design["indicators"] = questionnaire.analysis_indicators()
    return design


def _attribute_column(name: str, question_columns: list[str]) -> str:
    name = str(name)
    if name in RESERVED_COLUMNS or name in question_columns or name.startswith("_"):
        return f"attr_{name.lstrip('_')}"
    return name


def _category(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _numbers_or_text(column: pd.Series) -> pd.Series:
    """Numeric answers as float64 (blank = NaN), as `analysis.read_responses` reads them back."""
    try:
        return pd.to_numeric(column, errors="raise").astype("float64")
    except (TypeError, ValueError):
        return column.astype(object).where(column.notna(), None)


def csv_bytes(frame: pd.DataFrame, *, excel_france: bool = False) -> bytes:
    """The table as CSV: UTF-8 and `,` (what `analysis.read_responses` reads), or
    Windows-1252 with `;` and a decimal comma for Excel in French.

    Whole-number columns are written without ``.0``; text cells are neutralised.
    """
    out = export_frame(frame)
    buffer = io.StringIO()
    if excel_france:
        out.to_csv(buffer, index=False, sep=";", decimal=",", lineterminator="\r\n")
        return buffer.getvalue().encode("cp1252", errors="replace")
    out.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue().encode("utf-8")


def export_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The table as exported: whole numbers as integers, every text cell neutralised."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_float_dtype(series) and column != WEIGHT:
            values = series.dropna()
            if len(values) == 0 or bool(np.all(np.mod(values.to_numpy(), 1) == 0)):
                out[column] = series.astype("Int64")
        elif pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series):
            out[column] = series.map(neutralise)
    return out
