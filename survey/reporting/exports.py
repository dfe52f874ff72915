"""Exports of the respondents table: CSV (UTF-8, or Excel-France), XLSX, SPSS `.sav`.

One row per respondent, no email, phone or name. Text cells that a spreadsheet would run as a
formula (starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return) get a leading
apostrophe (`dataset.neutralise`); numeric columns are never touched, so the UTF-8 CSV stays
readable by `analysis.read_responses` and reproduces the report through `barometre analyze`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyreadstat
from openpyxl import Workbook

from survey.files import create_private, write_private
from survey.reporting.dataset import (
    DISPOSITION,
    INVITATION_CHANNEL,
    RESPONDENT,
    STRATUM,
    WEIGHT,
    RespondentsDataset,
    csv_bytes,
    export_frame,
    neutralise,
)

EXPORT_FORMATS = ("csv", "xlsx", "sav")

_EXTRA_LABELS = {
    "fr": {
        RESPONDENT: "Identifiant anonyme du répondant",
        STRATUM: "Strate de tirage",
        INVITATION_CHANNEL: "Canal d’invitation",
        DISPOSITION: "Issue de l’invitation",
        WEIGHT: "Poids final",
    },
    "en": {
        RESPONDENT: "Anonymous respondent id",
        STRATUM: "Sampling stratum",
        INVITATION_CHANNEL: "Invitation channel",
        DISPOSITION: "Disposition of the invitation",
        WEIGHT: "Final weight",
    },
}


def dictionary_rows(dataset: RespondentsDataset, lang: str) -> list[dict[str, object]]:
    """One entry per exported column: code, label, type and value labels."""
    by_code = {entry["code"]: entry for entry in dataset.questionnaire.data_dictionary(lang)}
    extra = _EXTRA_LABELS[lang]
    rows = []
    for column in dataset.frame.columns:
        entry = by_code.get(column)
        if entry is not None:
            rows.append(
                {
                    "code": column,
                    "label": entry["label"],
                    "type": entry["type"],
                    "value_labels": entry["value_labels"],
                    "note": entry.get("note", ""),
                }
            )
        else:
            rows.append(
                {
                    "code": column,
                    "label": extra.get(column, column),
                    "type": "number" if column == WEIGHT else "category",
                    "value_labels": {},
                    "note": "",
                }
            )
    return rows


def write_export(
    dataset: RespondentsDataset,
    fmt: str,
    out: Path,
    *,
    excel_france: bool = False,
    lang: str = "fr",
) -> None:
    # The file is created for the service user only before anything is written to it.
    create_private(out)
    if fmt == "csv":
        write_private(out, csv_bytes(dataset.frame, excel_france=excel_france))
    elif fmt == "xlsx":
        write_xlsx(dataset, out, lang)
    elif fmt == "sav":
        write_sav(dataset, out, lang)
    else:  # pragma: no cover - the caller checks EXPORT_FORMATS
        raise ValueError(f"unknown export format {fmt!r}")


def write_xlsx(dataset: RespondentsDataset, out: Path, lang: str) -> None:
    """A `data` sheet and a `dictionary` sheet (columns, labels, value labels)."""
    frame = export_frame(dataset.frame)
    workbook = Workbook(write_only=True)
    data = workbook.create_sheet("data")
    data.append(list(frame.columns))
    for row in frame.itertuples(index=False, name=None):
        data.append([None if pd.isna(value) else _cell(value) for value in row])
    dictionary = workbook.create_sheet("dictionary")
    header = ["column", "label", "type", "values", "note"]
    dictionary.append(header)
    for entry in dictionary_rows(dataset, lang):
        values = "; ".join(f"{k} = {v}" for k, v in entry["value_labels"].items())
        dictionary.append(
            [neutralise(str(entry[k])) for k in ("code", "label", "type")]
            + [neutralise(values), neutralise(str(entry["note"]))]
        )
    workbook.save(out)


def _cell(value: object) -> object:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def write_sav(dataset: RespondentsDataset, out: Path, lang: str) -> None:
    """SPSS file with variable labels and value labels (numbers only: SPSS labels numbers)."""
    frame = dataset.frame.copy()
    entries = dictionary_rows(dataset, lang)
    column_labels = [str(entry["label"])[:255] for entry in entries]
    value_labels = {}
    for entry in entries:
        labels = entry["value_labels"]
        if labels and pd.api.types.is_numeric_dtype(frame[entry["code"]]):
            value_labels[entry["code"]] = {
                float(k): str(v) for k, v in labels.items() if _is_number(k)
            }
    for column in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[column]):
            frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    pyreadstat.write_sav(
        frame,
        str(out),
        column_labels=column_labels,
        variable_value_labels=value_labels,
    )


def _is_number(value: object) -> bool:
    try:
        float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return True
