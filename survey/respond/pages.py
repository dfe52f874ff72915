"""Drawing a respondent's pages, most of them from a skeleton rendered once.

A questionnaire page's markup depends on two kinds of things:
- what every respondent at the same point sees alike: the questionnaire, the page, the language,
  which of the page's questions and which pages are shown (the step, "previous", the button),
  whether the link is a test link;
- what is the respondent's own: their link (in the form's action and the previous page's
  address, and its CSRF token), the response's revision, and their answers.

Most requests show a page as stored (no error, no notice). For those the template is rendered
once per point of the first kind, with markers where the respondent's values go: the page's
skeleton. Showing a page then fills the markers in, escaped, which costs a few percent of
rendering the template. Pages with errors or a notice are rendered in full, with the same
template: they are rare, and their markup follows the submission. `tests/respond` checks that
both ways give the same markup, byte for byte.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup, escape

from questionnaires import Questionnaire
from questionnaires.localized import builtin_text
from questionnaires.questions import (
    NOT_APPLICABLE,
    CallbackQuestion,
    MultipleChoiceQuestion,
    NpsQuestion,
    Question,
    RatingQuestion,
    TextQuestion,
)
from survey.branding import current_branding
from survey.respond import operations, privacy_notice
from survey.respond.forms import form_values, link_csrf_token, page_form_class

# --- what the template draws -----------------------------------------------------------------


@dataclass
class Item:
    """One question as the template draws it."""

    question: Question
    kind: str  # scale, radios, checkboxes, text, callback
    field: Any
    hint: str | None = None
    channel_field: Any = None
    consent_field: Any = None
    # A scale's layout (`scale_layout`): how many points, and the end labels when only the ends
    # are labelled (the cells then show numbers, with the ends written once beside them).
    points: int = 0
    ends: tuple[str, str] | None = None


def scale_layout(field: Any) -> tuple[int, tuple[str, str] | None]:
    """(number of points, (low end's text, high end's text) or None) of a scale's radio field.

    Points whose label is only their number, or "number – text", make a numeric scale drawn as
    equal cells; a scale whose every point has its own words is drawn as rows on a phone.
    """
    labels = [(str(value), str(label)) for value, label in _choices(field)
              if str(value) != NOT_APPLICABLE]
    numeric = all(label == value or label.startswith(f"{value} – ") for value, label in labels)
    if not numeric or not labels:
        return len(labels), None
    low, high = labels[0], labels[-1]
    ends = (low[1].partition(" – ")[2] or low[0], high[1].partition(" – ")[2] or high[0])
    return len(labels), ends


def _choices(field: Any) -> list[tuple[Any, Any]]:
    # WTForms gives (value, label) pairs or, once normalised, `SelectChoice` tuples.
    return [
        (choice.value, choice.label) if hasattr(choice, "value") else (choice[0], choice[1])
        for choice in field.choices
    ]


def _kind(question: Question) -> str:
    if isinstance(question, RatingQuestion | NpsQuestion):
        return "scale"
    if isinstance(question, MultipleChoiceQuestion):
        return "checkboxes"
    if isinstance(question, TextQuestion):
        return "text"
    if isinstance(question, CallbackQuestion):
        return "callback"
    return "radios"


# A group's options as markup: (value, the option unchecked, the option checked), by form class
# and field name. The form classes live as long as the process (`page_form_class`) and their
# fields' ids, names, values and labels never change, so nothing invalidates an entry; writing
# the options out once spares escaping every id, value and label of every page shown.
_option_markup: dict[tuple[type, str], list[tuple[str, Markup, Markup]]] = {}
# A single checkbox (the callback's consent) as WTForms writes it: (unchecked, checked).
_checkbox_markup: dict[tuple[type, str], tuple[Markup, Markup]] = {}

_OPTION = Markup(
    '<div class="{css}"><input id="{id}" name="{name}" type="{type}" value="{value}"{checked}>'
    ' <label for="{id}">{label}</label></div>'
)
# A point of a numeric scale: the number shows in its cell, the end's words are read with it
# by screen readers and written once under the scale for the eye.
_POINT_LABEL = Markup('<span class="n">{number}</span><span class="t"> – {text}</span>')


def _markup_of(field: Any) -> list[tuple[str, Markup, Markup]]:
    input_type = "checkbox" if field.type == "CheckboxGroupField" else "radio"
    options = []
    numeric = input_type == "radio" and scale_layout(field)[1] is not None
    for index, (raw_value, label) in enumerate(_choices(field)):
        value = str(raw_value)
        css = "option"
        if value == NOT_APPLICABLE:
            css = "option na"
        elif numeric:
            css = "option point"
            number, _dash, text = str(label).partition(" – ")
            label = _POINT_LABEL.format(number=number, text=text) if text else label
        markup = {
            "id": f"{field.id}-{index}", "name": field.name, "type": input_type,
            "value": value, "label": label, "css": css,
        }
        options.append((
            value,
            _OPTION.format(**markup, checked=""),
            _OPTION.format(**markup, checked=Markup(" checked")),
        ))
    return options


def _options_of(form_class: type, field: Any) -> list[tuple[str, Markup, Markup]]:
    key = (form_class, field.name)
    options = _option_markup.get(key)
    if options is None:
        options = _option_markup.setdefault(key, _markup_of(field))
    return options


def _checked_options(options: list[tuple[str, Markup, Markup]], data: Any) -> Markup:
    """The inputs of a radio or checkbox group, those whose value is in `data` checked."""
    chosen = {str(value) for value in data} if isinstance(data, list | tuple) else {str(data)}
    # Every piece is markup already (`_markup_of`): joined as text rather than through
    # `Markup.join`, which passes each piece through `escape` again (7 of its 8 µs per group).
    return Markup("\n    ".join(  # noqa: S704
        checked if value in chosen else unchecked for value, unchecked, checked in options
    ))


def _checkbox_of(form_class: type, field: Any) -> tuple[Markup, Markup]:
    key = (form_class, field.name)
    variants = _checkbox_markup.get(key)
    if variants is None:
        # The field belongs to a skeleton's own form: setting its data draws both states.
        field.data = False
        unchecked = field()
        field.data = True
        variants = _checkbox_markup.setdefault(key, (unchecked, field()))
    return variants


def _anchor(field: Any) -> str:
    """Where an error summary's link lands: a group's first option, or the field itself."""
    if field.type in ("RadioField", "CheckboxGroupField"):
        return f"{field.id}-0"
    return field.id


# --- one page --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageView:
    """What a questionnaire page shows for one link, worked out once per request."""

    token: str
    link: operations.Link
    questionnaire: Questionnaire
    page_index: int
    lang: str
    questions: list[Question]
    step: int
    steps: int
    previous: int | None
    last: bool

    @classmethod
    def of(
        cls, token: str, link: operations.Link, questionnaire: Questionnaire, page_index: int,
        lang: str,
    ) -> PageView:
        # Which questions each page shows, worked out once: the step, the previous page and the
        # button's label all follow from it (as `previous_page_index` and `is_last_page` would).
        visible_by_page = questionnaire.visible_by_page(link.answers)
        visible_pages = [index for index, shown_here in enumerate(visible_by_page) if shown_here]
        step = visible_pages.index(page_index) + 1 if page_index in visible_pages else 1
        return cls(
            token=token,
            link=link,
            questionnaire=questionnaire,
            page_index=page_index,
            lang=lang,
            questions=visible_by_page[page_index],
            step=step,
            steps=max(len(visible_pages), step),
            previous=max((index for index in visible_pages if index < page_index), default=None),
            last=not any(index > page_index for index in visible_pages),
        )

    @property
    def revision(self) -> int:
        return self.link.response.revision if self.link.response is not None else 0

    def form_class(self) -> type:
        return page_form_class(self.questionnaire, self.page_index, self.lang)

    def skeleton_key(self) -> tuple[Any, ...]:
        """Everything a skeleton depends on (the branding and privacy notice are the
        invitation's client's)."""
        return (
            self.form_class(), str(get_locale() or "fr"), current_branding(),
            tuple(question.code for question in self.questions),
            self.step, self.steps, self.previous, self.last, self.link.is_test,
        )

    def action(self) -> str:
        return url_for("respond.page", token=self.token, page_index=self.page_index)

    def previous_url(self) -> str | None:
        if self.previous is None:
            return None
        return url_for("respond.page", token=self.token, page_index=self.previous)


def render_page(
    view: PageView,
    *,
    submitted: bool = False,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    use_skeleton: bool = True,
) -> str:
    """The page's markup: from its skeleton when it shows the answers as stored, else in full
    (`submitted`: with what the request's form holds; `errors` by field name; a `notice`)."""
    if submitted or errors or notice or not use_skeleton:
        return _render_in_full(view, submitted=submitted, errors=errors or {}, notice=notice)
    skeletons = current_app.extensions.setdefault("respond.skeletons", {})
    key = view.skeleton_key()
    skeleton = skeletons.get(key)
    if key not in skeletons:
        # None when the definition's own text holds a marker: such a page is always drawn in
        # full, and the skeleton is not tried again.
        skeletons.setdefault(key, Skeleton.parse(_render_skeleton(view)))
    skeleton = skeletons[key]
    if skeleton is None:
        return _render_in_full(view, submitted=False, errors={}, notice=None)
    return skeleton.fill(_slot_values(view))


def _render_in_full(
    view: PageView, *, submitted: bool, errors: dict[str, str], notice: str | None
) -> str:
    form_class = view.form_class()
    if submitted:
        form = form_class(formdata=request.form)  # what the respondent entered
    else:
        form = form_class(formdata=None, data=form_values(view.questions, view.link.answers))
    items = _items(view, form)

    return _render_template(
        view,
        items,
        errors=errors,
        error_links=_error_links(items, errors, view.lang),
        notice=notice,
        action=view.action(),
        previous_url=view.previous_url(),
        link_csrf=link_csrf_token(current_app.config["SECRET_KEY"], view.token),
        revision=view.revision,
        options=lambda field: _checked_options(_options_of(form_class, field), field.data),
        checkbox=lambda field: field(),
    )


def _error_links(items: list[Item], errors: dict[str, str], lang: str) -> list[tuple[str, str]]:
    """The error summary's lines as (text, anchor), in the page's order.

    Next to a question its error is short ("Please answer this question."); the summary is
    read out of context, so there each error of a question is preceded by the question's short
    name for charts when it has one, its label otherwise.
    """
    links = []
    shown = set()
    for item in items:
        for field in (item.field, item.channel_field, item.consent_field):
            if field is None:
                continue
            shown.add(field.name)
            if field.name not in errors:
                continue
            message = errors[field.name]
            if field is item.field:
                question = item.question
                name = (question.chart_label or question.label)[lang]
                message = builtin_text("error_in_summary", lang, label=name, message=message)
            links.append((message, _anchor(field)))
    # Unknown (tampered) fields, an expired CSRF token: about no question, they go to the button.
    links += [(message, "submit") for name, message in errors.items() if name not in shown]
    return links


def _items(view: PageView, form: Any) -> list[Item]:
    items = []
    for question in view.questions:
        item = Item(
            question=question,
            kind=_kind(question),
            field=form[question.code],
            hint=question.help[view.lang] if question.help else None,
        )
        if item.kind == "scale":
            item.points, item.ends = scale_layout(item.field)
        if isinstance(question, CallbackQuestion):
            item.channel_field = form[question.channel_field]
            item.consent_field = form[question.consent_field]
        items.append(item)
    return items


def _render_template(view: PageView, items: list[Item], **values: Any) -> str:
    questionnaire, lang = view.questionnaire, view.lang
    page_title = questionnaire.pages[view.page_index].title
    return render_template(
        "respond/page.html",
        items=items,
        page_title=page_title[lang] if page_title else None,
        questionnaire_title=questionnaire.text("title", lang),
        introduction=questionnaire.text("introduction", lang) if view.step == 1 else None,
        step=view.step,
        steps=view.steps,
        previous=view.previous,
        last=view.last,
        is_test=view.link.is_test,
        privacy=privacy_notice(current_app.config, lang),
        # Translated once rather than for each question (a translation is looked up per call).
        required_text=_("(required)"),
        **values,
    )


# --- skeletons -------------------------------------------------------------------------------

_MARK = "\x00"
_SLOT = re.compile(f"{_MARK}([a-z]+(?::[A-Za-z0-9_]+)?){_MARK}")


def _slot(name: str) -> str:
    return f"{_MARK}{name}{_MARK}"


def _render_skeleton(view: PageView) -> str:
    """The page's template with a marker where each of the respondent's values goes."""
    form_class = view.form_class()
    text_fields = {
        question.code: _slot(f"text:{question.code}")
        for question in view.questions
        if isinstance(question, TextQuestion)
    }
    form = form_class(formdata=None, data=text_fields)

    # A marker holds no character that escaping changes: plain strings come out as they are.
    def options(field: Any) -> str:
        _options_of(form_class, field)
        return _slot(f"options:{field.name}")

    def checkbox(field: Any) -> str:
        _checkbox_of(form_class, field)
        return _slot(f"checkbox:{field.name}")

    return _render_template(
        view,
        _items(view, form),
        errors={},
        error_links=[],
        notice=None,
        action=_slot("action"),
        previous_url=_slot("previous") if view.previous is not None else None,
        link_csrf=_slot("csrf"),
        revision=_slot("revision"),
        options=options,
        checkbox=checkbox,
    )


@dataclass(frozen=True)
class Skeleton:
    """A page's markup cut at its markers: `parts` around `slots` (one fewer slot than part)."""

    parts: tuple[str, ...]
    slots: tuple[str, ...]

    @classmethod
    def parse(cls, html: str) -> Skeleton | None:
        pieces = _SLOT.split(html)
        parts, slots = tuple(pieces[0::2]), tuple(pieces[1::2])
        if any(_MARK in part for part in parts):
            return None
        return cls(parts, slots)

    def fill(self, value_of: Callable[[str], str]) -> str:
        pieces = [self.parts[0]]
        for slot, part in zip(self.slots, self.parts[1:], strict=True):
            pieces.append(value_of(slot))
            pieces.append(part)
        return "".join(pieces)


def _slot_values(view: PageView) -> Callable[[str], str]:
    form_class = view.form_class()
    data = form_values(view.questions, view.link.answers)
    fixed = {
        "action": escape(view.action()),
        "previous": escape(view.previous_url() or ""),
        "csrf": link_csrf_token(current_app.config["SECRET_KEY"], view.token),
        "revision": str(view.revision),
    }

    def value_of(slot: str) -> str:
        kind, _, name = slot.partition(":")
        if kind == "options":
            return _checked_options(_option_markup[(form_class, name)], data.get(name))
        if kind == "checkbox":
            return _checkbox_markup[(form_class, name)][bool(data.get(name))]
        if kind == "text":
            value = data.get(name)
            return escape("" if value is None else str(value))
        return fixed[kind]

    return value_of


# --- a manager's preview of a questionnaire being written ---------------------------------------


@dataclass(frozen=True)
class _PreviewLink:
    is_test: bool = True


def render_preview(
    questionnaire: Questionnaire,
    page_index: int,
    lang: str,
    answers: dict[str, Any],
    *,
    action: str,
    previous_url: str | None,
    csrf_token: str,
    errors: dict[str, str] | None = None,
    formdata: Any = None,
) -> str:
    """A page of a questionnaire that is not frozen (the editor's live preview) with the
    respondent's own template and fields, drawn in full: `answers` are those given so far in
    the preview, `formdata` what was just submitted when it had `errors`. The page carries the
    test banner: nothing typed in a preview is ever stored as an answer."""
    visible_by_page = questionnaire.visible_by_page(answers)
    visible_pages = [index for index, shown in enumerate(visible_by_page) if shown]
    step = visible_pages.index(page_index) + 1 if page_index in visible_pages else 1
    view = PageView(
        token="", link=_PreviewLink(),  # type: ignore[arg-type]
        questionnaire=questionnaire, page_index=page_index, lang=lang,
        questions=visible_by_page[page_index], step=step,
        steps=max(len(visible_pages), step),
        previous=max((index for index in visible_pages if index < page_index), default=None),
        last=not any(index > page_index for index in visible_pages),
    )
    # A class of its own: a draft changes between two previews, the respondents' cache is for
    # frozen definitions only.
    from questionnaires import build_page_form_class

    form_class = build_page_form_class(questionnaire, page_index, lang)
    if formdata is not None:
        form = form_class(formdata=formdata)
    else:
        form = form_class(formdata=None, data=form_values(view.questions, answers))
    items = _items(view, form)
    errors = errors or {}
    return _render_template(
        view, items, errors=errors, error_links=_error_links(items, errors, lang), notice=None,
        action=action,
        previous_url=previous_url, link_csrf=csrf_token, revision=0,
        options=lambda field: _checked_options(_markup_of(field), field.data),
        checkbox=lambda field: field(),
    )


# --- the thank-you page ----------------------------------------------------------------------


def render_thanks(link: operations.Link, questionnaire: Questionnaire, lang: str) -> str:
    """The thank-you page: the same for every respondent of a questionnaire in a language who did,
    or did not, ask to be called back, so rendered once for each."""
    answers = link.answers
    callback = any(
        isinstance(question, CallbackQuestion)
        and isinstance(answers.get(question.code), dict)
        and answers[question.code].get("requested")
        for _page, question in questionnaire.questions()
    )
    pages = current_app.extensions.setdefault("respond.thanks", {})
    key = (link.questionnaire_sha256, lang, str(get_locale() or "fr"), callback, link.is_test,
           current_branding())
    html = pages.get(key)
    if html is None:
        html = pages.setdefault(key, render_template(
            "respond/thanks.html",
            questionnaire_title=questionnaire.text("title", lang),
            thank_you=questionnaire.text("thank_you", lang),
            callback=callback,
            is_test=link.is_test,
            privacy=privacy_notice(current_app.config, lang),
        ))
    return html
