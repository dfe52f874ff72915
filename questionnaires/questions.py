"""Question types: one class per type, registered under the ``type`` written in a definition.

Each type knows

- its definition fields (pydantic validates them, with per-type checks such as a scale's ends);
- the WTForms fields that ask it (``form_fields``) and how to read a submitted page back into
  a stored, JSON-ready answer (``clean``);
- the columns it becomes in exports and analysis, with their value labels
  (``data_dictionary`` / ``analysis_values``), and the indicators it contributes.

Stored answers (the JSON kept in a Response, keyed by question code; an absent code means "not
answered"):

=================  ======================================================================
rating             the chosen point (int), or ``"na"`` for "not applicable"
nps                0..10 (int)
single_choice      the choice's ``value`` (str)
multiple_choice    the chosen values (list of str, in the definition's order, never empty)
yes_no             ``true`` / ``false``
text               the text (str, stripped, line breaks as ``\\n``)
callback           ``{"requested": false}`` or
                   ``{"requested": true, "channel": "phone"|"email", "consent": true}``
=================  ======================================================================

In analysis data (``analysis_values``) "not applicable" becomes a blank cell, like an unanswered
question, so that it counts neither in a mean nor in a proportion's denominator.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal, Union, get_args

import wtforms
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
)
from wtforms import widgets

from questionnaires.conditions import Condition, parse_condition

try:
    from wtforms.fields.choices import SelectChoice
except ImportError:  # WTForms < 3.3 only knows (value, label) tuples
    SelectChoice = None
from questionnaires.localized import LocalizedText, builtin_text, localize
from questionnaires.problems import Problem, joined

CODE_PATTERN = r"^[a-z][a-z0-9_]*$"
Code = Annotated[str, Field(pattern=CODE_PATTERN, max_length=64)]
ChoiceValue = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_]*$", max_length=64)]
Weight = Annotated[int | float, Field(gt=0)]

CHART_LABEL_LENGTH = 40

NOT_APPLICABLE = "na"
"""Stored answer of a rating answered "not applicable" (kept apart from "not answered")."""

FormData = Mapping[str, Sequence[str]]
"""A submitted page: field name → every value sent for it (what ``MultiDict.getlist`` gives)."""

QUESTION_TYPES: dict[str, type[Question]] = {}
"""Registry: the ``type`` of a definition's question → its class."""


@dataclass(frozen=True)
class Cleaned:
    """The outcome of reading one question from a submitted page."""

    answer: Any = None  # the stored answer; None when not answered
    errors: dict[str, str] = field(default_factory=dict)  # form field name → message


class Question(BaseModel):
    """Fields shared by every type. ``required`` applies only while the question is shown."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type_name: ClassVar[str]
    trend_fields: ClassVar[tuple[str, ...]] = ("type", "label", "show_if")
    """The fields whose change breaks the item's year-on-year trend (wording, scale, choices,
    condition): each type adds its own. Help, required-ness or the chart label do not."""

    code: Code
    label: LocalizedText
    help: LocalizedText | None = None
    required: bool = False
    show_if: str | None = None
    chart_label: LocalizedText | None = None
    """A short name for charts and tables (at most ``CHART_LABEL_LENGTH`` characters)."""

    _condition: Condition | None = PrivateAttr(default=None)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        # Concrete types declare `type: Literal["name"]`; that literal is their registry key.
        type_field = cls.model_fields.get("type")
        if type_field is not None:
            (cls.type_name,) = get_args(type_field.annotation)
            QUESTION_TYPES[cls.type_name] = cls

    @field_validator("chart_label")
    @classmethod
    def _chart_label_is_short(cls, text: dict[str, str] | None) -> dict[str, str] | None:
        long = sorted(lang for lang, value in (text or {}).items()
                      if len(value) > CHART_LABEL_LENGTH)
        if long:
            raise Problem(
                f"a chart label has at most {CHART_LABEL_LENGTH} characters (too long in "
                f"{', '.join(long)})", "chart_label_too_long", max=CHART_LABEL_LENGTH,
                languages=joined(long),
            )
        return text

    @field_validator("show_if")
    @classmethod
    def _condition_parses(cls, text: str | None) -> str | None:
        if text is not None:
            parse_condition(text)  # ConditionError is a ValueError: pydantic reports it here
        return text

    def model_post_init(self, context: Any) -> None:
        if self.show_if is not None:
            self._condition = parse_condition(self.show_if)

    @property
    def condition(self) -> Condition | None:
        """The parsed ``show_if``, or None when the question is always shown."""
        return self._condition

    def trend_signature(self) -> dict[str, Any]:
        """The values of ``trend_fields``: two items with the same code and the same signature
        measure the same thing from one year to the next."""
        data = self.model_dump(mode="json")
        return {name: data.get(name) for name in self.trend_fields}

    # -- asking ---------------------------------------------------------------------------------

    def field_names(self) -> tuple[str, ...]:
        """Names of the form fields asking this question."""
        return (self.code,)

    def form_fields(self, lang: str) -> dict[str, wtforms.Field]:
        """Unbound WTForms fields, by field name.

        Fields carry no validators: which questions are shown (and so required) depends on
        earlier answers, and ``forms.clean_page_answers`` is the single place that decides.
        """
        raise NotImplementedError

    def clean(self, form_data: FormData, lang: str) -> Cleaned:
        """Read this question's fields from a submitted page (required-ness is checked by the
        caller, which knows whether the question is shown)."""
        raise NotImplementedError

    # -- conditions -----------------------------------------------------------------------------

    def condition_value(self, answer: Any) -> Any:
        """The value other questions' conditions see for this answer."""
        return answer

    def possible_values(self) -> frozenset[object] | None:
        """Values a condition may sensibly compare this answer with; None for any."""
        return None

    # -- exports and analysis -------------------------------------------------------------------

    def column_names(self) -> tuple[str, ...]:
        return (self.code,)

    def analysis_values(self, answer: Any) -> dict[str, Any]:
        """Export/analysis columns for a stored answer (None is a blank cell)."""
        return {self.code: answer}

    def data_dictionary(self, lang: str) -> list[dict[str, Any]]:
        """One entry per column: code, question, label, type and value labels."""
        return [self._dictionary_entry(self.code, self._label(lang), self.value_labels(lang))]

    def value_labels(self, lang: str) -> dict[Any, str]:
        return {}

    def indicators(self) -> list[dict[str, Any]]:
        """This question's entries for the analysis contract (the index is built by the
        questionnaire, which sees every weighted item)."""
        return []

    def _dictionary_entry(self, column: str, label: str, values: dict[Any, str]) -> dict[str, Any]:
        return {
            "code": column,
            "question": self.code,
            "label": label,
            "type": self.type_name,
            "value_labels": values,
        }

    def _label(self, lang: str) -> str:
        return localize(self.label, lang)

    def _help(self, lang: str) -> str:
        return localize(self.help, lang) if self.help else ""

    def _single_value(
        self, form_data: FormData, name: str, lang: str
    ) -> tuple[str | None, str | None]:
        """The one non-blank value sent for ``name`` (or None), and an error message."""
        values = [value.strip() for value in form_data.get(name, ()) if value.strip()]
        if len(values) > 1:
            return None, builtin_text("error_single_value", lang, label=self._label(lang))
        return (values[0] if values else None), None


def _select_choices(options: Mapping[str, str]) -> list[Any]:
    """WTForms choices from value → label (tuples are deprecated from WTForms 3.3 on)."""
    if SelectChoice is None:
        return list(options.items())
    return [SelectChoice(value, label) for value, label in options.items()]


def _radio_field(label: str, options: Mapping[str, str], description: str = "") -> Any:
    # Choice validity is checked by `clean`, which reports it in the respondent's language.
    return wtforms.RadioField(
        label, choices=_select_choices(options), description=description, validate_choice=False
    )


class CheckboxGroupField(wtforms.SelectMultipleField):
    """Multiple choices rendered as a list of checkboxes."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


# ---------------------------------------------------------------------------------------------
# Scales


def _check_scale_labels(labels: dict[int, Any], low: int, high: int) -> dict[int, Any]:
    outside = sorted(point for point in labels if not low <= point <= high)
    if outside:
        raise Problem(f"labels for points {outside} outside the scale {low}..{high}",
                      "labels_outside_scale", points=joined(outside), low=low, high=high)
    points = set(range(low, high + 1))
    if set(labels) != points and set(labels) != {low, high}:
        missing = sorted(points - set(labels))
        raise Problem(
            f"label both ends ({low} and {high}) or every point of the scale (missing: {missing})",
            "labels_incomplete", low=low, high=high, missing=joined(missing),
        )
    return dict(sorted(labels.items()))


def _check_scale_values(values: list[int], low: int, high: int, field: str) -> list[int]:
    outside = [value for value in values if not low <= value <= high]
    if outside:
        raise Problem(f"{field} values {outside} are outside the scale {low}..{high}",
                      "values_outside_scale", values=joined(outside), low=low, high=high)
    if len(set(values)) != len(values):
        raise Problem(f"{field} values are repeated: {values}", "values_repeated",
                      values=joined(values))
    return values


class _ScaleQuestion(Question):
    """A question answered by a point on an integer scale (``low``..``high``)."""

    def scale(self) -> tuple[int, int]:
        raise NotImplementedError

    def point_labels(self, lang: str) -> dict[int, str]:
        """Label of every point: the author's label, prefixed with the number when only the ends
        are labelled so that the middle points read as a continuum."""
        low, high = self.scale()
        labels = self._end_labels(lang)
        if len(labels) == high - low + 1:
            return labels
        return {
            point: f"{point} – {labels[point]}" if point in labels else str(point)
            for point in range(low, high + 1)
        }

    def _end_labels(self, lang: str) -> dict[int, str]:
        raise NotImplementedError

    def _offers_not_applicable(self) -> bool:
        return False

    def form_fields(self, lang: str) -> dict[str, wtforms.Field]:
        options = {str(point): label for point, label in self.point_labels(lang).items()}
        if self._offers_not_applicable():
            options[NOT_APPLICABLE] = builtin_text("not_applicable", lang)
        return {self.code: _radio_field(self._label(lang), options, self._help(lang))}

    def clean(self, form_data: FormData, lang: str) -> Cleaned:
        value, error = self._single_value(form_data, self.code, lang)
        if error or value is None:
            return Cleaned(errors={self.code: error} if error else {})
        if value == NOT_APPLICABLE and self._offers_not_applicable():
            return Cleaned(NOT_APPLICABLE)
        low, high = self.scale()
        if value.lstrip("-").isdecimal() and low <= int(value) <= high:
            return Cleaned(int(value))
        return Cleaned(
            errors={self.code: builtin_text("error_not_a_choice", lang, label=self._label(lang))}
        )

    def possible_values(self) -> frozenset[object]:
        low, high = self.scale()
        values: set[object] = set(range(low, high + 1))
        if self._offers_not_applicable():
            values.add(NOT_APPLICABLE)
        return frozenset(values)

    def analysis_values(self, answer: Any) -> dict[str, Any]:
        return {self.code: answer if isinstance(answer, int) else None}

    def value_labels(self, lang: str) -> dict[Any, str]:
        return dict(self.point_labels(lang))


class RatingQuestion(_ScaleQuestion):
    """A satisfaction scale, e.g. 1 (very dissatisfied) .. 5 (very satisfied).

    ``satisfied`` lists the points counted as satisfied; ``index_weight`` puts the item in the
    composite satisfaction index; ``overall`` marks the overall-satisfaction item.
    """

    type: Literal["rating"]
    trend_fields = (*Question.trend_fields, "min", "max", "labels", "not_applicable")
    min: int = 1
    max: int = 5
    labels: dict[int, LocalizedText]
    not_applicable: bool = False
    satisfied: list[int] | None = Field(default=None, min_length=1)
    index_weight: Weight | None = None
    overall: bool = False

    @field_validator("max")
    @classmethod
    def _above_min(cls, high: int, info: ValidationInfo) -> int:
        low = info.data.get("min")
        if low is not None and high <= low:
            raise Problem(
                f"the scale is inverted or empty: max ({high}) must be above min ({low})",
                "scale_inverted", low=low, high=high,
            )
        if low is not None and high - low > 10:
            raise Problem(f"a scale has at most 11 points ({low}..{high} has {high - low + 1})",
                          "scale_too_long", low=low, high=high, points=high - low + 1)
        return high

    @field_validator("labels")
    @classmethod
    def _labels_fit_scale(cls, labels: dict[int, Any], info: ValidationInfo) -> dict[int, Any]:
        if "min" not in info.data or "max" not in info.data:
            return labels  # the scale itself is invalid and already reported
        return _check_scale_labels(labels, info.data["min"], info.data["max"])

    @field_validator("satisfied")
    @classmethod
    def _satisfied_in_scale(
        cls, values: list[int] | None, info: ValidationInfo
    ) -> list[int] | None:
        if values is None or "min" not in info.data or "max" not in info.data:
            return values
        return _check_scale_values(values, info.data["min"], info.data["max"], "satisfied")

    def scale(self) -> tuple[int, int]:
        return self.min, self.max

    def _end_labels(self, lang: str) -> dict[int, str]:
        return {point: localize(text, lang) for point, text in self.labels.items()}

    def _offers_not_applicable(self) -> bool:
        return self.not_applicable

    def data_dictionary(self, lang: str) -> list[dict[str, Any]]:
        entries = super().data_dictionary(lang)
        if self.not_applicable:
            entries[0]["note"] = (
                f"'{builtin_text('not_applicable', lang)}' is exported as a blank cell"
            )
        return entries

    def indicators(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = [
            {"name": f"{self.code}_mean", "kind": "mean", "item": self.code}
        ]
        if self.satisfied:
            found.append(
                {
                    "name": f"{self.code}_satisfied",
                    "kind": "proportion",
                    "item": self.code,
                    "values": list(self.satisfied),
                }
            )
        return found


class NpsQuestion(_ScaleQuestion):
    """Net Promoter Score: likelihood to recommend, 0..10 (promoters 9–10, detractors 0–6)."""

    type: Literal["nps"]
    trend_fields = (*Question.trend_fields, "labels")
    labels: dict[int, LocalizedText] | None = None

    @field_validator("labels")
    @classmethod
    def _labels_fit_scale(cls, labels: dict[int, Any] | None) -> dict[int, Any] | None:
        return None if labels is None else _check_scale_labels(labels, 0, 10)

    def scale(self) -> tuple[int, int]:
        return 0, 10

    def _end_labels(self, lang: str) -> dict[int, str]:
        if self.labels is None:
            return {0: builtin_text("nps_low", lang), 10: builtin_text("nps_high", lang)}
        return {point: localize(text, lang) for point, text in self.labels.items()}

    def indicators(self) -> list[dict[str, Any]]:
        name = "nps" if self.code == "nps" else f"{self.code}_nps"
        return [{"name": name, "kind": "nps", "item": self.code}]


# ---------------------------------------------------------------------------------------------
# Choices


class Choice(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    value: ChoiceValue
    label: LocalizedText


def _distinct_values(choices: list[Choice]) -> list[Choice]:
    values = [choice.value for choice in choices]
    repeated = sorted({value for value in values if values.count(value) > 1})
    if repeated:
        raise Problem(f"choice values must be distinct; repeated: {repeated}",
                      "choices_repeated", values=joined(repeated))
    return choices


class _ChoiceQuestion(Question):
    trend_fields = (*Question.trend_fields, "choices")
    choices: list[Choice] = Field(min_length=2)

    _validate_choices = field_validator("choices")(_distinct_values)

    def choice_values(self) -> list[str]:
        return [choice.value for choice in self.choices]

    def choice_labels(self, lang: str) -> dict[str, str]:
        return {choice.value: localize(choice.label, lang) for choice in self.choices}

    def possible_values(self) -> frozenset[object]:
        return frozenset(self.choice_values())

    def _not_a_choice(self, lang: str) -> Cleaned:
        return Cleaned(
            errors={self.code: builtin_text("error_not_a_choice", lang, label=self._label(lang))}
        )


class SingleChoiceQuestion(_ChoiceQuestion):
    """One answer among ``choices``; ``satisfied`` lists the values counted as satisfied."""

    type: Literal["single_choice"]
    satisfied: list[ChoiceValue] | None = Field(default=None, min_length=1)

    @field_validator("satisfied")
    @classmethod
    def _satisfied_are_choices(
        cls, values: list[str] | None, info: ValidationInfo
    ) -> list[str] | None:
        choices = info.data.get("choices")
        if values is not None and choices is not None:
            unknown = [value for value in values if value not in {c.value for c in choices}]
            if unknown:
                raise Problem(f"satisfied values {unknown} are not among the choices",
                              "satisfied_not_a_choice", values=joined(unknown))
        return values

    def form_fields(self, lang: str) -> dict[str, wtforms.Field]:
        options = self.choice_labels(lang)
        return {self.code: _radio_field(self._label(lang), options, self._help(lang))}

    def clean(self, form_data: FormData, lang: str) -> Cleaned:
        value, error = self._single_value(form_data, self.code, lang)
        if error:
            return Cleaned(errors={self.code: error})
        if value is None:
            return Cleaned()
        return Cleaned(value) if value in self.choice_values() else self._not_a_choice(lang)

    def value_labels(self, lang: str) -> dict[Any, str]:
        return self.choice_labels(lang)

    def indicators(self) -> list[dict[str, Any]]:
        if not self.satisfied:
            return []
        return [
            {
                "name": f"{self.code}_satisfied",
                "kind": "proportion",
                "item": self.code,
                "values": list(self.satisfied),
            }
        ]


class MultipleChoiceQuestion(_ChoiceQuestion):
    """Any number of ``choices`` (at most ``max_selected``). Exported as one 1/0 column per
    choice, named ``<code>_<value>``."""

    type: Literal["multiple_choice"]
    max_selected: int | None = Field(default=None, ge=1)

    def form_fields(self, lang: str) -> dict[str, wtforms.Field]:
        checkboxes = CheckboxGroupField(
            self._label(lang),
            choices=_select_choices(self.choice_labels(lang)),
            description=self._help(lang),
            validate_choice=False,
        )
        return {self.code: checkboxes}

    def clean(self, form_data: FormData, lang: str) -> Cleaned:
        sent = {value.strip() for value in form_data.get(self.code, ()) if value.strip()}
        if not sent:
            return Cleaned()
        if not sent <= set(self.choice_values()):
            return self._not_a_choice(lang)
        if self.max_selected is not None and len(sent) > self.max_selected:
            message = builtin_text(
                "error_too_many_choices", lang, label=self._label(lang), maximum=self.max_selected
            )
            return Cleaned(errors={self.code: message})
        return Cleaned([value for value in self.choice_values() if value in sent])

    def column_names(self) -> tuple[str, ...]:
        return tuple(f"{self.code}_{value}" for value in self.choice_values())

    def analysis_values(self, answer: Any) -> dict[str, Any]:
        return {
            f"{self.code}_{value}": None if answer is None else int(value in answer)
            for value in self.choice_values()
        }

    def data_dictionary(self, lang: str) -> list[dict[str, Any]]:
        selected = {1: builtin_text("yes", lang), 0: builtin_text("no", lang)}
        return [
            self._dictionary_entry(
                f"{self.code}_{value}", f"{self._label(lang)} – {label}", selected
            )
            for value, label in self.choice_labels(lang).items()
        ]


class YesNoQuestion(Question):
    """Yes or no; exported as 1/0. ``satisfied`` says which answer counts as satisfied."""

    type: Literal["yes_no"]
    satisfied: bool | None = None

    def form_fields(self, lang: str) -> dict[str, wtforms.Field]:
        options = _yes_no_options(lang)
        return {self.code: _radio_field(self._label(lang), options, self._help(lang))}

    def clean(self, form_data: FormData, lang: str) -> Cleaned:
        value, error = self._single_value(form_data, self.code, lang)
        if error:
            return Cleaned(errors={self.code: error})
        if value is None:
            return Cleaned()
        if value not in ("yes", "no"):
            return Cleaned(
                errors={
                    self.code: builtin_text("error_not_a_choice", lang, label=self._label(lang))
                }
            )
        return Cleaned(value == "yes")

    def possible_values(self) -> frozenset[object]:
        return frozenset({True, False})

    def analysis_values(self, answer: Any) -> dict[str, Any]:
        return {self.code: None if answer is None else int(answer)}

    def value_labels(self, lang: str) -> dict[Any, str]:
        return {1: builtin_text("yes", lang), 0: builtin_text("no", lang)}

    def indicators(self) -> list[dict[str, Any]]:
        if self.satisfied is None:
            return []
        return [
            {
                "name": f"{self.code}_satisfied",
                "kind": "proportion",
                "item": self.code,
                "values": [int(self.satisfied)],
            }
        ]


class TextQuestion(Question):
    """Free text of at most ``max_length`` characters."""

    type: Literal["text"]
    max_length: int = Field(default=1000, ge=1, le=10000)
    multiline: bool = True

    def form_fields(self, lang: str) -> dict[str, wtforms.Field]:
        field_class = wtforms.TextAreaField if self.multiline else wtforms.StringField
        text_box = field_class(
            self._label(lang),
            description=self._help(lang),
            render_kw={"maxlength": self.max_length},
        )
        return {self.code: text_box}

    def clean(self, form_data: FormData, lang: str) -> Cleaned:
        value, error = self._single_value(form_data, self.code, lang)
        if error:
            return Cleaned(errors={self.code: error})
        if value is None:
            return Cleaned()
        # Browsers send a textarea's line breaks as CRLF but count them as one character
        # against `maxlength`; normalise so the server agrees with what the respondent saw.
        text = value.replace("\r\n", "\n").replace("\r", "\n")
        if len(text) > self.max_length:
            message = builtin_text(
                "error_too_long",
                lang,
                label=self._label(lang),
                maximum=self.max_length,
                length=len(text),
            )
            return Cleaned(errors={self.code: message})
        return Cleaned(text)


CallbackChannel = Literal["phone", "email"]


class CallbackQuestion(Question):
    """The respondent asks to be contacted about their answers (closed-loop follow-up).

    Asked with three fields: ``<code>`` (yes/no), ``<code>_channel`` (preferred channel) and
    ``<code>_consent`` (a checkbox with the ``consent`` sentence: contacting someone links their
    answers to their identity, so agreement is explicit and stored). Channel and consent are
    required only when the respondent answers yes. Conditions see the ``requested`` boolean.
    """

    type: Literal["callback"]
    trend_fields = (*Question.trend_fields, "channels")
    consent: LocalizedText
    channels: list[CallbackChannel] = Field(default=["phone", "email"], min_length=1)
    channel_label: LocalizedText | None = None

    @field_validator("channels")
    @classmethod
    def _distinct_channels(cls, channels: list[str]) -> list[str]:
        if len(set(channels)) != len(channels):
            raise Problem(f"channels must be distinct: {channels}", "channels_repeated",
                          values=joined(channels))
        return channels

    @property
    def channel_field(self) -> str:
        return f"{self.code}_channel"

    @property
    def consent_field(self) -> str:
        return f"{self.code}_consent"

    def field_names(self) -> tuple[str, ...]:
        return (self.code, self.channel_field, self.consent_field)

    def channel_labels(self, lang: str) -> dict[str, str]:
        return {channel: builtin_text(f"channel_{channel}", lang) for channel in self.channels}

    def channel_question(self, lang: str) -> str:
        if self.channel_label:
            return localize(self.channel_label, lang)
        return builtin_text("callback_channel", lang)

    def form_fields(self, lang: str) -> dict[str, wtforms.Field]:
        return {
            self.code: _radio_field(self._label(lang), _yes_no_options(lang), self._help(lang)),
            self.channel_field: _radio_field(
                self.channel_question(lang), self.channel_labels(lang)
            ),
            self.consent_field: wtforms.BooleanField(localize(self.consent, lang)),
        }

    def clean(self, form_data: FormData, lang: str) -> Cleaned:
        errors: dict[str, str] = {}
        requested, error = self._single_value(form_data, self.code, lang)
        if error:
            return Cleaned(errors={self.code: error})
        if requested is None:
            return Cleaned()
        if requested == "no":
            return Cleaned({"requested": False})
        if requested != "yes":
            return Cleaned(
                errors={
                    self.code: builtin_text("error_not_a_choice", lang, label=self._label(lang))
                }
            )
        channel, error = self._single_value(form_data, self.channel_field, lang)
        if error or channel not in self.channels:
            errors[self.channel_field] = builtin_text("error_callback_channel", lang)
        # A checkbox sends its value ("y" for WTForms) only when ticked.
        consent, _ = self._single_value(form_data, self.consent_field, lang)
        if consent is None or consent.lower() in ("false", "off", "no", "n", "0"):
            errors[self.consent_field] = builtin_text("error_callback_consent", lang)
        if errors:
            return Cleaned(errors=errors)
        return Cleaned({"requested": True, "channel": channel, "consent": True})

    def condition_value(self, answer: Any) -> Any:
        return None if answer is None else answer.get("requested")

    def possible_values(self) -> frozenset[object]:
        return frozenset({True, False})

    def column_names(self) -> tuple[str, ...]:
        return (self.code, self.channel_field)

    def analysis_values(self, answer: Any) -> dict[str, Any]:
        if answer is None:
            return {self.code: None, self.channel_field: None}
        return {self.code: int(answer["requested"]), self.channel_field: answer.get("channel")}

    def data_dictionary(self, lang: str) -> list[dict[str, Any]]:
        yes_no = {1: builtin_text("yes", lang), 0: builtin_text("no", lang)}
        return [
            self._dictionary_entry(self.code, self._label(lang), yes_no),
            self._dictionary_entry(
                self.channel_field, self.channel_question(lang), self.channel_labels(lang)
            ),
        ]


def _yes_no_options(lang: str) -> dict[str, str]:
    return {"yes": builtin_text("yes", lang), "no": builtin_text("no", lang)}


def _question_union() -> Any:
    return Annotated[Union[tuple(QUESTION_TYPES.values())], Field(discriminator="type")]  # noqa: UP007


AnyQuestion = _question_union()
"""Any registered question type, chosen by its ``type``."""
