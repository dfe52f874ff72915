"""Reading customer files: encodings, separators, quoting, XLSX, and files that are not tables."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from survey.frame.reading import FileFormatError, detect_delimiter, header_key, read_table
from tests.frame.conftest import csv_bytes

ROWS = [["N° client", "Nom", "Segment"], ["C1", "Hélène Lefèvre", "pro"], ["C2", "Zoé", "ré"]]


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("windows-1252", "windows-1252")],
)
@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
def test_each_encoding_and_separator_is_detected(
    encoding: str, expected: str, delimiter: str
) -> None:
    table = read_table(csv_bytes(ROWS, delimiter=delimiter, encoding=encoding))
    assert table.encoding == expected
    assert table.delimiter == delimiter
    assert table.headers == ["N° client", "Nom", "Segment"]
    assert list(table.rows) == [(2, ["C1", "Hélène Lefèvre", "pro"]), (3, ["C2", "Zoé", "ré"])]


def test_quoted_fields_keep_separators_and_newlines_and_lines_are_counted() -> None:
    data = 'id;note;segment\r\nC1;"a; b";pro\r\nC2;"two\r\nlines";x\r\n\r\nC3;"say ""hi""";y\r\n'
    table = read_table(data.encode())
    assert list(table.rows) == [
        (2, ["C1", "a; b", "pro"]),
        (3, ["C2", "two\r\nlines", "x"]),
        (6, ["C3", 'say "hi"', "y"]),
    ]


def test_delimiter_is_the_most_frequent_outside_quotes() -> None:
    assert detect_delimiter('"a,b,c";d;e') == ";"
    assert detect_delimiter("a\tb\tc") == "\t"
    assert detect_delimiter("single") == ","


def test_headers_compare_without_accents_or_case() -> None:
    assert header_key("N° client") == "n_client"
    assert header_key("  Téléphone Mobile ") == "telephone_mobile"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"  \r\n \r\n", "the file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary data"),
        (bytes(range(1, 32)) * 50, "binary data"),
        (b"id;id\r\n1;2\r\n", "appears twice"),
        (b"id;;x\r\n1;2;3\r\n", "no name"),
        (b"PK\x03\x04not really a workbook", "XLSX workbook cannot be read"),
        ("id;email\r\n".encode("utf-16"), "UTF-16"),
    ],
)
def test_files_that_are_not_customer_tables_are_refused_clearly(data: bytes, message: str):
    with pytest.raises(FileFormatError, match=message):
        table = read_table(data, "customers.csv")
        list(table.rows)


def test_xlsx_cells_are_read_as_text_and_formulas_are_never_evaluated() -> None:
    from datetime import datetime

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["id", "phone", "last contact", "segment", "note"])
    sheet.append(["C1", 612345678, datetime(2025, 4, 25), "=1+2", "=HYPERLINK(\"x\")"])
    sheet.append([None, None, None, None, None])
    sheet.append(["C2", "+33 7 45 67 89 01", "25/04/2025", "-3", "@SUM(A1)"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    table = read_table(buffer.getvalue(), "base.xlsx")
    assert table.file_format == "xlsx"
    assert list(table.rows) == [
        (2, ["C1", "612345678", "2025-04-25", "=1+2", '=HYPERLINK("x")']),
        (4, ["C2", "+33 7 45 67 89 01", "25/04/2025", "-3", "@SUM(A1)"]),
    ]
