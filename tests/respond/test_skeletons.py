"""A page drawn from its skeleton is the page the template draws, byte for byte
(`survey.respond.pages`), whatever the answers, the language and the link."""

from __future__ import annotations

from datetime import date

import pytest

from questionnaires import get_bundled
from survey.respond.forms import link_csrf_token
from survey.respond.operations import Link, SavedResponse
from survey.respond.pages import PageView, Skeleton, render_page, render_thanks
from tests.respond.helpers import STORED

QUESTIONNAIRE = get_bundled("nf-relation-client")
TOKEN = "A" * 22 + "-_" + "b" * 20

# Answers a page may show: none, everything, partial ones, and values that need escaping.
ANSWER_STATES = [
    {},
    STORED,
    {**STORED, "complaint": False, "callback": {"requested": False}},
    {**STORED, "comment": '<script>alert("x")</script> & \x00 \'quoted\'', "nps": 10},
    {"channels_used": ["letter"], "contact_reason": "other", "complaint": True},
    {**STORED, "callback": {"requested": True, "channel": "email", "consent": False}},
]


def link_with(answers: dict, *, language: str = "fr", is_test: bool = False) -> Link:
    response = SavedResponse(7, dict(answers), 3, 0, "partial") if answers else None
    return Link(
        invitation_id=1, campaign_id=1, language=language, disposition="partial",
        is_test=is_test, first_opened_at=None, campaign_status="open",
        fieldwork_end=date(2026, 12, 31), questionnaire_version_id=1,
        questionnaire_sha256="0" * 64, response=response,
    )


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("is_test", [False, True])
@pytest.mark.parametrize("state", range(len(ANSWER_STATES)))
def test_skeleton_page_is_the_template_page(app, language, is_test, state):
    link = link_with(ANSWER_STATES[state], language=language, is_test=is_test)
    with app.test_request_context(headers={"Accept-Language": language}):
        for page_index in range(len(QUESTIONNAIRE.pages)):
            view = PageView.of(TOKEN, link, QUESTIONNAIRE, page_index, language)
            if not view.questions:
                continue
            in_full = render_page(view, use_skeleton=False)
            first = render_page(view)  # renders the skeleton, then fills it
            again = render_page(view)  # fills the stored skeleton
            assert first == in_full, (page_index, _first_difference(first, in_full))
            assert again == in_full


def test_skeleton_keeps_respondent_values_out_and_fills_them_escaped(app):
    answers = {**STORED, "comment": '<b>"Hi"</b>'}
    with app.test_request_context():
        view = PageView.of(TOKEN, link_with(answers), QUESTIONNAIRE, 3, "fr")
        html = render_page(view)
        skeletons = app.extensions["respond.skeletons"]
        skeleton = skeletons[view.skeleton_key()]
    markup = "".join(skeleton.parts)
    assert TOKEN not in markup and "Hi" not in markup
    assert link_csrf_token(app.config["SECRET_KEY"], TOKEN) not in markup
    assert set(skeleton.slots) >= {"action", "csrf", "revision", "options:overall",
                                   "text:comment", "checkbox:callback_consent"}
    assert "&lt;b&gt;&#34;Hi&#34;&lt;/b&gt;" in html and '<b>"Hi"</b>' not in html
    assert f'action="/r/{TOKEN}/3"' in html


def test_definition_text_holding_a_marker_is_never_cut(app):
    assert Skeleton.parse("<p>\x00options:q1\x00</p>") == Skeleton(("<p>", "</p>"), ("options:q1",))
    assert Skeleton.parse("<p>a \x00 stray marker</p>") is None

    title = {"fr": "Baromètre \x00 2026", "en": "Barometer \x00 2026"}
    questionnaire = QUESTIONNAIRE.model_copy(update={"title": title})
    with app.test_request_context():
        view = PageView.of(TOKEN, link_with(STORED), questionnaire, 0, "fr")
        in_full = render_page(view, use_skeleton=False)
        assert render_page(view) == in_full
        assert app.extensions["respond.skeletons"][view.skeleton_key()] is None
        assert render_page(view) == in_full  # drawn in full again, from the cached refusal


@pytest.mark.parametrize("callback", [False, True])
def test_thank_you_page_follows_the_callback_request(app, callback):
    answers = {**STORED, "callback": {"requested": callback}}
    with app.test_request_context(headers={"Accept-Language": "en"}):
        html = render_thanks(link_with(answers, language="en"), QUESTIONNAIRE, "en")
    assert ("an adviser will contact you" in html) is callback


def _first_difference(one: str, other: str) -> str:
    at = next((i for i, (a, b) in enumerate(zip(one, other, strict=False)) if a != b),
              min(len(one), len(other)))
    return f"at {at}: {one[at - 80:at + 80]!r} != {other[at - 80:at + 80]!r}"
