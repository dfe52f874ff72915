"""Spreadsheets that would exhaust the server are refused before the work (issue #23)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from survey.frame.reading import (
    XLSX_MAX_SHARED_STRINGS_BYTES,
    FileFormatError,
    read_table,
)

ROWS = [["N° client", "Courriel", "Segment"], ["C1", "a@exemple.fr", "pro"],
        ["C2", "b@exemple.fr", "particulier"]]


def _workbook(rows=ROWS) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _rewrite(data: bytes, name: str, write) -> bytes:
    """The workbook with part `name` replaced (or added) by what `write(handle, original)`
    writes."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target:
        names = [part.filename for part in source.infolist()]
        for part_name in [*names, *([name] if name not in names else [])]:
            original = source.read(part_name) if part_name in names else b""
            if part_name == name:
                with target.open(name, "w", force_zip64=True) as handle:
                    write(handle, original)
            else:
                target.writestr(part_name, original)
    return buffer.getvalue()


SHARED_STRINGS = ("application/vnd.openxmlformats-officedocument.spreadsheetml."
                  "sharedStrings+xml")


def expanding_workbook() -> bytes:
    """A workbook of a few hundred kilobytes whose text table expands past the limit, declared
    in its content types so that a reader loads it."""
    chunk = b"<si><t>" + b"x" * 1000 + b"</t></si>"
    block = chunk * 1024

    def strings(handle, original: bytes) -> None:
        handle.write(b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.'
                     b'openxmlformats.org/spreadsheetml/2006/main">')
        for _ in range(XLSX_MAX_SHARED_STRINGS_BYTES // len(block) + 16):
            handle.write(block)
        handle.write(b"</sst>")

    def content_types(handle, original: bytes) -> None:
        handle.write(original.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml"'
                                      b' ContentType="' + SHARED_STRINGS.encode() + b'"/></Types>'))

    data = _rewrite(_workbook(), "[Content_Types].xml", content_types)
    return _rewrite(data, "xl/sharedStrings.xml", strings)


def huge_dimension_workbook() -> bytes:
    """A tiny sheet that declares every cell Excel allows (A1:XFD1048576)."""

    def write(handle, original: bytes) -> None:
        text = original.decode()
        start = text.index("<dimension ref=")
        end = text.index("/>", start) + 2
        handle.write((text[:start] + '<dimension ref="A1:XFD1048576"/>' + text[end:]).encode())

    return _rewrite(_workbook(), "xl/worksheets/sheet1.xml", write)


def _read_in_child(path: Path) -> dict:
    """read_table in a fresh process: its outcome and its peak memory."""
    script = (
        "import json, sys\n"
        "from survey.frame.reading import FileFormatError, read_table\n"
        "data = open(sys.argv[1], 'rb').read()\n"
        "try:\n"
        "    table = read_table(data, 'base.xlsx'); rows = sum(1 for _ in table.rows)\n"
        "    outcome = f'read {rows} rows'\n"
        "except FileFormatError as exc:\n"
        "    outcome = str(exc)\n"
        # VmHWM: the peak of this program's own memory (ru_maxrss would count the forking
        # parent's too, kept across exec).
        "peak = next(int(line.split()[1]) * 1024 for line in open('/proc/self/status')\n"
        "            if line.startswith('VmHWM:'))\n"
        "print(json.dumps({'outcome': outcome, 'peak': peak}))\n"
    )
    result = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True,
                            text=True, check=True, cwd=Path(__file__).parents[2], timeout=300)
    return json.loads(result.stdout)


def test_an_expanding_workbook_is_refused_within_a_memory_bound(tmp_path: Path) -> None:
    data = expanding_workbook()
    assert len(data) < 20 * 1024**2  # small on disk, several hundred MB expanded
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(data)
    child = _read_in_child(path)
    assert "text table expands to" in child["outcome"]
    assert child["peak"] < 400 * 1024**2  # far below the expanded size


def test_a_sheet_declaring_huge_dimensions_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "wide.xlsx"
    path.write_bytes(huge_dimension_workbook())
    child = _read_in_child(path)
    assert "declares 1,048,576 rows and 16,384 columns" in child["outcome"]
    assert child["peak"] < 400 * 1024**2


def test_a_cell_far_to_the_right_is_refused_at_its_row() -> None:
    rows = [*ROWS, ["C3", "c@exemple.fr", "pro"]]
    data = _workbook(rows)

    def write(handle, original: bytes) -> None:
        # A last row with one cell in column XFD, under a dimension that does not say so.
        handle.write(original.replace(
            b"</sheetData>", b'<row r="5"><c r="XFD5" t="inlineStr"><is><t>x</t></is></c></row>'
            b"</sheetData>"))

    table = read_table(_rewrite(data, "xl/worksheets/sheet1.xml", write), "base.xlsx")
    with pytest.raises(FileFormatError, match="row 5 of the sheet has a cell beyond column"):
        list(table.rows)


def test_an_ordinary_workbook_still_reads_with_its_line_numbers() -> None:
    table = read_table(_workbook([*ROWS[:2], [], ROWS[2]]), "base.xlsx")
    assert table.headers == ROWS[0]
    assert [line for line, _ in table.rows] == [2, 4]
