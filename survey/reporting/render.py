"""The report as one self-contained HTML file, in French or English.

Plotly's script is embedded once; every chart is a fragment followed by the table of its
numbers. The template is rendered by a Jinja environment of its own (autoescaping on), so the
report can be built without a web request or a database.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from questionnaires.localized import localize
from survey import formatting
from survey.reporting import charts
from survey.reporting.builder import compute_report
from survey.reporting.texts import translator

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def trusted(html: str) -> Markup:
    """Plotly's own output (chart fragments, its library): labels in it went through
    `chart_label` and data through its JSON encoder, so it is inserted as it is."""
    return Markup(html)  # noqa: S704


def chart_label(text: Any) -> str:
    """Plotly reads a little HTML in labels and the chart's JSON sits in a script: no markup."""
    return str(text).replace("<", "‹").replace(">", "›").replace("&", "＆")


class Numbers:
    """Number formatting of one language (decimal comma in French)."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def num(self, value: float | None, digits: int = 1) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "–"
        text = f"{value:,.{digits}f}".replace(",", "\u202f")
        return text.replace(".", ",") if self.lang == "fr" else text

    def pct(self, value: float | None, digits: int = 1) -> str:
        """A proportion (0–1) as percent."""
        return "–" if value is None else self.num(100 * value, digits) + "\u00a0%"

    def int(self, value: int | None) -> str:
        return "–" if value is None else f"{value:,}".replace(",", "\u202f")

    def p(self, value: float | None) -> str:
        """A p-value: `< 0,001` rather than `0,000` (`survey.formatting.p_value`)."""
        return formatting.p_value(value, locale=self.lang)

    def date(self, value: Any) -> str:
        """A date in the report's language (`5 décembre 2026` / `December 5, 2026`)."""
        return formatting.format_date(value, "long", locale=self.lang)

    def signed(self, value: float | None, digits: int = 1) -> str:
        if value is None:
            return "–"
        return ("+" if value > 0 else "") + self.num(value, digits)


def indicator_scale(kind: str) -> float:
    """Proportions are printed in percent; means, NPS and the index as they are."""
    return 100.0 if kind == "proportion" else 1.0


def render_report(
    data: Mapping[str, Any], lang: str, progress: Callable[[str], None] | None = None
) -> str:
    """The HTML document of `compute_report`'s result, in `lang`; `progress` receives "charts"
    and "rendering" as each begins."""
    say = progress or (lambda stage: None)
    t = translator(lang)
    numbers = Numbers(lang)
    questionnaire = data["annex"]["questionnaire"]
    kinds = {i["name"]: i["kind"] for i in data["annex"]["design"]["indicators"]}
    headline = data["headline"]
    labels = {
        headline.satisfied: t("satisfied_share"),
        headline.mean: t("mean_overall"),
        headline.nps: t("nps"),
        headline.index: t("index"),
    }

    def scaled(estimate: Mapping[str, Any] | None, field: str) -> float | None:
        if not estimate or estimate.get(field) is None:
            return None
        return estimate[field] * indicator_scale(kinds[estimate["indicator"]])

    def question_label(code: str) -> str:
        return localize(questionnaire.question(code).label, lang)

    def question_chart_name(code: str) -> str:
        question = questionnaire.question(code)
        if question.chart_label:
            return localize(question.chart_label, lang)
        return short_label(localize(question.label, lang))

    def variable_label(variable: str) -> str:
        key = f"var_{variable}"
        text = t(key)
        return variable if text == key else text

    item_codes = {question.code for _page, question in questionnaire.questions()}
    items_of = {i["name"]: i.get("item") for i in data["annex"]["design"]["indicators"]}

    def indicator_label(name: str) -> str:
        """Any indicator of the design in words: the headline's own, else its question with
        what is measured of it."""
        if name in labels and name is not None:
            return labels[name]
        item, kind = items_of.get(name), kinds.get(name)
        if item is None or item not in item_codes:
            return name
        measured = {"proportion": t("satisfied"), "mean": t("mean"), "nps": "NPS"}.get(kind, "")
        return f"{short_question(item)} — {measured}" if measured else short_question(item)

    def short_question(code: str) -> str:
        """A question in a few words (the annex gives every question whole)."""
        if code not in item_codes:
            return code
        return short_label(question_label(code), width=60)

    say("charts")
    built = {
        "distribution": _distribution_charts(data, t, lang),
        "domains": _domain_charts(data, t, labels, scaled, variable_label),
        "trend": _trend_chart(data, t, labels, scaled),
        "drivers": _drivers_chart(data, t, question_chart_name),
    }
    say("rendering")
    template = environment().get_template("report/report.html")
    return template.render(
        lang=lang,
        t=t,
        n=numbers,
        data=data,
        labels=labels,
        kinds=kinds,
        scaled=scaled,
        question_label=question_label,
        labels_of=lambda codes: " ; ".join(question_label(code) for code in codes),
        variable_label=variable_label,
        localize=localize,
        charts=built,
        plotly_script=trusted(charts.plotly_script()),
        dictionary=questionnaire.data_dictionary(lang),
        questionnaire=questionnaire,
        criterion_value=lambda criterion, value: criterion_value(numbers, t, criterion, value),
        indicator_label=indicator_label,
        short_question=short_question,
    )


def criterion_value(numbers: Numbers, t: Any, criterion: Mapping[str, Any],
                    value: float | None) -> str:
    """A performance criterion's value in its unit: a rate in percent, a delay with its unit."""
    if value is None:
        return "–"
    unit = criterion["unit"]
    if unit == "rate":
        return numbers.pct(value)
    if unit == "count":
        return numbers.int(round(value))
    return f"{numbers.num(value)}\u00a0{t('unit_' + unit)}"


def _distribution_charts(data: Mapping[str, Any], t: Any, lang: str) -> dict[str, Markup]:
    """One stacked-bar chart per scale (the ratings share one, the NPS has its own)."""
    groups: dict[tuple[int, int], list[Mapping[str, Any]]] = {}
    for row in data["questions"]:
        groups.setdefault(row["question"].scale(), []).append(row)
    built = {}
    for number, (scale, rows) in enumerate(groups.items()):
        first = rows[0]["question"]
        point_labels = {p: chart_label(label) for p, label in first.point_labels(lang).items()}
        # The questionnaire's short name for charts, or the whole question wrapped on lines by
        # the chart (never cut mid-word).
        bars = [(chart_label(chart_name(row["question"], lang)), row["shares"]) for row in rows]
        if first.type_name == "nps":
            # The NPS reads as detractors, passives and promoters, not eleven points.
            groups_of = {"nps_detractors": range(0, 7), "nps_passives": range(7, 9),
                         "nps_promoters": range(9, 11)}
            point_labels = {index: t(key) for index, key in enumerate(groups_of)}
            bars = [
                (label, {index: sum(shares.get(p, 0.0) for p in points)
                         for index, points in enumerate(groups_of.values())})
                for label, shares in bars
            ]
        title = t("nps_distribution_title") if first.type_name == "nps" else t("distribution_title")
        fragment = charts.distribution_chart(
            bars, point_labels, title, t, f"chart-distribution-{number}"
        )
        built[f"{scale[0]}-{scale[1]}"] = trusted(fragment)
    return built


def _domain_charts(data, t, labels, scaled, variable_label) -> dict[str, Markup]:
    headline = data["headline"]
    shown = headline.index or headline.satisfied
    built = {}
    for number, domain in enumerate(data["domains"]):
        names, values, lows, highs, marks = [], [], [], [], []
        for level in domain["levels"]:
            estimate = level["estimates"].get(shown)
            contrast = level["contrasts"].get(shown)
            names.append(chart_label(level["level"]))
            values.append(scaled(estimate, "estimate"))
            lows.append(scaled(estimate, "ci_low"))
            highs.append(scaled(estimate, "ci_high"))
            mark = ""
            if contrast and contrast["significant"]:
                mark = "▲" if contrast["difference"] > 0 else "▼"
            if estimate and estimate.get("small_base"):
                mark += "⚠"
            marks.append(mark)
        title = t(
            "domain_chart_title",
            indicator=labels[shown],
            variable=variable_label(domain["variable"]),
        )
        built[domain["variable"]] = trusted(
            charts.interval_chart(
                names, values, lows, highs, chart_label(title), chart_label(labels[shown]),
                f"chart-domain-{number}", markers=marks,
            )
        )  # fmt: skip
    return built


def _trend_chart(data, t, labels, scaled) -> Markup | None:
    points = data["trend"]
    if len(points) < 2:
        return None
    headline = data["headline"]
    series = []
    for name in (headline.satisfied, headline.index):
        if name is None:
            continue
        estimates = [point["estimates"].get(name) for point in points]
        series.append(
            (
                chart_label(labels[name]),
                [scaled(e, "estimate") for e in estimates],
                [scaled(e, "ci_low") for e in estimates],
                [scaled(e, "ci_high") for e in estimates],
            )
        )
    years = [point["year"] for point in points]
    return trusted(
        charts.trend_chart(years, series, t("trend_title"), t("value"), t, "chart-trend")
    )


def chart_name(question: Any, lang: str) -> str:
    """The question's short name for charts when the questionnaire gives one, else its label."""
    return localize(question.chart_label or question.label, lang)


_SATISFIED_WITH = re.compile(
    r"^(?:êtes-vous satisfaite? (?:de la |de l[’']|du |des |de )|"
    r"(?:how )?(?:are you )?satisfied (?:are you )?with (?:the |your )?)", re.IGNORECASE)


def short_label(question: str, width: int = 32) -> str:
    """A question in a few words, to name a point of a chart: the satisfaction formula and any
    parenthesis dropped, cut after a whole word ("Délai de réponse à vos e-mails…")."""
    text = re.sub(r"\s*\([^)]*\)", "", _SATISFIED_WITH.sub("", question.strip()))
    text = text.rstrip(" ?").strip()
    text = text[:1].upper() + text[1:]
    if len(text) <= width:
        return text
    cut = text[:width].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:") + "…"


def _drivers_chart(data, t, question_chart_name) -> Markup | None:
    drivers = data["drivers"]
    if not drivers or "grid" not in drivers:
        return None
    grid = drivers["grid"]
    points = [
        (
            # Question texts are too long to label points: the questionnaire's short name for
            # charts, or a few words of the question; the table below gives the whole question.
            chart_label(question_chart_name(d.item)),
            d.importance,
            d.performance,
            d.quadrant,
        )
        for d in grid.drivers
    ]
    return trusted(
        charts.drivers_chart(
            points, grid.importance_median, grid.performance_median, t("drivers_title"), t,
            "chart-drivers",
        )
    )  # fmt: skip


def build_report_html(
    inputs: Any, lang: str, progress: Callable[[str], None] | None = None
) -> str:
    """Compute and render: the report of `inputs` (a `ReportInputs`) in `lang`.

    `progress` receives "estimating", then `render_report`'s "charts" and "rendering".
    """
    if progress is not None:
        progress("estimating")
    data = compute_report(inputs)
    return render_report(data, lang, progress)
