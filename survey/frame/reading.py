"""Reading a customer file into columns of text: CSV (encoding and separator detected) or XLSX.

Nothing here interprets a cell: every value is kept as the text it is, so a cell such as
``=HYPERLINK(...)`` or ``+33…`` or ``-12`` stays that string (never a formula, never a number).
XLSX formulas are read as their formula text, not as a computed value.
"""

from __future__ import annotations

import csv
import io
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time

UTF8_BOM = b"\xef\xbb\xbf"
DELIMITERS = (";", ",", "\t")
DELIMITER_NAMES = {";": "semicolon", ",": "comma", "\t": "tab"}
XLSX_MAGIC = b"PK\x03\x04"

# An XLSX workbook is a zip of XML files: a small file can expand to gigabytes, or declare a
# sheet of 16,384 columns. These limits are checked before any cell is read, from the zip's
# directory and the sheet's declared dimension, and refuse the file with a message; each is far
# above what a customer base of a few million rows needs.
XLSX_MAX_EXPANDED_BYTES = 2 * 1024**3  # every part of the workbook, uncompressed
XLSX_MAX_SHARED_STRINGS_BYTES = 256 * 1024**2  # the shared strings, read whole into memory
XLSX_MAX_COLUMNS = 500
XLSX_MAX_ROWS = 1_048_576  # Excel's own limit


class FileFormatError(ValueError):
    """The file as a whole cannot be read as a customer table; the message says why."""


@dataclass
class Table:
    """A file's header and an iterator over its rows, all as text.

    `rows` yields ``(line, cells)``: the line of the file where the row begins (CSV: physical
    line, the header being line 1; XLSX: the sheet's row number) and the row's cells, which
    may be more or fewer than the headers. Blank rows are skipped.
    """

    headers: list[str]
    rows: Iterator[tuple[int, list[str]]]
    file_format: str  # "csv" or "xlsx"
    encoding: str | None = None
    delimiter: str | None = None


def header_key(header: str) -> str:
    """The comparable form of a header: no accents, lowercase, words joined by underscores.

    ``"N° client"`` → ``"n_client"``, ``"Téléphone mobile"`` → ``"telephone_mobile"``.
    """
    decomposed = unicodedata.normalize("NFKD", header)
    ascii_only = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    chars = [ch if ch.isalnum() else "_" for ch in ascii_only.lower()]
    return "_".join(part for part in "".join(chars).split("_") if part)


def read_table(data: bytes, filename: str = "") -> Table:
    """Read CSV or XLSX bytes; raises `FileFormatError` with the reason when it cannot."""
    if not data.strip():
        raise FileFormatError("the file is empty")
    if data.startswith(XLSX_MAGIC) or filename.lower().endswith(".xlsx"):
        return _read_xlsx(data)
    text, encoding = decode_text(data)
    return _read_csv(text, encoding)


def decode_text(data: bytes) -> tuple[str, str]:
    """The text and the encoding it was found in: UTF-8 with BOM, UTF-8, else Windows-1252.

    UTF-8 is tried first because a Windows-1252 file with accented letters is almost never
    valid UTF-8, while the reverse is common. A file with NUL bytes or other control
    characters is not a text export.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileFormatError(
            "the file is in UTF-16 (Excel's “Unicode text”), which is not supported: export it "
            "as “CSV UTF-8” or XLSX"
        )
    if b"\x00" in data[:65536]:
        raise FileFormatError(
            "the file is not a text CSV file (it contains binary data); export the customer "
            "base as CSV or XLSX"
        )
    attempts = ["utf-8-sig"] if data.startswith(UTF8_BOM) else ["utf-8", "windows-1252"]
    for encoding in attempts:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError as exc:
            failure = exc
    else:
        raise FileFormatError(
            f"the file is neither UTF-8 nor Windows-1252 text (byte "
            f"0x{data[failure.start]:02x} at offset {failure.start}); export the customer "
            "base as CSV or XLSX"
        ) from failure
    sample = text[:65536]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\r\n")
    if controls > len(sample) // 100:
        raise FileFormatError(
            "the file is not a text CSV file (it contains binary data); export the customer "
            "base as CSV or XLSX"
        )
    return text, encoding


def detect_delimiter(first_line: str) -> str:
    """The separator used most often in the header line, outside quotes (``,`` if none)."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for ch in first_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_csv(text: str, encoding: str) -> Table:
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = detect_delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)

    def records() -> Iterator[tuple[int, list[str]]]:
        line_after_previous = 1
        try:
            for record in reader:
                starts_on = line_after_previous
                line_after_previous = reader.line_num + 1
                if "".join(record).strip():  # not a blank line
                    yield starts_on, record
        except csv.Error as exc:
            raise FileFormatError(
                f"line {reader.line_num}: the CSV cannot be read ({exc})"
            ) from exc

    rows = records()
    headers = _headers(next(rows, None))
    return Table(headers, rows, "csv", encoding=encoding, delimiter=delimiter)


def _headers(first: tuple[int, list[str]] | None) -> list[str]:
    if first is None:
        raise FileFormatError("the file is empty")
    headers = [cell.strip() for cell in first[1]]
    while headers and not headers[-1]:
        headers.pop()  # trailing separators
    blank = [str(i + 1) for i, header in enumerate(headers) if not header]
    if blank:
        raise FileFormatError(f"columns {', '.join(blank)} have no name in the header line")
    seen: set[str] = set()
    for header in headers:
        if header in seen:
            raise FileFormatError(f"column {header!r} appears twice in the header line")
        seen.add(header)
    return headers


def _xlsx_text(value: object) -> str:
    """A cell as text: dates in ISO form, whole numbers without ``.0``, formulas as written."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _megabytes(size: int) -> str:
    return f"{size / 1024**2:,.0f} MB"


def check_xlsx_limits(data: bytes) -> None:
    """Refuse a workbook whose parts expand past the limits, from the zip's directory alone.

    The sizes are those the zip declares; reading a part never yields more than its declared
    size (Python's zipfile stops there), so they bound the work and the memory.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise FileFormatError(f"the XLSX workbook cannot be read ({exc})") from exc
    expanded = sum(part.file_size for part in parts)
    if expanded > XLSX_MAX_EXPANDED_BYTES:
        raise FileFormatError(
            f"the XLSX workbook expands to {_megabytes(expanded)}, more than the "
            f"{_megabytes(XLSX_MAX_EXPANDED_BYTES)} accepted: save the sheet as CSV"
        )
    for part in parts:
        if part.filename.lower().endswith("sharedstrings.xml") and (
            part.file_size > XLSX_MAX_SHARED_STRINGS_BYTES
        ):
            raise FileFormatError(
                f"the XLSX workbook's text table expands to {_megabytes(part.file_size)}, more "
                f"than the {_megabytes(XLSX_MAX_SHARED_STRINGS_BYTES)} accepted: save the "
                "sheet as CSV"
            )


def _read_xlsx(data: bytes) -> Table:
    from openpyxl import load_workbook

    check_xlsx_limits(data)
    try:
        # data_only=False: a formula cell yields its formula text, never a computed value.
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        sheet = workbook.worksheets[0]
        columns, rows_declared = sheet.max_column or 0, sheet.max_row or 0
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, IndexError) as exc:
        raise FileFormatError(f"the XLSX workbook cannot be read ({exc})") from exc
    if columns > XLSX_MAX_COLUMNS or rows_declared > XLSX_MAX_ROWS:
        workbook.close()
        raise FileFormatError(
            f"the sheet declares {rows_declared:,} rows and {columns:,} columns: a customer "
            f"file has at most {XLSX_MAX_COLUMNS} columns (and {XLSX_MAX_ROWS:,} rows). Delete "
            "the empty columns, or save the sheet as CSV"
        )
    # Read the cells the sheet holds, not the rectangle it declares.
    sheet.reset_dimensions()

    def records() -> Iterator[tuple[int, list[str]]]:
        try:
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                if len(values) > XLSX_MAX_COLUMNS:
                    raise FileFormatError(
                        f"row {number} of the sheet has a cell beyond column "
                        f"{XLSX_MAX_COLUMNS}: a customer file has at most {XLSX_MAX_COLUMNS} "
                        "columns. Delete the cells on the right, or save the sheet as CSV"
                    )
                cells = [_xlsx_text(value) for value in values]
                while cells and not cells[-1].strip():
                    cells.pop()
                if cells:
                    yield number, cells
        finally:
            workbook.close()

    rows = records()
    first = next(rows, None)
    if first is None:
        raise FileFormatError("the workbook's first sheet is empty")
    return Table(_headers(first), rows, "xlsx")
