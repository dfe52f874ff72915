"""Respondent data: reading the CSV, and turning columns into what the estimators need.

A respondents table has one row per respondent; a missing value (a blank cell) means "not
answered". Categories (strata, domains, calibration cells) become integer codes with
labels; answers to numeric items become float arrays, with a clear error for anything that
is not a number.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.design import AnalysisInputError

JsonScalar = str | int | float


def read_responses(path: str | os.PathLike[str], text_columns: Iterable[str] = ()) -> pd.DataFrame:
    """Read a respondents CSV file, in every variant `barometre export` writes.

    UTF-8 (with or without BOM) with ``,``, or the Excel-France variant: Windows-1252 with
    ``;`` and decimal commas (`_csv_dialect` tells them apart from the bytes).

    Only a blank cell is missing: "NA", "n/a", "null"… stay as written, so that a stray
    code in a numeric item is reported instead of being silently dropped. A column whose
    every non-blank cell is a number is read as float; any other column is text.

    Parameters
    ----------
    path
        The CSV file, with a header line.
    text_columns
        Columns to keep as text even when they look numeric (category codes such as
        ``"01"``); the command line passes the design's strata, domains and margins.

    Raises
    ------
    AnalysisInputError
        When the file cannot be parsed as CSV or has no header.
    """
    text_columns = tuple(text_columns)
    options = {"keep_default_na": False, "na_values": [""], **_csv_dialect(path)}
    try:
        frame = pd.read_csv(path, dtype=dict.fromkeys(text_columns, str), **options)
        # The parser reads True/False as booleans; they are answers, keep them as written.
        unparsed = [c for c in frame.columns if not _is_number_or_text(frame[c])]
        if unparsed:
            as_text = pd.read_csv(path, usecols=unparsed, dtype=str, **options)
            frame[unparsed] = as_text[unparsed]
    except pd.errors.EmptyDataError as error:
        raise AnalysisInputError("the responses file is empty: expected a header line") from error
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise AnalysisInputError(f"the responses file is not a readable CSV: {error}") from error
    header = pd.read_csv(path, header=None, nrows=1, dtype=str, **options).iloc[0].tolist()
    duplicated = sorted({str(name) for name in header if header.count(name) > 1})
    if duplicated:
        raise AnalysisInputError(
            f"the responses file repeats column name(s) {', '.join(map(repr, duplicated))}"
        )
    integer_columns = [c for c in frame.columns if pd.api.types.is_integer_dtype(frame[c])]
    if integer_columns:
        frame[integer_columns] = frame[integer_columns].astype("float64")
    return frame


def _csv_dialect(path: str | os.PathLike[str]) -> dict[str, str]:
    """The encoding, separator and decimal mark of a respondents file.

    UTF-8 when the bytes decode as UTF-8 (a BOM is skipped), Windows-1252 otherwise (what Excel
    in French writes, and `barometre export --excel-france`). The separator is ``;`` when the
    header line holds more semicolons than commas, and then the decimal mark is a comma.
    """
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return {"encoding": "utf-8-sig"}  # pandas reports the error with the file's name
    try:
        text = data.decode("utf-8-sig")
        encoding = "utf-8-sig"
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
        encoding = "cp1252"
    header = text.split("\n", 1)[0]
    if header.count(";") > header.count(","):
        return {"encoding": encoding, "sep": ";", "decimal": ","}
    return {"encoding": encoding}


def _is_number_or_text(column: pd.Series) -> bool:
    return (
        pd.api.types.is_float_dtype(column)
        or pd.api.types.is_integer_dtype(column)
        or pd.api.types.is_string_dtype(column)
    )


def describe_row(responses: pd.DataFrame, position: int, id_column: str | None) -> str:
    """Where a respondent is, for error messages: its row and, if known, its identifier."""
    where = f"row {position + 1} (line {position + 2} of a CSV file with a header)"
    if id_column is not None and id_column in responses.columns:
        where += f", respondent {responses[id_column].iloc[position]!r}"
    return where


@dataclass(frozen=True)
class Categories:
    """A categorical column as integer codes.

    ``codes[i]`` indexes ``labels`` (``-1`` for a missing value). ``labels`` are the
    canonical text of each level (how design files name levels: ``"2"`` for a numeric 2.0);
    ``values`` are the same levels as JSON values (text, or a number).
    """

    codes: np.ndarray
    labels: tuple[str, ...]
    values: tuple[JsonScalar, ...]

    @property
    def size(self) -> int:
        return len(self.labels)

    def counts(self) -> np.ndarray:
        """Number of rows at each level."""
        return np.bincount(self.codes[self.codes >= 0], minlength=self.size)


def categories(column: pd.Series) -> Categories:
    """Encode a column of categories; levels sorted (numbers numerically, text as text)."""
    numeric = _as_numbers_if_all_numeric(column)
    if numeric is not None:
        present = ~np.isnan(numeric)
        levels = np.unique(numeric[present])
        codes = np.full(len(numeric), -1, dtype=np.int64)
        codes[present] = np.searchsorted(levels, numeric[present])
        values = tuple(_json_number(level) for level in levels)
        return Categories(codes=codes, labels=tuple(str(v) for v in values), values=values)
    # Factorise first, then name and sort the few distinct levels: a column mixing 2 and
    # "2" (built in memory, not read from a file) has one level "2".
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    names = [_level_text(level) for level in uniques]
    labels = tuple(sorted(set(names)))
    position = {label: index for index, label in enumerate(labels)}
    # The last entry maps the missing code -1 to -1.
    renumber = np.array([position[name] for name in names] + [-1], dtype=np.int64)
    return Categories(codes=renumber[codes], labels=labels, values=labels)


def _level_text(level: object) -> str:
    if isinstance(level, str):
        return level
    if isinstance(level, int | float | np.number) and not isinstance(level, bool | np.bool_):
        return str(_json_number(float(level)))
    return str(level)


def _as_numbers_if_all_numeric(column: pd.Series) -> np.ndarray | None:
    if pd.api.types.is_bool_dtype(column):
        return None
    if pd.api.types.is_numeric_dtype(column):
        return column.to_numpy(dtype="float64", na_value=np.nan)
    if pd.api.types.is_object_dtype(column):
        present = column.dropna()
        if len(present) and all(
            isinstance(v, int | float | np.number) and not isinstance(v, bool | np.bool_)
            for v in present
        ):
            return column.to_numpy(dtype="float64", na_value=np.nan)
    return None


def _json_number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


def numeric_answers(
    responses: pd.DataFrame, column: str, id_column: str | None = None
) -> np.ndarray:
    """Answers to a numeric item as floats, NaN where not answered.

    Raises
    ------
    AnalysisInputError
        When a non-blank answer is not a finite number; names the column, the first bad
        row (and respondent) and its value, and how many rows are bad.
    """
    series = responses[column]
    if pd.api.types.is_bool_dtype(series):
        raise AnalysisInputError(f"column {column!r} holds true/false values, not numbers")
    if pd.api.types.is_numeric_dtype(series):
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        bad = np.isinf(values)
    else:
        parsed = pd.to_numeric(series, errors="coerce")
        values = parsed.to_numpy(dtype="float64", na_value=np.nan)
        bad = (np.isnan(values) & series.notna().to_numpy()) | np.isinf(values)
    if bad.any():
        positions = np.flatnonzero(bad)
        first = int(positions[0])
        others = f" ({len(positions) - 1} other row(s) too)" if len(positions) > 1 else ""
        raise AnalysisInputError(
            f"column {column!r}, {describe_row(responses, first, id_column)}: "
            f"{series.iloc[first]!r} is not a number{others}"
        )
    return values
