"""Drafts, versions, campaigns and comparability through the service functions."""

from __future__ import annotations

import pytest

from questionnaires import definition_sha256, get_bundled
from survey.campaigns.operations import CampaignError, create_campaign
from survey.editor import edits
from survey.editor.operations import (
    EditorError,
    apply_edit,
    check_draft,
    confirm_trend_check,
    draft_from_template,
    draft_from_version,
    freeze_draft,
    get_version,
    publish_version,
    undo_last_change,
)
from survey.extensions import db
from survey.models import AuditEvent, QuestionnaireVersion


def _draft(key: str = "centre-2026"):
    return draft_from_template(db.session, "nf-relation-client", key, actor="test")


def test_a_draft_from_the_template_freezes_to_the_template_content(app) -> None:
    with app.app_context():
        draft = _draft()
        assert draft.data["id"] == "centre-2026"
        version = freeze_draft(db.session, draft, actor="test")
        assert version.number == 1 and version.key == "centre-2026"
        template = get_bundled("nf-relation-client").model_copy(update={"id": "centre-2026"})
        assert version.sha256 == definition_sha256(template)
        # Freezing the same content again gives the same version, not a new number.
        assert freeze_draft(db.session, draft, actor="test").id == version.id
        actions = db.session.scalars(db.select(AuditEvent.action)).all()
        assert "questionnaire.draft.create" in actions and "questionnaire.freeze" in actions


def test_template_keys_and_repeated_keys_are_refused(app) -> None:
    with app.app_context():
        with pytest.raises(EditorError, match="key of a template"):
            _draft("nf-relation-client")
        _draft()
        with pytest.raises(EditorError, match="already exists"):
            _draft()
        with pytest.raises(EditorError, match="cannot be a questionnaire's key"):
            _draft("Bad Key")


def test_an_invalid_draft_is_saved_with_errors_where_they_are_but_not_frozen(app) -> None:
    with app.app_context():
        draft = _draft()
        apply_edit(db.session, draft, edits.add_question, 0,
                   edits.new_question(draft.data, "rating"), label="add", actor="test")
        questionnaire, errors = check_draft(draft)
        assert questionnaire is None
        paths = {error.path for error in errors}
        assert "pages[0].questions[3].label.fr" in paths or "pages[0].questions[3].label" in paths
        with pytest.raises(EditorError, match="error") as raised:
            freeze_draft(db.session, draft, actor="test")
        assert raised.value.errors == errors
        assert db.session.scalar(db.select(db.func.count(QuestionnaireVersion.id))) == 0


def test_every_edit_can_be_undone(app) -> None:
    with app.app_context():
        draft = _draft()
        before = draft.data
        apply_edit(db.session, draft, edits.move_question, 0, 0, 1, label="move", actor="test")
        assert [q["code"] for q in draft.data["pages"][0]["questions"]][:2] == [
            "contact_reason", "channels_used"]
        assert undo_last_change(db.session, draft, actor="test") == "move"
        assert draft.data == before
        with pytest.raises(EditorError, match="no change to undo"):
            undo_last_change(db.session, draft, actor="test")


def test_moves_cross_pages_and_duplicates_get_a_free_code() -> None:
    data = {"id": "x", "languages": ["fr", "en"], "pages": [
        {"questions": [{"code": "a"}, {"code": "b"}]}, {"questions": [{"code": "c"}]}]}
    moved = edits.move_question(data, 0, 1, 1)
    assert [[q["code"] for q in p["questions"]] for p in moved["pages"]] == [["a"], ["b", "c"]]
    moved = edits.move_question(data, 1, 0, -1)
    assert [[q["code"] for q in p["questions"]] for p in moved["pages"]] == [["a", "b", "c"], []]
    with pytest.raises(edits.EditError):
        edits.move_question(data, 0, 0, -1)
    copied = edits.duplicate_question(data, 0, 0)
    assert [q["code"] for q in copied["pages"][0]["questions"]] == ["a", "a_2", "b"]
    assert data["pages"][0]["questions"] == [{"code": "a"}, {"code": "b"}]  # untouched
    with pytest.raises(edits.EditError, match="already has"):
        edits.add_library_question({"pages": [{"questions": [{"code": "nps"}]}]}, 0, "nps")


def test_campaigns_use_a_frozen_version_and_flag_broken_trends(app) -> None:
    with app.app_context():
        draft = _draft("centre")
        last_year = freeze_draft(db.session, draft, actor="test")
        create_campaign(db.session, "b-2025", programme="B", year=2025,
                        questionnaire_key="centre", actor="test")
        # This year the wording of one item changes and another item goes.
        data = edits.question_at(draft.data, 2, 0)
        assert data["code"] == "courtesy"
        data["label"] = {**data["label"], "fr": "Nos conseillers ont-ils été aimables ?"}
        apply_edit(db.session, draft, edits.replace_question, 2, 0, data, label="w", actor="t")
        apply_edit(db.session, draft, edits.delete_question, 2, 1, label="d", actor="t")
        this_year = freeze_draft(db.session, draft, actor="test")
        assert this_year.number == 2
        campaign = create_campaign(db.session, "b-2026", programme="B", year=2026,
                                   questionnaire_key="centre@1", actor="test")
        assert campaign.questionnaire_version.id == last_year.id
        assert campaign.trend_check["breaks"] == []

        publish_version(db.session, campaign, this_year, actor="test")
        check = campaign.trend_check
        assert check["previous_campaign"] == "b-2025" and check["confirmed_by"] is None
        assert check["breaks"] == [
            {"code": "courtesy", "reason": "changed", "fields": ["label"]},
            {"code": "professionalism", "reason": "removed", "fields": []},
        ]
        confirm_trend_check(db.session, campaign, actor="manager")
        assert campaign.trend_check["confirmed_by"] == "manager"
        assert get_version(db.session, "centre").id == this_year.id


def test_unknown_questionnaires_and_launched_campaigns_are_refused(app) -> None:
    with app.app_context():
        _draft("centre")
        with pytest.raises(CampaignError, match="a draft must be frozen first"):
            create_campaign(db.session, "b-2026", programme="B", year=2026,
                            questionnaire_key="centre", actor="test")
        campaign = create_campaign(db.session, "b-2026", programme="B", year=2026,
                                   questionnaire_key="nf-relation-client", actor="test")
        campaign.status = "open"
        version = freeze_draft(db.session, _draft("other"), actor="test")
        with pytest.raises(EditorError, match="only a campaign in draft"):
            publish_version(db.session, campaign, version, actor="test")


def test_a_new_draft_from_last_year_version(app) -> None:
    with app.app_context():
        version = freeze_draft(db.session, _draft("centre"), actor="test")
        copy = draft_from_version(db.session, version, "centre-next", actor="test")
        assert copy.data["id"] == "centre-next"
        assert check_draft(copy)[1] == []
