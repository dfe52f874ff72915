"""The bad-token throttle's window, and the rules that decide follow-ups and link states."""

from __future__ import annotations

from datetime import date

from questionnaires import get_bundled
from survey.respond.operations import (
    Link,
    LinkState,
    first_incomplete_page,
    follow_ups_for,
    link_state,
    token_looks_valid,
)
from survey.respond.throttle import BadTokenThrottle
from survey.tokens import issue_token


def test_throttle_refuses_beyond_the_limit_until_the_window_passes():
    throttle = BadTokenThrottle(limit=3, window=60)
    for second in (0, 10, 20):
        assert throttle.retry_after("198.51.100.1", now=second) is None
        throttle.record_failure("198.51.100.1", now=second)
    assert throttle.retry_after("198.51.100.1", now=21) == 40  # the first try leaves at 60
    assert throttle.retry_after("198.51.100.2", now=21) is None  # other addresses unaffected
    assert throttle.retry_after("198.51.100.1", now=61) is None


def test_throttle_forgets_the_oldest_addresses_first(monkeypatch):
    import survey.respond.throttle as module

    monkeypatch.setattr(module, "MAX_TRACKED_ADDRESSES", 2)
    throttle = BadTokenThrottle(limit=1, window=60)
    for address in ("a", "b", "c"):
        throttle.record_failure(address, now=0)
    assert throttle.retry_after("a", now=1) is None
    assert throttle.retry_after("c", now=1) is not None


def test_issued_tokens_look_valid_and_garbage_does_not():
    _, token, _ = issue_token("k" * 40)
    assert token_looks_valid(token) and len(token) == 32
    assert not token_looks_valid("../../etc/passwd")
    assert not token_looks_valid("short")


def test_follow_up_rules():
    questionnaire = get_bundled("nf-relation-client")
    callback = {"requested": True, "channel": "email", "consent": True}
    assert follow_ups_for(questionnaire, {"overall": 4, "nps": 7}) == []
    assert follow_ups_for(questionnaire, {"overall": 4, "nps": 6}) == [("detractor", None)]
    assert follow_ups_for(questionnaire, {"overall": 2, "nps": 10}) == [("detractor", None)]
    assert follow_ups_for(questionnaire, {"overall": 3, "callback": callback}) == [
        ("callback", "email")
    ]
    assert follow_ups_for(questionnaire, {"overall": 3, "callback": {"requested": False}}) == []


def test_required_questions_block_completion():
    questionnaire = get_bundled("nf-relation-client")
    assert first_incomplete_page(questionnaire, {}) == 0
    answers = {"channels_used": ["chat"], "complaint": False}
    assert first_incomplete_page(questionnaire, answers) == 3  # overall is required
    assert first_incomplete_page(questionnaire, {**answers, "overall": 5}) is None


def test_link_states():
    def invitation(
        status: str, is_test: bool = False, end: date | None = None, disposition: str = "sent"
    ) -> Link:
        return Link(
            invitation_id=1, campaign_id=1, language="fr", disposition=disposition,
            is_test=is_test, first_opened_at=None, campaign_status=status, fieldwork_end=end,
            questionnaire_version_id=1, questionnaire_sha256="0" * 64, response=None,
        )

    today = date(2026, 5, 1)
    assert link_state(invitation("open"), today=today) == LinkState.OPEN
    assert link_state(invitation("open", end=date(2026, 4, 30)), today=today) == LinkState.CLOSED
    assert link_state(invitation("open", end=date(2026, 5, 1)), today=today) == LinkState.OPEN
    assert link_state(invitation("draft"), today=today) == LinkState.NOT_OPEN_YET
    assert link_state(invitation("draft", is_test=True), today=today) == LinkState.OPEN
    assert link_state(invitation("archived", is_test=True), today=today) == LinkState.CLOSED
    done = invitation("closed", disposition="complete")
    assert link_state(done, today=today) == LinkState.COMPLETE
