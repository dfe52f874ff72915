"""Importing the customer base: validation, duplicates, all or nothing, re-import, history."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from survey.frame.importing import CustomerFileError, import_customers
from survey.frame.synthetic import synthetic_customer_csv
from survey.models import (
    AuditEvent,
    Customer,
    CustomerImport,
    CustomerImportTouch,
    utcnow,
)
from tests.frame.conftest import HEADER, csv_bytes

TODAY = date(2026, 1, 15)


def run_import(session, rows, **options):
    data = rows if isinstance(rows, bytes) else csv_bytes([HEADER, *rows])
    options.setdefault("today", TODAY)
    return import_customers(session, data, "base.csv", actor="test", **options)


def customers(session) -> dict[str, Customer]:
    return {c.external_id: c for c in session.scalars(select(Customer))}


def test_a_clean_file_creates_normalised_customers(session) -> None:
    report = run_import(session, [
        ["C1", "Jean.Dupont@Exemple.FR", "06 12 34 56 78", "fr", "25/04/2025", "pro"],
        ["C2", "", "+33 7 45 67 89 01", "English", "2025-04-26", "particulier"],
        ["C3", "zoe@exemple.fr", "", "", "", ""],
    ])
    session.commit()
    assert report.imported and not report.refused
    assert (report.rows_total, report.rows_created, report.rows_rejected) == (3, 3, 0)
    base = customers(session)
    assert base["C1"].email == "jean.dupont@exemple.fr"
    assert base["C1"].phone == "+33612345678"
    assert base["C1"].last_contact_on == date(2025, 4, 25)
    assert base["C1"].attributes == {"segment": "pro"}
    assert base["C2"].email is None and base["C2"].language == "en"
    assert base["C3"].language == "fr" and base["C3"].attributes == {}
    # Written in bulk as text, read back by the ORM as aware UTC timestamps.
    assert abs(base["C1"].created_at - utcnow()) < timedelta(minutes=5)
    assert base["C1"].updated_at == base["C1"].created_at and base["C1"].consent is True
    record = session.get(CustomerImport, report.import_id)
    assert record.sha256 == report.sha256 and len(record.sha256) == 64
    assert (record.rows_total, record.rows_created) == (3, 3)
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "customers.import")).one()
    assert "jean" not in str(event.summary).lower() and event.summary["created"] == 3


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        (["", "a@b.fr", "", "", "", ""], "N° client", "external id is required"),
        (["X" * 101, "a@b.fr", "", "", "", ""], "N° client", "longer than 100"),
        (["C1", "jean@", "", "", "", ""], "Courriel", "invalid email"),
        (["C1", "jean dupont@exemple.fr", "", "", "", ""], "Courriel", "invalid email"),
        (["C1", "", "06 39 80 00 00", "", "", ""], "Téléphone", "invalid phone number"),
        (["C1", "", "12", "", "", ""], "Téléphone", "invalid phone number"),
        (["C1", "a@b.fr", "", "de", "", ""], "Langue", "French (fr) or English (en)"),
        (["C1", "a@b.fr", "", "", "31/02/2025", ""], "Date dernier contact", "no such day"),
        (["C1", "a@b.fr", "", "", "04/25/2025", ""], "Date dernier contact", "no such day"),
        (["C1", "a@b.fr", "", "", "hier", ""], "Date dernier contact", "not a date"),
        (["C1", "a@b.fr", "", "", "2027-01-01", ""], "Date dernier contact", "in the future"),
    ],
)
def test_each_validation_rule_rejects_the_row_with_line_column_and_reason(
    session, row, column, reason
) -> None:
    report = run_import(session, [["C0", "ok@exemple.fr", "", "", "", ""], row])
    assert report.refused and not report.imported
    assert report.rows_rejected == 1
    [reject] = report.rejects
    assert (reject.line, reject.column) == (3, column)
    assert reason in reject.reason
    assert session.scalar(select(func.count()).select_from(Customer)) == 0


def test_rejected_personal_data_is_masked_in_the_report(session) -> None:
    report = run_import(session, [
        ["C1", "jean.dupont@exemple", "", "", "", ""],
        ["C2", "", "06 39 12 34 56", "", "", ""],
    ])
    values = [reject.value for reject in report.rejects]
    assert values == ["j***@e***", "06 ** ** ** 56"]


def test_duplicates_first_row_wins_and_later_rows_name_it(session) -> None:
    report = run_import(session, [
        ["C1", "a@exemple.fr", "06 12 34 56 78", "", "", ""],
        ["C1", "b@exemple.fr", "", "", "", ""],  # same external id
        ["C2", "A@Exemple.fr", "", "", "", ""],  # same email once normalised
        ["C3", "", "+33612345678", "", "", ""],  # same phone once normalised
        ["C4", "d@exemple.fr", "", "", "", ""],
    ])
    reasons = {reject.line: reject.reason for reject in report.rejects}
    assert reasons == {
        3: "duplicate external id: already on line 2 (the first row wins)",
        4: "duplicate email: already on line 2 (the first row wins)",
        5: "duplicate phone: already on line 2 (the first row wins)",
    }
    report = run_import(session, [
        ["C1", "a@exemple.fr", "06 12 34 56 78", "", "", ""],
        ["C1", "b@exemple.fr", "", "", "", ""],
        ["C4", "d@exemple.fr", "", "", "", ""],
    ], accept_rejects=True)
    session.commit()
    assert sorted(customers(session)) == ["C1", "C4"]
    assert customers(session)["C1"].email == "a@exemple.fr"
    assert session.get(CustomerImport, report.import_id).rejects[0]["line"] == 3


def test_a_contact_of_another_customer_of_the_base_is_rejected(session) -> None:
    run_import(session, [["C1", "a@exemple.fr", "", "", "", ""]])
    session.commit()
    report = run_import(session, [["C9", "a@exemple.fr", "", "", "", ""]])
    assert report.refused
    assert "belongs to customer C1" in report.rejects[0].reason
    # The same email moving within the file is fine: C1 gives it up, C9 takes it.
    report = run_import(session, [
        ["C1", "new@exemple.fr", "", "", "", ""], ["C9", "a@exemple.fr", "", "", "", ""],
    ])
    assert not report.refused


def test_rejects_accepted_import_the_valid_rows_and_keep_the_rejects(session) -> None:
    report = run_import(session, [
        ["C1", "a@exemple.fr", "", "", "", ""], ["C2", "nope", "", "", "", ""],
    ], accept_rejects=True)
    session.commit()
    assert report.imported and list(customers(session)) == ["C1"]
    record = session.get(CustomerImport, report.import_id)
    assert record.rejects_accepted and record.rows_rejected == 1
    assert record.rejects[0]["column"] == "Courriel"


def test_dry_run_reports_without_writing(session) -> None:
    report = run_import(session, [["C1", "a@exemple.fr", "", "", "", ""]], dry_run=True)
    assert report.rows_created == 1 and not report.imported
    assert session.scalar(select(func.count()).select_from(Customer)) == 0
    assert session.scalar(select(func.count()).select_from(CustomerImport)) == 0


def test_reimport_updates_by_external_id_and_keeps_history(session) -> None:
    first = run_import(session, [
        ["C1", "a@exemple.fr", "", "", "", "pro"], ["C2", "b@exemple.fr", "", "", "", "pro"],
    ])
    session.commit()
    second = run_import(session, [
        ["C1", "a@exemple.fr", "", "", "", "pro"],
        ["C2", "b2@exemple.fr", "", "en", "", "particulier"],
        ["C3", "c@exemple.fr", "", "", "", ""],
    ])
    session.commit()
    assert (second.rows_created, second.rows_updated, second.rows_unchanged) == (1, 1, 1)
    base = customers(session)
    assert base["C2"].email == "b2@exemple.fr" and base["C2"].language == "en"
    assert base["C2"].attributes == {"segment": "particulier"}
    history = {
        (touch.import_id, touch.customer_id): touch.action
        for touch in session.scalars(select(CustomerImportTouch))
    }
    assert history == {
        (first.import_id, base["C1"].id): "created",
        (first.import_id, base["C2"].id): "created",
        (second.import_id, base["C1"].id): "unchanged",
        (second.import_id, base["C2"].id): "updated",
        (second.import_id, base["C3"].id): "created",
    }


def test_formula_like_cells_are_stored_as_text(session) -> None:
    header = ["id", "email", "segment", "note"]
    rows = [
        ["=1+2", "a@exemple.fr", "+cmd|' /C calc'!A0", "-2+3"],
        ["C2", "b@exemple.fr", "@SUM(1,2)", '=HYPERLINK("http://x")'],
    ]
    report = import_customers(session, csv_bytes([header, *rows]), "f.csv", actor="test",
                              variables=["note"])
    session.commit()
    assert report.imported
    base = customers(session)
    assert base["=1+2"].attributes == {"segment": "+cmd|' /C calc'!A0", "note": "-2+3"}
    assert base["C2"].attributes == {"segment": "@SUM(1,2)", "note": '=HYPERLINK("http://x")'}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (csv_bytes([HEADER]), "header line but no customer rows"),
        (b"\x00\x01\x02binary\xff\xfe" * 100, "binary data"),
        (csv_bytes([["nom", "ville"], ["Jean", "Lyon"]]), "no column gives the customer's"),
        (csv_bytes([["id", "ville"], ["C1", "Lyon"]]), "no column gives an email or a phone"),
    ],
)
def test_files_that_cannot_be_imported_say_why(session, data: bytes, message: str) -> None:
    with pytest.raises(CustomerFileError, match=message):
        import_customers(session, data, "f.csv", actor="test")


def test_explicit_mapping_and_attribute_selection(session) -> None:
    data = csv_bytes([["ref", "contact", "gsm", "seg", "secret"],
                      ["R1", "a@exemple.fr", "0612345678", "pro", "x"]])
    report = import_customers(
        session, data, "f.csv", actor="test",
        columns={"external_id": "ref", "email": "contact", "phone": "gsm"}, attributes=["seg"],
    )
    session.commit()
    customer = customers(session)["R1"]
    assert (customer.email, customer.phone, customer.attributes) == (
        "a@exemple.fr", "+33612345678", {"seg": "pro"})
    assert report.mapping.fields["phone"] == "gsm"
    with pytest.raises(CustomerFileError, match="does not have"):
        import_customers(session, data, "f.csv", actor="test", columns={"email": "nope"})


def test_cli_exit_status_two_when_rows_are_rejected(runner, app, tmp_path: Path) -> None:
    path = tmp_path / "base.csv"
    path.write_bytes(csv_bytes([HEADER, ["C1", "a@exemple.fr", "", "", "", ""],
                                ["C2", "bad@", "", "", "", ""]]))
    result = runner.invoke(["customers", "import", str(path)])
    assert result.exit_code == 2
    assert "line 3: Courriel: invalid email" in result.output
    assert "nothing imported" in result.output
    result = runner.invoke(["customers", "import", str(path), "--dry-run", "--accept-rejects"])
    assert result.exit_code == 0 and "dry run" in result.output
    result = runner.invoke(["customers", "import", str(path), "--accept-rejects"])
    assert result.exit_code == 0 and "imported" in result.output
    with app.app_context():
        from survey.extensions import db

        assert db.session.scalar(select(func.count()).select_from(Customer)) == 1
    result = runner.invoke(["customers", "import", str(tmp_path / "missing.csv")])
    assert result.exit_code == 2


def test_an_import_killed_midway_leaves_the_base_unchanged(app, tmp_path: Path) -> None:
    from survey.extensions import db

    with app.app_context():
        run_import(db.session, [["K1", "k@exemple.fr", "", "", "", "pro"]])
        db.session.commit()
    path = tmp_path / "big.csv"
    path.write_bytes(synthetic_customer_csv(150_000))
    env = {
        **os.environ,
        "BAROMETRE_INSTANCE_PATH": app.config["INSTANCE_PATH"],
        "BAROMETRE_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "BAROMETRE_SECRET_KEY": app.config["SECRET_KEY"],
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "survey", "customers", "import", str(path)],
        env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
    )
    deadline = time.monotonic() + 120
    for line in process.stderr:
        if line.startswith("writing") or time.monotonic() > deadline:
            break
    time.sleep(0.3)  # inside the bulk insert
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    with app.app_context():
        db.session.remove()
        assert [c.external_id for c in db.session.scalars(select(Customer))] == ["K1"]
        assert db.session.scalar(select(func.count()).select_from(CustomerImport)) == 1


def test_an_xlsx_export_imports_through_the_same_rules(session) -> None:
    import io
    from datetime import datetime

    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Identifiant", "E-mail", "Mobile", "Dernier contact", "Canal"])
    sheet.append(["X1", "x@exemple.fr", 612345678, datetime(2025, 4, 25), "=A1"])
    sheet.append(["X2", "bad", None, None, "chat"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    report = import_customers(session, buffer.getvalue(), "base.xlsx", actor="test",
                              accept_rejects=True, today=TODAY)
    session.commit()
    assert report.file_format == "xlsx" and report.rows_rejected == 1
    customer = customers(session)["X1"]
    assert customer.phone == "+33612345678"  # Excel dropped the leading zero
    assert customer.last_contact_on == date(2025, 4, 25)
    assert customer.attributes == {"canal": "=A1"}


def test_trailing_separators_and_blank_lines_are_tolerated(session) -> None:
    data = b"id;email;\r\nC1;a@exemple.fr;\r\n;;\r\n\r\nC2;b@exemple.fr;;\r\n"
    report = import_customers(session, data, "f.csv", actor="test")
    assert report.imported and report.rows_created == 2 and report.rows_total == 2
