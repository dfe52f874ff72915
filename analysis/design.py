"""The design file of ``barometre analyze``: validation into a frozen :class:`DesignSpec`.

The format is docs/analysis-contract.md. Every key but ``indicators`` is optional::

    {"confidence": 0.95, "strata": "stratum", "population": {"A": 3359, "B": 6690},
     "weights": "w", "proportion_ci": "logit", "by": ["channel"], "id": "respondent",
     "calibration": {"method": "rake", "margins": {"channel": {"email": 6046, "phone": 3003}}},
     "indicators": [{"name": "q1_mean", "kind": "mean", "item": "q1"}, ...]}

``id`` (optional, an extension of the contract) names a column of respondent identifiers
used only to say *who* gave a bad answer in error messages.

Every problem raises :class:`AnalysisInputError` with a message that names the key (and the
indicator) at fault, so that a centre manager can fix the file without reading code.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

INDICATOR_KINDS = ("mean", "proportion", "nps", "index")
PROPORTION_CI_METHODS = ("logit", "beta", "wald")
CALIBRATION_METHODS = ("poststratify", "rake")
DEFAULT_MAX_RAKING_ITERATIONS = 100

_TOP_LEVEL_KEYS = frozenset(
    {
        "confidence",
        "strata",
        "population",
        "weights",
        "calibration",
        "proportion_ci",
        "by",
        "id",
        "indicators",
        # What the report computes beyond the estimates (`analysis.report.parse_report_spec`);
        # the estimates ignore it.
        "report",
    }
)
_INDICATOR_KEYS = {
    "mean": frozenset({"name", "kind", "item"}),
    "proportion": frozenset({"name", "kind", "item", "values"}),
    "nps": frozenset({"name", "kind", "item"}),
    "index": frozenset({"name", "kind", "items", "scale"}),
}
_CALIBRATION_KEYS = frozenset({"method", "margins", "max_iterations"})


class AnalysisInputError(ValueError):
    """Bad input to the analysis: the message says what is wrong and where (in English).

    Parameters
    ----------
    message : str
        What is wrong and where.
    reason : str, optional
        A stable code of the problem, for a caller that words it in its reader's language.
    **params
        The values the message names (numbers, names), for that wording.
    """

    def __init__(self, message: str, reason: str | None = None, **params: object) -> None:
        super().__init__(message)
        self.reason = reason
        self.params = params


@dataclass(frozen=True)
class IndicatorSpec:
    """One indicator to estimate.

    ``item`` is the answered column (``mean``, ``proportion``, ``nps``); ``items`` maps the
    columns of an ``index`` to their weights; ``values`` are the successes of a
    ``proportion``; ``scale`` is the ``(min, max)`` of the items of an ``index``.
    """

    name: str
    kind: str
    item: str | None = None
    values: tuple[float | str, ...] = ()
    items: tuple[tuple[str, float], ...] = ()
    scale: tuple[float, float] | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        """The response columns the indicator reads."""
        if self.kind == "index":
            return tuple(column for column, _ in self.items)
        return (self.item,) if self.item is not None else ()

    def to_mapping(self) -> dict[str, Any]:
        """The indicator as it is written in a design file."""
        mapping: dict[str, Any] = {"name": self.name, "kind": self.kind}
        if self.kind == "index":
            mapping["items"] = dict(self.items)
            mapping["scale"] = list(self.scale) if self.scale else None
        else:
            mapping["item"] = self.item
        if self.kind == "proportion":
            mapping["values"] = list(self.values)
        return mapping


@dataclass(frozen=True)
class CalibrationSpec:
    """Calibration of the weights to known population counts.

    ``margins`` holds, for each calibration variable, its levels and their population
    counts. ``poststratify`` takes exactly one margin; ``rake`` one or more.
    """

    method: str
    margins: tuple[tuple[str, tuple[tuple[str, float], ...]], ...]
    max_iterations: int = DEFAULT_MAX_RAKING_ITERATIONS

    @property
    def variables(self) -> tuple[str, ...]:
        return tuple(variable for variable, _ in self.margins)

    def to_mapping(self) -> dict[str, Any]:
        mapping: dict[str, Any] = {
            "method": self.method,
            "margins": {variable: dict(counts) for variable, counts in self.margins},
        }
        if self.max_iterations != DEFAULT_MAX_RAKING_ITERATIONS:
            mapping["max_iterations"] = self.max_iterations
        return mapping


@dataclass(frozen=True)
class DesignSpec:
    """A validated design: how the respondents were drawn and what to estimate.

    ``population`` is the size of the base (a number) without ``strata``, and the size of
    each stratum (pairs ``(stratum, count)``) with it. ``weights`` names a column of base
    weights, used only when there is no ``population``.
    """

    indicators: tuple[IndicatorSpec, ...]
    confidence: float = 0.95
    strata: str | None = None
    population: float | tuple[tuple[str, float], ...] | None = None
    weights: str | None = None
    calibration: CalibrationSpec | None = None
    proportion_ci: str = "logit"
    by: tuple[str, ...] = ()
    id: str | None = None

    @property
    def stratum_populations(self) -> dict[str, float]:
        """Population count per stratum (empty without a stratified population)."""
        if isinstance(self.population, tuple):
            return dict(self.population)
        return {}

    @property
    def population_total(self) -> float | None:
        """Size of the whole base, when the design gives it."""
        if self.population is None:
            return None
        if isinstance(self.population, tuple):
            return math.fsum(count for _, count in self.population)
        return float(self.population)

    def column_roles(self) -> dict[str, list[str]]:
        """Every column the design names, with the roles it plays (for error messages)."""
        roles: dict[str, list[str]] = {}

        def add(column: str | None, role: str) -> None:
            if column is not None:
                roles.setdefault(column, []).append(role)

        add(self.strata, "strata")
        add(self.weights, "weights")
        add(self.id, "id")
        for variable in self.by:
            add(variable, "by")
        if self.calibration is not None:
            for variable in self.calibration.variables:
                add(variable, "calibration margin")
        for indicator in self.indicators:
            for column in indicator.columns:
                add(column, f"item of indicator {indicator.name!r}")
        return roles

    def categorical_columns(self) -> tuple[str, ...]:
        """Columns holding categories (strata, domains, calibration cells, ids)."""
        columns = [self.strata, self.id, *self.by]
        if self.calibration is not None:
            columns.extend(self.calibration.variables)
        return tuple(dict.fromkeys(column for column in columns if column is not None))

    def to_mapping(self) -> dict[str, Any]:
        """The design as it is written in a design file (``parse_design`` reads it back)."""
        mapping: dict[str, Any] = {"confidence": self.confidence}
        if self.strata is not None:
            mapping["strata"] = self.strata
        if self.population is not None:
            mapping["population"] = (
                dict(self.population) if isinstance(self.population, tuple) else self.population
            )
        if self.weights is not None:
            mapping["weights"] = self.weights
        if self.calibration is not None:
            mapping["calibration"] = self.calibration.to_mapping()
        mapping["proportion_ci"] = self.proportion_ci
        if self.by:
            mapping["by"] = list(self.by)
        if self.id is not None:
            mapping["id"] = self.id
        mapping["indicators"] = [indicator.to_mapping() for indicator in self.indicators]
        return mapping


def parse_design(mapping: Mapping[str, Any]) -> DesignSpec:
    """Validate a design (the parsed JSON of a design file) into a :class:`DesignSpec`.

    Raises
    ------
    AnalysisInputError
        For an unknown key or kind, a value of the wrong type, or an inconsistent design
        (e.g. a map of ``population`` without ``strata``); the message names the key.
    """
    if not isinstance(mapping, Mapping):
        raise AnalysisInputError(f"the design must be a JSON object, not {_describe(mapping)}")
    _reject_unknown_keys(mapping, _TOP_LEVEL_KEYS, "the design")
    if "indicators" not in mapping:
        raise AnalysisInputError("the design has no 'indicators': list what to estimate")

    confidence = _number(mapping.get("confidence", 0.95), "'confidence'")
    if not 0 < confidence < 1:
        raise AnalysisInputError(
            f"'confidence' must lie strictly between 0 and 1 (e.g. 0.95), got {confidence}"
        )
    strata = _optional_column(mapping, "strata")
    weights = _optional_column(mapping, "weights")
    respondent_id = _optional_column(mapping, "id")
    proportion_ci = mapping.get("proportion_ci", "logit")
    if proportion_ci not in PROPORTION_CI_METHODS:
        raise AnalysisInputError(
            f"'proportion_ci' must be one of {', '.join(PROPORTION_CI_METHODS)}; "
            f"got {proportion_ci!r}"
        )
    by = _by(mapping.get("by", []))
    population = _population(mapping.get("population"), strata)
    calibration = (
        _calibration(mapping["calibration"]) if mapping.get("calibration") is not None else None
    )
    indicators = _indicators(mapping["indicators"])
    return DesignSpec(
        indicators=indicators,
        confidence=confidence,
        strata=strata,
        population=population,
        weights=weights,
        calibration=calibration,
        proportion_ci=proportion_ci,
        by=by,
        id=respondent_id,
    )


def _describe(value: object) -> str:
    kind = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )
    return f"{kind} ({value!r})" if not isinstance(value, dict | list) else kind


def _reject_unknown_keys(mapping: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(str(key) for key in mapping if key not in allowed)
    if unknown:
        raise AnalysisInputError(
            f"{where} has unknown key(s) {', '.join(repr(k) for k in unknown)}; "
            f"allowed keys are {', '.join(sorted(allowed))}"
        )


def _number(value: object, where: str) -> float:
    # bool is an int in Python, but "confidence": true is a mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AnalysisInputError(f"{where} must be a number, got {_describe(value)}")
    if not math.isfinite(value):
        raise AnalysisInputError(f"{where} must be a finite number, got {value}")
    return float(value)


def _column_name(value: object, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise AnalysisInputError(
            f"{where} must name a column (a non-empty string), got {_describe(value)}"
        )
    return value


def _optional_column(mapping: Mapping[str, Any], key: str) -> str | None:
    value = mapping.get(key)
    return None if value is None else _column_name(value, f"'{key}'")


def _by(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise AnalysisInputError(
            f"'by' must be a list of column names such as [\"channel\"], got {_describe(value)}"
        )
    columns = tuple(_column_name(column, "each entry of 'by'") for column in value)
    duplicated = sorted({column for column in columns if columns.count(column) > 1})
    if duplicated:
        raise AnalysisInputError(f"'by' lists {', '.join(map(repr, duplicated))} more than once")
    return columns


def _counts(value: object, where: str) -> tuple[tuple[str, float], ...]:
    if not isinstance(value, Mapping) or not value:
        raise AnalysisInputError(
            f"{where} must be a non-empty object of counts per level, got {_describe(value)}"
        )
    counts = []
    for level, count in value.items():
        number = _number(count, f"{where}[{level!r}]")
        if number <= 0:
            raise AnalysisInputError(f"{where}[{level!r}] must be positive, got {count}")
        counts.append((str(level), number))
    return tuple(counts)


def _population(value: object, strata: str | None) -> float | tuple[tuple[str, float], ...] | None:
    if value is None:
        return None
    if strata is None:
        if isinstance(value, Mapping):
            raise AnalysisInputError(
                "'population' is a map per stratum but the design has no 'strata': "
                "name the stratum column, or give the size of the whole base as a number"
            )
        total = _number(value, "'population'")
        if total <= 0:
            raise AnalysisInputError(f"'population' must be positive, got {value}")
        return total
    if not isinstance(value, Mapping):
        raise AnalysisInputError(
            f"with 'strata' ({strata!r}), 'population' must map each stratum to its size, "
            f'e.g. {{"A": 3359, "B": 6690}}; got {_describe(value)}'
        )
    return _counts(value, "'population'")


def _calibration(value: object) -> CalibrationSpec:
    if not isinstance(value, Mapping):
        raise AnalysisInputError(f"'calibration' must be an object, got {_describe(value)}")
    _reject_unknown_keys(value, _CALIBRATION_KEYS, "'calibration'")
    method = value.get("method")
    if method not in CALIBRATION_METHODS:
        raise AnalysisInputError(
            f"'calibration.method' must be one of {', '.join(CALIBRATION_METHODS)}; got {method!r}"
        )
    margins_value = value.get("margins")
    if not isinstance(margins_value, Mapping) or not margins_value:
        raise AnalysisInputError(
            "'calibration.margins' must map each calibration variable to its population "
            f"counts per level, got {_describe(margins_value)}"
        )
    margins = tuple(
        (
            _column_name(variable, "each key of 'calibration.margins'"),
            _counts(counts, f"'calibration.margins.{variable}'"),
        )
        for variable, counts in margins_value.items()
    )
    if method == "poststratify" and len(margins) != 1:
        raise AnalysisInputError(
            f"'poststratify' calibrates on exactly one variable, but 'calibration.margins' "
            f"has {len(margins)} ({', '.join(v for v, _ in margins)}); use 'rake' for several"
        )
    max_iterations = value.get("max_iterations", DEFAULT_MAX_RAKING_ITERATIONS)
    if (
        isinstance(max_iterations, bool)
        or not isinstance(max_iterations, int)
        or max_iterations < 1
    ):
        raise AnalysisInputError(
            f"'calibration.max_iterations' must be a positive integer, got {max_iterations!r}"
        )
    return CalibrationSpec(method=method, margins=margins, max_iterations=max_iterations)


def _indicators(value: object) -> tuple[IndicatorSpec, ...]:
    if not isinstance(value, list) or not value:
        raise AnalysisInputError(
            f"'indicators' must be a non-empty list of indicators, got {_describe(value)}"
        )
    indicators = tuple(_indicator(entry, position) for position, entry in enumerate(value, 1))
    names = [indicator.name for indicator in indicators]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise AnalysisInputError(
            f"indicator name(s) {', '.join(map(repr, duplicated))} used more than once"
        )
    return indicators


def _indicator(value: object, position: int) -> IndicatorSpec:
    where = f"indicator #{position}"
    if not isinstance(value, Mapping):
        raise AnalysisInputError(f"{where} must be an object, got {_describe(value)}")
    name = value.get("name")
    if not isinstance(name, str) or not name:
        raise AnalysisInputError(f"{where} needs a 'name' (a non-empty string)")
    where = f"indicator {name!r}"
    kind = value.get("kind")
    if kind not in INDICATOR_KINDS:
        raise AnalysisInputError(
            f"{where}: 'kind' must be one of {', '.join(INDICATOR_KINDS)}; got {kind!r}"
        )
    _reject_unknown_keys(value, _INDICATOR_KEYS[kind], f"{where} (kind {kind!r})")
    if kind == "index":
        return IndicatorSpec(
            name=name,
            kind=kind,
            items=_index_items(value.get("items"), where),
            scale=_scale(value.get("scale"), where),
        )
    if "item" not in value:
        raise AnalysisInputError(f"{where} needs an 'item' (the column answered)")
    item = _column_name(value["item"], f"{where}: 'item'")
    if kind == "proportion":
        return IndicatorSpec(
            name=name, kind=kind, item=item, values=_success_values(value.get("values"), where)
        )
    return IndicatorSpec(name=name, kind=kind, item=item)


def _success_values(value: object, where: str) -> tuple[float | str, ...]:
    if not isinstance(value, list) or not value:
        raise AnalysisInputError(
            f"{where}: 'values' must be a non-empty list of the answers counted as "
            f'successes, e.g. [4, 5] or ["Yes"]; got {_describe(value)}'
        )
    successes: list[float | str] = []
    for entry in value:
        if isinstance(entry, str):
            successes.append(entry)
        else:
            successes.append(_number(entry, f"{where}: each entry of 'values'"))
    return tuple(successes)


def _index_items(value: object, where: str) -> tuple[tuple[str, float], ...]:
    if not isinstance(value, Mapping) or not value:
        raise AnalysisInputError(
            f"{where}: 'items' must map each item column to its weight, e.g. "
            f'{{"q1": 2, "q2": 1}}; got {_describe(value)}'
        )
    items = []
    for column, weight in value.items():
        number = _number(weight, f"{where}: the weight of item {column!r}")
        if number <= 0:
            raise AnalysisInputError(
                f"{where}: the weight of item {column!r} must be positive, got {weight}"
            )
        items.append((_column_name(column, f"{where}: each key of 'items'"), number))
    return tuple(items)


def _scale(value: object, where: str) -> tuple[float, float]:
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 2:
        raise AnalysisInputError(
            f"{where}: 'scale' must be [min, max] of the items' answers, e.g. [1, 5]; "
            f"got {_describe(value)}"
        )
    low = _number(value[0], f"{where}: 'scale' minimum")
    high = _number(value[1], f"{where}: 'scale' maximum")
    if not low < high:
        raise AnalysisInputError(f"{where}: 'scale' minimum {low:g} must be below maximum {high:g}")
    return (low, high)
