"""The demo publishes its programme, with a year of performance criteria."""

from __future__ import annotations

from survey.demo import seed_demo
from survey.extensions import db


def test_the_demo_publishes_its_programme_with_a_year_of_criteria(app) -> None:
    with app.app_context():
        lines = seed_demo(customers=800)
        db.session.commit()
    assert any("/p/service-client" in line for line in lines)
    anonymous = app.test_client()
    results = anonymous.get("/p/service-client/results.json").get_json()
    assert len(results["criteria"]["months"]) == 12
    assert {row["code"] for row in results["criteria"]["rows"]} == {
        "calls-60s", "written-reply-days", "complaints-in-time"}
    for row in results["criteria"]["rows"]:
        assert all(month["value"] is not None for month in row["months"])
        assert row["satisfaction"] is not None  # each is linked to its questionnaire item
    calls = next(row for row in results["criteria"]["rows"] if row["code"] == "calls-60s")
    assert 0 < calls["period"]["months_met"] < 12  # the winter months miss the target
    assert results["respondents"] > 0 and results["campaign"]["fieldwork_start"]
    page = anonymous.get("/p/service-client")
    assert page.status_code == 200 and "Appels décrochés en moins de 60 s" in page.text
    with app.app_context():  # idempotent: the same criteria, published again
        seed_demo(customers=800)
    assert anonymous.get("/p/service-client/results.json").get_json()["criteria"] == \
        results["criteria"]
