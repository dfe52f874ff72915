"""A programme's published results: what `/p/<slug>`, its open data, its poster and its badge
show, computed once when a manager publishes and stored on the Publication row.

The survey's numbers come from the report's own functions (`survey.reporting.builder.
public_figures`) on the latest closed campaign, so that the page says what the report says and
what `barometre analyze` gives on the export. Nothing personal leaves: estimates, intervals and
counts of respondents only, no verbatim, and the domain levels under the report's small-base
threshold withheld. The performance criteria are read when the page is asked for (they change
every month), over the 12 months ending with the last one recorded.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from questionnaires.localized import localize
from questionnaires.questions import RatingQuestion
from survey.audit import record_event
from survey.clients.scope import ALL_CLIENTS
from survey.csvsafe import safe_cell
from survey.models import (
    Campaign,
    CampaignStatus,
    CriterionValue,
    PerformanceCriterion,
    Programme,
    Publication,
    utcnow,
)
from survey.publication.criteria import criteria_table, last_months
from survey.reporting.builder import public_figures
from survey.reporting.operations import ReportError, report_inputs
from survey.reporting.texts import translator

SCHEMA = "barometre-open-data"
#: The open data's version: raised whenever a field changes meaning or goes (docs/open-data.md).
SCHEMA_VERSION = 1
SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,79}$")
HEADLINE_TEXT_KEYS = ("satisfied_share", "mean_overall", "nps", "index")
ESTIMATE_FIELDS = ("estimate", "ci_low", "ci_high", "n")


class PublicationError(ValueError):
    """The results cannot be published as asked; the message says why."""


def suggested_slug(name: str) -> str:
    import unicodedata

    ascii_only = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_only.lower()).strip("-")
    return slug[:80] or "resultats"


def latest_closed_campaign(session: Session, programme: Programme) -> Campaign | None:
    return session.scalars(
        select(Campaign).where(
            Campaign.programme_id == programme.id,
            Campaign.status.in_((CampaignStatus.CLOSED.value, CampaignStatus.ARCHIVED.value)),
        ).order_by(Campaign.year.desc(), Campaign.id.desc())
    ).first()


def _estimate(estimate: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not estimate:
        return None
    return {field: estimate.get(field) for field in ESTIMATE_FIELDS}


def survey_figures(session: Session, campaign: Campaign) -> dict[str, Any]:
    """The campaign's public numbers, JSON-ready, with their labels in both languages."""
    try:
        inputs = report_inputs(session, campaign)
    except ReportError as error:
        raise PublicationError(str(error)) from error
    data = public_figures(inputs)
    kinds = {i["name"]: i["kind"] for i in inputs.dataset.design["indicators"]}
    headline = data["headline"]
    texts = {lang: translator(lang) for lang in ("fr", "en")}
    names = [(name, key) for name, key in zip(
        (headline.satisfied, headline.mean, headline.nps, headline.index), HEADLINE_TEXT_KEYS,
        strict=True) if name and name in data["overall"]]
    changes = (data["year_on_year"] or {}).get("rows", {})
    previous_year = (data["year_on_year"] or {}).get("year")

    def change(name: str) -> dict[str, Any] | None:
        row = changes.get(name)
        if row is None:
            return None
        return {"previous_year": previous_year, **{key: row[key] for key in (
            "previous", "difference", "ci_low", "ci_high", "p_adjusted", "significant")}}

    questionnaire = inputs.dataset.questionnaire
    overall_question = questionnaire.overall_question()
    commitments = []
    for row in data["questions"]:
        question = row["question"]
        if not isinstance(question, RatingQuestion) or row["satisfied"] is None:
            continue
        if overall_question is not None and question.code == overall_question.code:
            continue
        commitments.append({
            "item": question.code,
            "label": {lang: localize(question.label, lang) for lang in ("fr", "en")},
            **_estimate(row["satisfied"]),
            "small_base": bool(row["satisfied"].get("small_base")),
        })
    domains = []
    wanted = {name for name, _key in names}
    for domain in data["domains"]:
        levels = []
        for level in domain["levels"]:
            shown = {name: e for name, e in level["estimates"].items() if name in wanted}
            # Withheld as the report withholds (fewer than `withheld_below`), and also where the
            # report flags a small base: a public page prints no estimate the report warns about.
            withheld = any(e.get("withheld") or e.get("small_base") or e.get("estimate") is None
                           for e in shown.values())
            levels.append({
                "level": level["level"],
                "withheld": withheld,
                "estimates": {} if withheld else {name: _estimate(e) for name, e in shown.items()},
            })
        variable = domain["variable"]
        domains.append({
            "variable": variable,
            "label": {lang: _variable_label(texts[lang], variable) for lang in ("fr", "en")},
            "levels": levels,
        })
    method = data["method"]
    rates = method.get("rates") or {}
    calibration = method.get("calibration") or {}
    return {
        "campaign": {
            "year": campaign.year,
            "fieldwork_start": _iso(campaign.fieldwork_start),
            "fieldwork_end": _iso(campaign.fieldwork_end),
            "closed_on": _iso(campaign.closed_at.date()) if campaign.closed_at else None,
            "questionnaire_sha256": campaign.questionnaire_version.sha256,
        },
        "respondents": data["n_respondents"],
        "confidence": data["confidence"],
        "headline": [
            {"indicator": name, "kind": kinds[name],
             "label": {lang: texts[lang](key) for lang in ("fr", "en")},
             **_estimate(data["overall"][name]), "change": change(name)}
            for name, key in names
        ],
        "commitments": commitments,
        "domains": domains,
        "trend": [
            {"year": point["year"], "estimates": {
                name: _estimate(point["estimates"].get(name)) for name, _key in names
                if point["estimates"].get(name)}}
            for point in data["trend"]
        ],
        "method": {
            "population": method.get("population"),
            "invited": method.get("invited"),
            "response_rate": rates.get("rr2"),
            "stratified": bool(method.get("stratified")),
            "calibration": calibration.get("method") if isinstance(calibration, Mapping)
            else None,
            "calibration_variables": list(calibration.get("variables") or [])
            if isinstance(calibration, Mapping) else [],
            "proportion_ci": method.get("proportion_ci"),
            "withheld_below": data["small_base"],
        },
    }


def _variable_label(t: Any, variable: str) -> str:
    key = f"var_{variable}"
    text = t(key)
    return variable if text == key else text


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def publish(
    session: Session, programme: Programme, *, slug: str | None = None, actor: str,
    actor_id: int | None = None,
) -> Publication:
    """Publish (or publish again, with today's figures) the programme's latest closed
    campaign at `/p/<slug>`."""
    campaign = latest_closed_campaign(session, programme)
    if campaign is None:
        raise PublicationError("the programme has no closed campaign to publish yet")
    publication = session.scalar(select(Publication).where(
        Publication.programme_id == programme.id))
    slug = (slug or (publication.slug if publication else suggested_slug(programme.name)))
    slug = slug.strip().lower()
    if not SLUG_PATTERN.match(slug):
        raise PublicationError(f"slug: {slug!r} is not an address (lower-case letters, digits "
                               "and '-', 2 to 80 characters)")
    taken = session.scalar(select(Publication).where(Publication.slug == slug)
                           .execution_options(**{ALL_CLIENTS: True}))  # public: one namespace
    if taken is not None and taken.programme_id != programme.id:
        raise PublicationError(f"slug: {slug!r} is the address of another programme")
    figures = survey_figures(session, campaign)
    if publication is None:
        publication = Publication(programme_id=programme.id, slug=slug)
        session.add(publication)
    publication.slug = slug
    publication.published = True
    publication.campaign_id = campaign.id
    publication.figures = figures
    publication.published_at = utcnow()
    publication.withdrawn_at = None
    session.flush()
    record_event(
        session, "results.publish", actor=actor, actor_id=actor_id, object_type="programme",
        object_id=programme.id, campaign_id=campaign.id,
        summary={"slug": slug, "respondents": figures["respondents"],
                 "sha256": hashlib.sha256(_canonical(figures)).hexdigest()},
    )  # fmt: skip
    return publication


def withdraw(session: Session, programme: Programme, *, actor: str,
             actor_id: int | None = None) -> Publication:
    publication = session.scalar(select(Publication).where(
        Publication.programme_id == programme.id))
    if publication is None or not publication.published:
        raise PublicationError("the programme's results are not published")
    publication.published = False
    publication.withdrawn_at = utcnow()
    session.flush()
    record_event(
        session, "results.withdraw", actor=actor, actor_id=actor_id, object_type="programme",
        object_id=programme.id, summary={"slug": publication.slug},
    )  # fmt: skip
    return publication


def publication_of(session: Session, programme: Programme) -> Publication | None:
    return session.scalar(select(Publication).where(Publication.programme_id == programme.id))


def published(session: Session, slug: str) -> Publication | None:
    """The publication at `slug`, if it is published now."""
    if not SLUG_PATTERN.match(slug or ""):
        return None
    return session.scalar(select(Publication).where(Publication.slug == slug,
                                                    Publication.published.is_(True)))


def public_results(session: Session, publication: Publication) -> dict[str, Any]:
    """Everything the page shows, as the open data publishes it (docs/open-data.md)."""
    from survey.improvement.operations import public_changes

    programme = publication.programme
    latest = session.scalar(
        select(func.max(CriterionValue.month)).join(PerformanceCriterion)
        .where(PerformanceCriterion.programme_id == programme.id))
    months = last_months(date(int(latest[:4]), int(latest[5:]), 1), 12) if latest else []
    figures = publication.figures or {}
    commitments = {c["item"]: c for c in figures.get("commitments", [])}
    rows = criteria_table(session, programme, months) if months else []
    for row in rows:
        linked = commitments.get(row["item"] or "")
        row["satisfaction"] = None if linked is None else {
            key: linked[key] for key in ESTIMATE_FIELDS}
    return {
        "schema": SCHEMA,
        "version": SCHEMA_VERSION,
        "programme": {"name": programme.name, "slug": publication.slug},
        "published_at": publication.published_at.isoformat() if publication.published_at
        else None,
        **figures,
        "criteria": {"months": months, "rows": rows},
        # Read live, as the criteria: the manager chooses action by action what is shown.
        "changes": public_changes(session, publication.campaign_id and session.get(
            Campaign, publication.campaign_id)),
    }


def _canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def results_json(results: Mapping[str, Any]) -> bytes:
    return (json.dumps(results, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


CSV_COLUMNS = ("section", "key", "label_fr", "label_en", "variable", "level", "year", "month",
               "estimate", "ci_low", "ci_high", "n", "previous_year", "change", "significant",
               "unit", "target", "direction", "met", "withheld")


def results_csv(results: Mapping[str, Any]) -> bytes:
    """The same numbers as the JSON, one per row (docs/open-data.md); UTF-8, comma, point."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    year = (results.get("campaign") or {}).get("year")

    def row(**values: Any) -> None:
        writer.writerow({key: _cell(values.get(key)) for key in CSV_COLUMNS})

    row(section="respondents", key="respondents", year=year, n=results.get("respondents"))
    for h in results.get("headline", []):
        change = h.get("change") or {}
        row(section="headline", key=h["indicator"], label_fr=h["label"]["fr"],
            label_en=h["label"]["en"], year=year, estimate=h["estimate"], ci_low=h["ci_low"],
            ci_high=h["ci_high"], n=h["n"], previous_year=change.get("previous_year"),
            change=change.get("difference"), significant=change.get("significant"))
    for c in results.get("commitments", []):
        row(section="commitment", key=c["item"], label_fr=c["label"]["fr"],
            label_en=c["label"]["en"], year=year, estimate=c["estimate"], ci_low=c["ci_low"],
            ci_high=c["ci_high"], n=c["n"])
    for d in results.get("domains", []):
        for level in d["levels"]:
            if level["withheld"]:
                row(section="domain", variable=d["variable"], level=level["level"], year=year,
                    withheld=True)
                continue
            for name, e in level["estimates"].items():
                row(section="domain", key=name, variable=d["variable"], level=level["level"],
                    year=year, estimate=e["estimate"], ci_low=e["ci_low"],
                    ci_high=e["ci_high"], n=e["n"], withheld=False)
    for point in results.get("trend", []):
        for name, e in point["estimates"].items():
            row(section="trend", key=name, year=point["year"], estimate=e["estimate"],
                ci_low=e["ci_low"], ci_high=e["ci_high"], n=e["n"])
    for k in (results.get("criteria") or {}).get("rows", []):
        for m in k["months"]:
            row(section="criterion", key=k["code"], label_fr=k["label"]["fr"],
                label_en=k["label"]["en"], month=m["month"], estimate=m["value"],
                n=m["denominator"], unit=k["unit"], target=k["target"],
                direction=k["direction"], met=m["met"])
    return out.getvalue().encode("utf-8")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return safe_cell(value)  # labels and levels typed by people: never a formula
    return str(value)
