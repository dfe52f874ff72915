"""The questionnaire definition: pages of questions, in one or more languages.

A definition is written in YAML (see ``definitions/nf-relation-client.yaml``)::

    id: nf-relation-client        # the key campaigns refer to
    version: "2025.1"
    languages: [fr, en]
    title: {fr: ..., en: ...}
    introduction: {fr: ..., en: ...}
    thank_you: {fr: ..., en: ...}  # optional, shown after the last page
    pages:
      - title: {fr: ..., en: ...}  # optional
        questions:
          - code: overall          # the variable name in exports and analysis
            type: rating           # see questions.QUESTION_TYPES
            label: {fr: ..., en: ...}
            help: {fr: ..., en: ...}  # optional
            required: false
            show_if: "'phone' in channels_used"  # optional, see conditions.py
            ...                    # the type's own fields

Load one with ``loader.load_definition``, which also runs the checks spanning several questions
(codes, conditions, the index scale).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Annotated, Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from questionnaires.conditions import Condition
from questionnaires.localized import SUPPORTED_LANGUAGES, LocalizedText, localize
from questionnaires.problems import Problem, joined
from questionnaires.questions import AnyQuestion, Question, RatingQuestion

QuestionnaireId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]


class Page(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    title: LocalizedText | None = None
    questions: list[AnyQuestion] = Field(min_length=1)


class _Rule(NamedTuple):
    """When a question is shown: its condition and the questions whose answers it reads."""

    question: Question
    condition: Condition | None
    reads: tuple[tuple[str, Question], ...]

    def holds(self, answers: Mapping[str, Any]) -> bool:
        if self.condition is None:
            return True
        seen = {
            code: source.condition_value(answers[code])
            for code, source in self.reads
            if code in answers
        }
        return self.condition.evaluate(seen)


class Questionnaire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: QuestionnaireId
    version: str = Field(min_length=1, max_length=32)
    languages: list[str] = Field(min_length=1)
    title: LocalizedText
    introduction: LocalizedText
    thank_you: LocalizedText | None = None
    pages: list[Page] = Field(min_length=1)

    # Questions by code, and each page's questions with what their conditions read: visibility
    # is worked out on every page a respondent shows or saves, so once is enough (a private
    # attribute costs a lookup through pydantic on each access; these are read once a call).
    _by_code: dict[str, Question] = PrivateAttr(default_factory=dict)
    _rules: tuple[tuple[_Rule, ...], ...] = PrivateAttr(default=())

    def model_post_init(self, context: Any) -> None:
        self._by_code = {question.code: question for _, question in self.questions()}
        self._rules = tuple(
            tuple(
                _Rule(
                    question,
                    question.condition,
                    tuple(
                        (code, self._by_code[code])
                        for code in (question.condition.codes if question.condition else ())
                        if code in self._by_code  # the loader reports unknown codes
                    ),
                )
                for question in page.questions
            )
            for page in self.pages
        )

    @field_validator("languages")
    @classmethod
    def _supported_languages(cls, languages: list[str]) -> list[str]:
        unsupported = [lang for lang in languages if lang not in SUPPORTED_LANGUAGES]
        if unsupported:
            raise Problem(
                f"unsupported language(s) {unsupported}; "
                f"supported: {', '.join(SUPPORTED_LANGUAGES)}",
                "unsupported_language", languages=joined(unsupported),
                supported=joined(SUPPORTED_LANGUAGES),
            )
        if len(set(languages)) != len(languages):
            raise Problem(f"languages are repeated: {languages}", "languages_repeated",
                          languages=joined(languages))
        return languages

    @classmethod
    def from_canonical_json(cls, data: bytes | str) -> Questionnaire:
        """Load a frozen copy written by ``loader.canonical_json``, with every check."""
        # Imported here because the loader builds on this module.
        from questionnaires.loader import load_canonical_json

        return load_canonical_json(data)

    # -- structure ------------------------------------------------------------------------------

    def questions(self) -> Iterator[tuple[int, Question]]:
        """Every question in order, with the index of its page."""
        for page_index, page in enumerate(self.pages):
            for question in page.questions:
                yield page_index, question

    def question(self, code: str) -> Question:
        try:
            return self._by_code[code]
        except KeyError:
            raise KeyError(f"questionnaire '{self.id}' has no question '{code}'") from None

    def page(self, page_index: int) -> Page:
        if not 0 <= page_index < len(self.pages):
            raise IndexError(
                f"questionnaire '{self.id}' has pages 0..{len(self.pages) - 1}, not {page_index}"
            )
        return self.pages[page_index]

    def check_language(self, lang: str) -> str:
        if lang not in self.languages:
            raise ValueError(
                f"questionnaire '{self.id}' is not offered in '{lang}' "
                f"(languages: {', '.join(self.languages)})"
            )
        return lang

    def text(self, field: str, lang: str) -> str:
        """A localized text of the questionnaire itself: ``title``, ``introduction``…"""
        value = getattr(self, field)
        return localize(value, self.check_language(lang)) if value else ""

    # -- visibility -----------------------------------------------------------------------------

    def is_shown(self, question: Question, answers: Mapping[str, Any]) -> bool:
        """Whether ``question``'s condition holds for ``answers`` (stored answers by code)."""
        condition = question.condition
        if condition is None:
            return True
        return _Rule(
            question, condition, tuple((code, self.question(code)) for code in condition.codes)
        ).holds(answers)

    def shown_answers(self, answers: Mapping[str, Any]) -> dict[str, Any]:
        """``answers`` without those to questions that are hidden, in questionnaire order.

        One pass suffices because conditions only read earlier questions: dropping a hidden
        answer can only hide later questions, which are examined afterwards.
        """
        kept: dict[str, Any] = {}
        for rules in self._rules:
            for rule in rules:
                code = rule.question.code
                if code in answers and rule.holds(kept):
                    kept[code] = answers[code]
        return kept

    def visible_by_page(self, answers: Mapping[str, Any]) -> list[list[Question]]:
        """The questions each page shows given ``answers``, worked out in one pass: a page's
        navigation (which page is next, which still lacks an answer) reads several pages."""
        shown = self.shown_answers(answers)
        return [[rule.question for rule in rules if rule.holds(shown)] for rules in self._rules]

    # -- analysis and exports -------------------------------------------------------------------

    def overall_question(self) -> RatingQuestion | None:
        for _, question in self.questions():
            if isinstance(question, RatingQuestion) and question.overall:
                return question
        return None

    def analysis_indicators(self) -> list[dict[str, Any]]:
        """The ``indicators`` of the analysis contract (docs/analysis-contract.md): the overall
        item first, then every item's own indicators in questionnaire order, then the composite
        index."""
        questions = [question for _, question in self.questions()]
        questions.sort(key=lambda question: not getattr(question, "overall", False))
        indicators = [indicator for question in questions for indicator in question.indicators()]
        weighted = [
            question
            for question in questions
            if isinstance(question, RatingQuestion) and question.index_weight is not None
        ]
        if weighted:
            indicators.append(
                {
                    "name": "index",
                    "kind": "index",
                    "items": {question.code: question.index_weight for question in weighted},
                    # The loader checks that every weighted item shares one scale.
                    "scale": [weighted[0].min, weighted[0].max],
                }
            )
        return indicators

    def data_dictionary(self, lang: str) -> list[dict[str, Any]]:
        """One entry per exported column: ``code`` (column name), ``question``, ``label``,
        ``type`` and ``value_labels`` (value as exported → label; empty for free values)."""
        self.check_language(lang)
        return [
            entry for _, question in self.questions() for entry in question.data_dictionary(lang)
        ]

    def analysis_record(self, answers: Mapping[str, Any]) -> dict[str, Any]:
        """One respondent's row for exports and analysis: every column of the data dictionary,
        None for a blank cell (unanswered, hidden, or "not applicable")."""
        shown = self.shown_answers(answers)
        record: dict[str, Any] = {}
        for _, question in self.questions():
            record.update(question.analysis_values(shown.get(question.code)))
        return record
