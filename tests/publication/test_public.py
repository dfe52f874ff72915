"""Published results (issue #18): `/p/<slug>` without login, its JSON and CSV, equal to
`barometre analyze` on the export, without personal data, cacheable, 404 unless published."""

from __future__ import annotations

import csv
import io
import json
import re

from sqlalchemy import select

from survey.auth.operations import create_user
from survey.campaigns.operations import get_campaign
from survey.extensions import db
from survey.models import AuditEvent, Customer, Job
from survey.reporting.operations import export_campaign
from survey.worker.queue import run_pending_jobs

PASSWORD = "a-long-password-123"


def _manager(app, client) -> None:
    with app.app_context():
        create_user(db.session, "m@centre.example", "manager", PASSWORD, actor="test")
        db.session.commit()
    client.post("/login", data={"email": "m@centre.example", "password": PASSWORD})


def _analyze(app, runner, slug, tmp_path) -> dict:
    with app.app_context():
        done = export_campaign(db.session, get_campaign(db.session, slug), fmt="csv",
                               out=tmp_path / "export.csv", actor="test")
        db.session.commit()
    out = tmp_path / "analyze.json"
    result = runner.invoke(["analyze", str(done.data_path), "--design", str(done.design_path),
                            "--out", str(out)])
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text(encoding="utf-8"))


def test_unpublished_is_404_then_published_numbers_are_analyze_s(app, client, runner, campaigns,
                                                                 tmp_path) -> None:
    programme_id = campaigns["programme_id"]
    anonymous = app.test_client()
    for path in ("/p/barometre-service-client", "/p/barometre-service-client/results.json",
                 "/p/barometre-service-client/results.csv", "/p/nope", "/p/NOPE/results.json"):
        assert anonymous.get(path).status_code == 404, path
    _manager(app, client)
    page = client.get(f"/manage/programmes/{programme_id}/publication")
    assert page.status_code == 200 and "barometre-service-client" in page.get_data(as_text=True)
    bad = client.post(f"/manage/programmes/{programme_id}/publication",
                      data={"publish-slug": "Not a slug!"})
    assert bad.status_code == 422
    done = client.post(f"/manage/programmes/{programme_id}/publication",
                       data={"publish-slug": "service-client"})
    assert done.status_code == 303

    data = anonymous.get("/p/service-client/results.json")
    assert data.status_code == 200
    results = data.get_json()
    assert results["schema"] == "barometre-open-data" and results["version"] == 1
    assert results["campaign"]["year"] == 2026
    analyzed = _analyze(app, runner, campaigns[2026], tmp_path)
    overall = {e["indicator"]: e for e in analyzed["estimates"] if e["domain"] is None}
    assert len(results["headline"]) == 4
    for h in results["headline"]:
        for field in ("estimate", "ci_low", "ci_high", "n"):
            assert h[field] == overall[h["indicator"]][field], (h["indicator"], field)
        assert h["change"]["previous_year"] == 2025
    for k in results["commitments"]:
        assert k["estimate"] == overall[f"{k['item']}_satisfied"]["estimate"]
        assert k["ci_low"] == overall[f"{k['item']}_satisfied"]["ci_low"]
    assert results["respondents"] == overall[results["headline"][0]["indicator"]]["n"] or \
        results["respondents"] >= results["headline"][0]["n"]
    # Domains: the levels analyze counts under the small-base threshold are withheld.
    by_level = {}
    for e in analyzed["estimates"]:
        if e["domain"]:
            (variable, level), = e["domain"].items()
            by_level.setdefault((variable, str(level)), []).append(e)
    for domain in results["domains"]:
        for level in domain["levels"]:
            small = any(e["n"] < results["method"]["withheld_below"]
                        for e in by_level[(domain["variable"], level["level"])]
                        if e["indicator"] in {h["indicator"] for h in results["headline"]})
            assert level["withheld"] == small
            for name, e in level["estimates"].items():
                match = next(x for x in by_level[(domain["variable"], level["level"])]
                             if x["indicator"] == name)
                assert e["estimate"] == match["estimate"]
    assert [p["year"] for p in results["trend"]] == [2025, 2026]
    calls = next(k for k in results["criteria"]["rows"] if k["code"] == "calls-60s")
    assert results["criteria"]["months"][0] == "2026-01" and len(calls["months"]) == 12
    assert calls["satisfaction"]["estimate"] == overall["phone_wait_satisfied"]["estimate"]

    # The page and the CSV hold the same numbers.
    html = anonymous.get("/p/service-client").get_data(as_text=True)
    satisfied = results["headline"][0]
    assert f"{100 * satisfied['estimate']:.1f}".replace(".", ",") + "\u00a0%" in html
    assert "Appels décrochés en moins de 60 s" in html
    rows = list(csv.DictReader(io.StringIO(
        anonymous.get("/p/service-client/results.csv").get_data(as_text=True))))
    headline_rows = {r["key"]: r for r in rows if r["section"] == "headline"}
    for h in results["headline"]:
        assert float(headline_rows[h["indicator"]]["estimate"]) == h["estimate"]
        assert float(headline_rows[h["indicator"]]["ci_high"]) == h["ci_high"]
    english = anonymous.get("/p/service-client?lang=en")
    assert "Calls answered within 60 s" in english.get_data(as_text=True)
    assert "Set-Cookie" not in english.headers  # the language is not remembered

    # No personal data anywhere.
    with app.app_context():
        people = db.session.execute(select(Customer.email, Customer.phone, Customer.name)).all()
    texts = [html, data.get_data(as_text=True),
             anonymous.get("/p/service-client/results.csv").get_data(as_text=True)]
    # (The synthetic answers here have no customer base; tests/trust checks the demo's.)
    values = {v for person in people for v in person if v}
    for text in texts:
        assert not [v for v in values if v in text]
        assert not re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", text)

    # Withdrawn: gone.
    stray = client.post(f"/manage/programmes/{programme_id}/publication/withdraw", data={})
    assert stray.status_code == 400
    assert anonymous.get("/p/service-client").status_code == 200
    assert client.post(f"/manage/programmes/{programme_id}/publication/withdraw",
                       data={"withdraw-confirm": "1"}).status_code == 303
    assert anonymous.get("/p/service-client").status_code == 404
    assert anonymous.get("/p/service-client/results.csv").status_code == 404
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "results.publish" in actions and "results.withdraw" in actions


def test_public_answers_are_cacheable(app, client, campaigns) -> None:
    _manager(app, client)
    client.post(f"/manage/programmes/{campaigns['programme_id']}/publication",
                data={"publish-slug": "service-client"})
    anonymous = app.test_client()
    for path in ("/p/service-client", "/p/service-client/results.json",
                 "/p/service-client/results.csv"):
        first = anonymous.get(path)
        assert first.status_code == 200
        assert first.headers["ETag"] and "public" in first.headers["Cache-Control"]
        again = anonymous.get(path, headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304 and again.data == b""
        other = anonymous.get(path, headers={"If-None-Match": '"something-else"'})
        assert other.status_code == 200
    french = anonymous.get("/p/service-client", headers={"Accept-Language": "fr"})
    english = anonymous.get("/p/service-client", headers={"Accept-Language": "en"})
    assert french.headers["ETag"] != english.headers["ETag"]
    assert "Accept-Language" in french.headers["Vary"]


def _page_sizes(pdf: bytes) -> list[tuple[float, float]]:
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    return [(float(w), float(h)) for w, h in boxes]


def test_posters_are_a4_and_a3_pdfs_printed_by_the_worker_and_the_badge_an_svg(
        app, client, campaigns) -> None:
    _manager(app, client)
    client.post(f"/manage/programmes/{campaigns['programme_id']}/publication",
                data={"publish-slug": "service-client"})
    anonymous = app.test_client()
    # Publishing queued the four posters (two sizes, two languages); no web request prints.
    with app.app_context():
        queued = db.session.scalars(select(Job).where(Job.kind == "poster")).all()
        assert sorted(job.parameters["size"] for job in queued) == ["a3", "a3", "a4", "a4"]
        assert {job.state for job in queued} == {"queued"}
    waiting = anonymous.get("/p/service-client/poster-a4.pdf?lang=fr")
    assert waiting.status_code == 503 and waiting.headers["Retry-After"] == "30"
    assert "L'affiche est en cours d'impression" in waiting.get_data(as_text=True)
    assert "no-store" in waiting.headers["Cache-Control"]
    with app.app_context():  # asking again queued nothing more: the same poster is waiting
        assert len(db.session.scalars(select(Job).where(Job.kind == "poster")).all()) == 4
    assert run_pending_jobs(app, worker_id="test-worker") == 4  # the worker's own code
    sizes = {}
    for size in ("a4", "a3"):
        response = anonymous.get(f"/p/service-client/poster-{size}.pdf?lang=fr")
        assert response.status_code == 200 and response.data[:5] == b"%PDF-"
        assert response.mimetype == "application/pdf" and response.headers["ETag"]
        pages = _page_sizes(response.data)
        assert len(pages) == 1, f"{size}: {len(pages)} pages"
        sizes[size] = pages[0]
        again = anonymous.get(f"/p/service-client/poster-{size}.pdf?lang=fr",
                              headers={"If-None-Match": response.headers["ETag"]})
        assert again.status_code == 304
    # A4 is 595 x 842 points, A3 842 x 1191.
    assert abs(sizes["a4"][0] - 595.3) < 2 and abs(sizes["a4"][1] - 841.9) < 2
    assert abs(sizes["a3"][0] - 841.9) < 2 and abs(sizes["a3"][1] - 1190.6) < 2
    assert anonymous.get("/p/service-client/poster-a5.pdf").status_code == 404
    results = anonymous.get("/p/service-client/results.json").get_json()
    badge = anonymous.get("/p/service-client/badge.svg?lang=fr")
    assert badge.mimetype == "image/svg+xml"
    text = badge.get_data(as_text=True)
    satisfied = results["headline"][0]["estimate"]
    assert "Clients satisfaits 2026" in text
    assert f"{100 * satisfied:.1f}".replace(".", ",") in text
    assert "Satisfied customers 2026" in anonymous.get("/p/service-client/badge.svg?lang=en").text
    assert "<script" not in text
