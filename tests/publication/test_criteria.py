"""Performance criteria (issue #18): defined per programme, monthly values imported from a CSV
(refused whole with line and field) or typed in a form, read against their targets on the
command line, the manager's page and the yearly report."""

from __future__ import annotations

import html
import io

from sqlalchemy import func, select

from survey.auth.operations import create_user
from survey.campaigns.operations import get_or_create_programme
from survey.extensions import db
from survey.models import AuditEvent, CriterionValue
from survey.publication.criteria import criteria_table, months_between

PASSWORD = "a-long-password-123"
GOOD = (
    "month;criterion;value;numerator;denominator\n"
    "2026-01;calls-60s;81,0;810;1000\n"
    "2026-01;reply-days;1,8;;\n"
    "2026-02;calls-60s;;700;1000\n"
    "2026-02;reply-days;2,5;;\n"
)
BAD = (
    "month,criterion,value,numerator,denominator\n"
    "2026-03,calls-60s,90,900,1000\n"  # good: still not imported
    "2026-13,calls-60s,81,810,1000\n"
    "2026-01,nope,1,,\n"
    "2026-02,reply-days,x,,\n"
    "2026-05,calls-60s,50,810,1000\n"
    "2026-04,calls-60s,,1001,1000\n"
)


def _define(app, runner) -> None:
    with app.app_context():
        get_or_create_programme(db.session, "Centre", actor="test")
        db.session.commit()
    for args in (
        ["calls-60s", "--label-fr", "Appels décrochés en moins de 60 s", "--label-en",
         "Calls answered within 60 s", "--unit", "rate", "--target", "80", "--direction",
         "higher", "--item", "phone_wait"],
        ["reply-days", "--label-fr", "Délai de réponse écrite", "--label-en",
         "Written reply delay", "--unit", "days", "--target", "2", "--direction", "lower"],
    ):
        result = runner.invoke(["criteria", "define", "Centre", *args])
        assert result.exit_code == 0, result.output


def test_import_list_and_the_year_against_targets(app, runner, tmp_path) -> None:
    _define(app, runner)
    path = tmp_path / "criteria.csv"
    path.write_bytes(GOOD.encode("windows-1252"))
    result = runner.invoke(["criteria", "import", "Centre", str(path)])
    assert result.exit_code == 0, result.output
    assert "4 months added" in result.output
    again = runner.invoke(["criteria", "import", "Centre", str(path)])
    assert "4 unchanged" in again.output
    listed = runner.invoke(["criteria", "list", "Centre"])
    assert "2026-01\t81.0%\tmet" in listed.output
    assert "2026-02\t70.0%\tmissed" in listed.output
    assert "2026-02\t2.5\tmissed" in listed.output
    with app.app_context():
        from survey.models import Programme

        programme = db.session.scalar(select(Programme))
        table = {row["code"]: row for row in criteria_table(
            db.session, programme, months_between("2026-01", "2026-12"))}
        calls = table["calls-60s"]
        assert calls["target"] == 0.8 and calls["item"] == "phone_wait"
        # A rate over the year pools its counts: (810 + 700) / 2000.
        assert calls["period"]["value"] == 1510 / 2000
        assert calls["period"]["months_met"] == 1 and calls["period"]["months_measured"] == 2
        assert table["reply-days"]["period"]["value"] == (1.8 + 2.5) / 2
        assert table["reply-days"]["months"][0]["met"] is True
        assert table["reply-days"]["months"][2]["value"] is None


def test_a_bad_file_is_refused_whole_with_line_and_field(app, runner, tmp_path) -> None:
    _define(app, runner)
    path = tmp_path / "bad.csv"
    path.write_text(BAD, encoding="utf-8")
    result = runner.invoke(["criteria", "import", "Centre", str(path)])
    assert result.exit_code == 2
    for expected in ("line 3, field month", "line 4, field criterion", "line 5, field value",
                     "line 6, field value", "line 7, field numerator", "nothing imported"):
        assert expected in result.output, expected
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CriterionValue)) == 0
    missing = tmp_path / "missing.csv"
    missing.write_text("month,value\n2026-01,3\n", encoding="utf-8")
    refused = runner.invoke(["criteria", "import", "Centre", str(missing)])
    assert refused.exit_code == 2 and "line 1, field criterion: column missing" in refused.output
    wrong = runner.invoke(["criteria", "define", "Centre", "x", "--label-fr", "a", "--label-en",
                           "b", "--unit", "rate", "--target", "150", "--direction", "higher"])
    assert wrong.exit_code == 2 and "target" in wrong.output


def test_the_manager_page_imports_records_and_shows_errors(app, client, runner) -> None:
    _define(app, runner)
    with app.app_context():
        create_user(db.session, "m@centre.example", "manager", PASSWORD, actor="test")
        create_user(db.session, "a@centre.example", "auditor", PASSWORD, actor="test")
        from survey.models import Programme

        programme_id = db.session.scalar(select(Programme.id))
        db.session.commit()
    base = f"/manage/programmes/{programme_id}/criteria"
    client.post("/login", data={"email": "m@centre.example", "password": PASSWORD})
    refused = client.post(f"{base}/import", data={"upload-file": (io.BytesIO(BAD.encode()),
                                                                  "bad.csv")},
                          content_type="multipart/form-data")
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "Ligne 5, champ value" in page and "Ligne 7, champ numerator" in page
    # Each reason in French too, never the command line's English inside a French sentence.
    page = html.unescape(page)
    assert "« 2026-13 » n'est pas un mois écrit AAAA-MM." in page
    assert "« nope » n'est pas un critère du programme" in page
    assert "« x » n'est pas un nombre." in page
    assert "50 % ne concorde pas avec 810/1000 = 81 %." in page
    assert "1001 dépasse le dénominateur 1000." in page
    assert "is not a month" not in page and "is more than the denominator" not in page
    done = client.post(f"{base}/import", data={"upload-file": (io.BytesIO(GOOD.encode()),
                                                               "good.csv")},
                       content_type="multipart/form-data")
    assert done.status_code == 303
    typed = client.post(f"{base}/value", data={
        "value-criterion": "calls-60s", "value-month": "2026-03", "value-numerator": "9",
        "value-denominator": "10"})
    assert typed.status_code == 303
    wrong = client.post(f"{base}/value", data={
        "value-criterion": "calls-60s", "value-month": "2026-04", "value-numerator": "11",
        "value-denominator": "10"})
    assert wrong.status_code == 422
    assert "11 dépasse le dénominateur 10." in html.unescape(wrong.get_data(as_text=True))
    shown = client.get(base).get_data(as_text=True)
    assert "90,0\u00a0%" in shown and "70,0\u00a0%" in shown and "≥ 80,0\u00a0%" in shown
    english = client.get(base, headers={"Accept-Language": "en"})
    assert english.status_code == 200
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action)).all()
        assert "criteria.import" in actions and "criteria.value" in actions
    client.post("/logout")
    client.post("/login", data={"email": "a@centre.example", "password": PASSWORD})
    assert client.get(base).status_code == 200
    assert client.post(f"{base}/value", data={}).status_code == 403
