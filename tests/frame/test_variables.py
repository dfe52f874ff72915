"""Declared customer columns: only survey variables are stored and reach auditors (issue #23)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from survey.extensions import db
from survey.frame.importing import CustomerFileError, UndeclaredColumnsError, import_customers
from survey.frame.variables import declare_variable, frame_variables
from survey.models import Customer, CustomerImport, Invitation, SurveyVariable
from tests.frame.conftest import HEADER, csv_bytes

TODAY = date(2026, 1, 15)
PERSONAL_HEADER = ["id", "email", "telephone", "mobile", "prenom", "nom", "adresse",
                   "date_naissance", "email_pro", "segment"]


def personal_rows(count: int) -> list[list[str]]:
    """Rows like the security review's file: contacts, address, birth date, work email."""
    return [
        [f"K{i:04d}", f"client{i}@exemple.fr", f"01 45 {i // 100:02d} {i % 100:02d} 11",
         f"06 {i // 100:02d} {i % 100:02d} 33 44", f"Prénom{i}", f"Nom{i}",
         f"{i} rue des Lilas, Lyon", f"1970-01-{i % 28 + 1:02d}", f"pro{i}@societe.fr",
         ("pro", "particulier")[i % 2]]
        for i in range(count)
    ]


def personal_values(rows: list[list[str]]) -> set[str]:
    """Every value of a personal or undeclared column, as the file wrote it and normalised."""
    values = set()
    for row in rows:
        values.update(row[1:9])
        values.add("+33" + row[3].replace(" ", "")[1:])
        values.add("+33" + row[2].replace(" ", "")[1:])
    return values


def test_undeclared_columns_refuse_the_file_naming_them(session) -> None:
    data = csv_bytes([PERSONAL_HEADER, *personal_rows(3)])
    with pytest.raises(UndeclaredColumnsError) as caught:
        import_customers(session, data, "f.csv", actor="test", today=TODAY)
    assert caught.value.columns == ["mobile", "prenom", "adresse", "date_naissance", "email_pro"]
    assert "never stored" in str(caught.value)
    assert session.scalar(select(Customer).limit(1)) is None


def test_ignored_columns_are_not_stored_and_variables_are_declared(session) -> None:
    rows = personal_rows(20)
    report = import_customers(session, csv_bytes([PERSONAL_HEADER, *rows]), "f.csv",
                              actor="test", today=TODAY, ignore_others=True)
    session.commit()
    assert report.imported
    assert report.mapping.ignored == ("mobile", "prenom", "adresse", "date_naissance",
                                      "email_pro")
    stored = session.execute(text("SELECT CAST(attributes AS TEXT) FROM customer")).scalars()
    assert {tuple(json.loads(value)) for value in stored} == {("segment",)}
    assert [(v.name, v.label, v.allowed_values) for v in frame_variables(session)] == [
        ("segment", "segment", None)]
    record = session.get(CustomerImport, report.import_id)
    assert record.mapping["ignored"] == list(report.mapping.ignored)


@pytest.mark.parametrize(
    ("column", "reason"),
    [("email_pro", "holds an email address"), ("mobile", "holds a phone number"),
     ("adresse", "distinct values")],
)
def test_a_personal_column_cannot_be_a_survey_variable(session, column, reason) -> None:
    data = csv_bytes([PERSONAL_HEADER, *personal_rows(60)])
    with pytest.raises(CustomerFileError, match=reason):
        import_customers(session, data, "f.csv", actor="test", today=TODAY,
                         variables=[column], ignore_others=True)


def test_declared_values_are_checked_row_by_row(session) -> None:
    declare_variable(session, "Segment", allowed_values=["pro", "particulier"])
    report = import_customers(session, csv_bytes([HEADER, ["C1", "a@exemple.fr", "", "", "",
                                                            "pro"],
                                                  ["C2", "b@exemple.fr", "", "", "", "autre"]]),
                              "f.csv", actor="test", today=TODAY)
    assert report.refused
    assert [(r.line, r.column, r.value) for r in report.rejects] == [(3, "Segment", "autre")]
    assert "not a value of survey variable 'segment'" in report.rejects[0].reason


def test_a_declared_variable_is_kept_in_later_files(session) -> None:
    declare_variable(session, "agence_locale", "Agence locale", max_levels=3)
    header = ["id", "email", "Agence locale"]
    report = import_customers(session, csv_bytes([header, ["C1", "a@exemple.fr", "Lyon"]]),
                              "f.csv", actor="test", today=TODAY)
    assert report.mapping.attributes == {"agence_locale": "Agence locale"}
    many = [[f"C{i}", f"c{i}@exemple.fr", f"ville {i}"] for i in range(4)]
    with pytest.raises(CustomerFileError, match="at most 3"):
        import_customers(session, csv_bytes([header, *many]), "f.csv", actor="test",
                         today=TODAY)


def test_the_cli_refuses_undeclared_columns_and_reads_a_mapping_file(
    runner, app, tmp_path: Path
) -> None:
    path = tmp_path / "base.csv"
    path.write_bytes(csv_bytes([PERSONAL_HEADER, *personal_rows(5)]))
    result = runner.invoke(args=["customers", "import", str(path)])
    assert result.exit_code == 2
    assert "'adresse'" in result.output and "--ignore-others" in result.output
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"columns": {"mobile": "ignore", "segment": "variable"},
                                   "ignore_others": True}))
    result = runner.invoke(args=["customers", "import", str(path), "--mapping", str(mapping)])
    assert result.exit_code == 0, result.output
    assert "ignored columns (not stored): mobile, prenom" in result.output
    result = runner.invoke(args=["customers", "declare", "canal", "--values", "web,tel"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["customers", "variables", "--json"])
    assert [v["name"] for v in json.loads(result.output)["variables"]] == ["canal", "segment"]
    result = runner.invoke(args=["customers", "declare", "x", "--values", "a@b.fr"])
    assert result.exit_code == 2 and "email" in result.output


def test_auditors_exports_design_and_report_hold_no_personal_value(app, tmp_path) -> None:
    """The review's file end to end: nothing of a personal or undeclared column reaches an
    auditor's export, the design file or the report."""
    from survey.campaigns.operations import create_campaign
    from survey.frame.sampling import draw_sample, plan_campaign
    from survey.reporting.operations import export_campaign, generate_report
    from survey.reporting.synthetic import seed_synthetic_responses

    rows = personal_rows(400)
    with app.app_context():
        import_customers(db.session, csv_bytes([PERSONAL_HEADER, *rows]), "f.csv",
                         actor="test", ignore_others=True)
        campaign = create_campaign(db.session, "pd-2026", programme="PD", year=2026,
                                   questionnaire_key="nf-relation-client", actor="test")
        secret = app.config["SECRET_KEY"]
        plan_campaign(db.session, campaign, strata_variables=["segment"], margin=0.1,
                      confidence=0.95, response_rate=0.5, secret_key=secret, actor="test")
        draw_sample(db.session, campaign, 7, secret_key=secret, actor="test")
        invitations = db.session.scalars(
            select(Invitation).where(Invitation.campaign_id == campaign.id)).all()
        assert {key for i in invitations for key in i.attributes} == {"segment", "language"}
        seed_synthetic_responses(db.session, campaign, rng_seed=3,
                                 n_respondents=len(invitations) // 2)
        db.session.commit()
        generated = generate_report(db.session, campaign, lang="fr",
                                    instance_path=app.instance_path, actor="test")
        done = export_campaign(db.session, campaign, fmt="csv", out=tmp_path / "d.csv",
                               actor="test")
        db.session.commit()
    texts = {
        "export": Path(done.data_path).read_text(encoding="utf-8"),
        "design": Path(done.design_path).read_text(encoding="utf-8"),
        "report": generated.html,
    }
    assert set(json.loads(texts["design"])["population"]) == {"pro", "particulier"}
    for name, content in texts.items():
        leaked = [value for value in personal_values(rows) if value in content]
        assert leaked == [], f"{name} holds {leaked[:3]}"
    for column in PERSONAL_HEADER[3:9]:
        assert f'"{column}"' not in texts["design"]


def test_the_migration_keeps_plan_variables_and_drops_other_attributes(tmp_path) -> None:
    """An installation of the previous version: only the attributes a plan uses survive."""
    from survey import create_app
    from survey.database import upgrade_database

    url = f"sqlite:///{tmp_path / 'old.db'}"
    app = create_app({"INSTANCE_PATH": str(tmp_path), "SQLALCHEMY_DATABASE_URI": url,
                      "TESTING": True})
    upgrade_database(app, "0001")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO customer (id, external_id, language, attributes, consent, created_at, "
            "updated_at) VALUES (1, 'C1', 'fr', :attributes, 1, '2026-01-01', '2026-01-01')"),
            {"attributes": json.dumps({"segment": "pro", "adresse": "1 rue X",
                                       "mobile": "0612345678"})})
        connection.execute(text(
            "INSERT INTO programme (id, name, created_at) VALUES (1, 'P', '2026-01-01')"))
        connection.execute(text(
            "INSERT INTO questionnaire_version (id, key, version, title, sha256, definition, "
            "created_at) VALUES (1, 'q', '1', 't', :sha, '{}', '2026-01-01')"), {"sha": "a" * 64})
        connection.execute(text(
            "INSERT INTO campaign (id, slug, programme_id, year, questionnaire_version_id, "
            "status, channels, reminder_days, plan, created_at) VALUES (1, 'c', 1, 2026, 1, "
            "'sampled', '[\"email\"]', '[]', :plan, '2026-01-01')"),
            {"plan": json.dumps({"strata_variables": ["segment"]})})
        connection.execute(text(
            "INSERT INTO invitation (id, campaign_id, customer_id, stratum, design_weight, "
            "attributes, token_salt, token_hash, language, channel, disposition, is_test, "
            "created_at) VALUES (1, 1, 1, 'pro', 1.0, :attributes, 's', :hash, 'fr', 'email', "
            "'pending', 0, '2026-01-01')"),
            {"attributes": json.dumps({"segment": "pro", "prenom": "Jean", "language": "fr"}),
             "hash": "b" * 64})
    upgrade_database(app)
    with engine.connect() as connection:
        assert json.loads(connection.execute(text(
            "SELECT attributes FROM customer")).scalar()) == {"segment": "pro"}
        assert json.loads(connection.execute(text(
            "SELECT attributes FROM invitation")).scalar()) == {"segment": "pro", "language": "fr"}
    with app.app_context():
        assert [v.name for v in db.session.scalars(select(SurveyVariable))] == ["segment"]
        db.engine.dispose()
    engine.dispose()
