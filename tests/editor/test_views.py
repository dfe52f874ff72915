"""The editor's pages, without JavaScript: every action is a form that posts and redirects."""

from __future__ import annotations

import io

import pytest

from survey.auth.operations import create_user
from survey.extensions import db
from survey.models import Campaign, QuestionnaireDraft, QuestionnaireVersion

PASSWORD = "a long enough password"
BASE = "/manage/questionnaires"


def log_in(app, client, role="manager"):
    with app.app_context():
        create_user(db.session, f"{role}@example.org", role, PASSWORD, actor="test")
        db.session.commit()
    client.post("/login", data={"email": f"{role}@example.org", "password": PASSWORD})
    return client


def new_draft(client, key="centre"):
    response = client.post(f"{BASE}/drafts", data={"source": "template:nf-relation-client",
                                                   "key": key})
    assert response.status_code == 303, response.text
    return response


def draft_data(app, key="centre"):
    with app.app_context():
        return db.session.scalars(db.select(QuestionnaireDraft).filter_by(key=key)).one().data


def test_a_manager_writes_a_question_with_a_condition_and_freezes(app, client) -> None:
    log_in(app, client)
    assert new_draft(client).headers["Location"] == f"{BASE}/drafts/centre"
    page = client.get(f"{BASE}/drafts/centre?lang=en")
    assert page.status_code == 200 and "The questionnaire is valid" in page.text

    # A new yes/no question on page 3: the form opens, its texts still to write.
    added = client.post(f"{BASE}/drafts/centre/pages/2",
                        data={"action": "add_question", "type": "yes_no"})
    assert added.status_code == 303
    location = added.headers["Location"]
    assert location.endswith("/pages/2/questions/7")
    form = client.get(location + "?lang=en")
    assert "The text is missing in" in form.text
    page = client.get(f"{BASE}/drafts/centre?lang=en")
    assert "Page 3, question 8" in page.text and "aria-describedby=\"freeze-hint\"" in page.text
    refused = client.post(f"{BASE}/drafts/centre/freeze", follow_redirects=True)
    assert "correct them before freezing" in refused.text

    # Written in French only: the English text is reported missing, on its field.
    fields = {"code": "visited", "type": "yes_no", "label-fr": "Êtes-vous venu en agence ?",
              "show_if": ""}
    client.post(location, data=fields)
    form = client.get(location + "?lang=en")
    assert "The text is missing in English." in form.text
    # Then translated, and the condition built with the helper.
    fields.update({"label-en": "Did you visit a branch?", "condition_question": "complaint",
                   "condition_operator": "==", "condition_value": "yes",
                   "action": "build_condition"})
    client.post(location, data=fields)
    question = draft_data(app)["pages"][2]["questions"][7]
    assert question["show_if"] == "complaint == true"
    assert question["label"] == {"fr": "Êtes-vous venu en agence ?",
                                 "en": "Did you visit a branch?"}

    # Reordered with the buttons, then undone, then reordered again.
    client.post(f"{BASE}/drafts/centre/pages/2/questions/7/move", data={"action": "up"})
    codes = [q["code"] for q in draft_data(app)["pages"][2]["questions"]]
    assert codes[6] == "visited"
    client.post(f"{BASE}/drafts/centre/undo")
    assert [q["code"] for q in draft_data(app)["pages"][2]["questions"]][7] == "visited"

    frozen = client.post(f"{BASE}/drafts/centre/freeze")
    assert frozen.status_code == 303
    assert frozen.headers["Location"] == f"{BASE}/versions/centre"
    with app.app_context():
        version = db.session.scalars(db.select(QuestionnaireVersion)).one()
        assert version.key == "centre" and version.created_by.startswith("user:")
    history = client.get(f"{BASE}/versions/centre?lang=en")
    assert "n° 1" in history.text
    exported = client.get(f"{BASE}/versions/centre/1.yaml")
    assert exported.status_code == 200 and b"code: visited" in exported.data


def test_a_condition_on_the_same_page_is_reported_where_it_is(app, client) -> None:
    log_in(app, client)
    new_draft(client)
    client.post(f"{BASE}/drafts/centre/pages/0/questions/1",
                data={"code": "contact_reason", "type": "single_choice",
                      "label-fr": "Motif", "label-en": "Reason",
                      "choices-0-value": "info", "choices-0-label-fr": "Info",
                      "choices-0-label-en": "Info", "choices-1-value": "other",
                      "choices-1-label-fr": "Autre", "choices-1-label-en": "Other",
                      "choices-2-value": "", "show_if": "complaint == true"})
    form = client.get(f"{BASE}/drafts/centre/pages/0/questions/1?lang=en")
    assert 'id="show_if-error"' in form.text
    assert "not asked before this question" in form.text
    assert [c["value"] for c in draft_data(app)["pages"][0]["questions"][1]["choices"]] == [
        "info", "other"]


def test_library_duplicate_delete_pages_and_texts(app, client) -> None:
    log_in(app, client)
    new_draft(client)
    client.post(f"{BASE}/drafts/centre/pages", data={})
    data = draft_data(app)
    last = len(data["pages"]) - 1
    refused = client.post(f"{BASE}/drafts/centre/pages/{last}",
                          data={"action": "add_library", "code": "nps"}, follow_redirects=True)
    assert "Le questionnaire a déjà une question <code>nps</code>." in refused.text
    client.post(f"{BASE}/drafts/centre/pages/0/questions/0/move", data={"action": "duplicate"})
    assert draft_data(app)["pages"][0]["questions"][1]["code"] == "channels_used_2"
    client.post(f"{BASE}/drafts/centre/pages/0/questions/1/move", data={"action": "delete"})
    assert draft_data(app)["pages"][0]["questions"][1]["code"] == "contact_reason"
    client.post(f"{BASE}/drafts/centre/pages/{last}", data={"action": "delete"})
    assert len(draft_data(app)["pages"]) == last
    client.post(f"{BASE}/drafts/centre/texts",
                data={"version": "2026.1", "title-fr": "Titre", "title-en": "Title",
                      "introduction-fr": "Bonjour", "introduction-en": "Hello"})
    data = draft_data(app)
    assert data["version"] == "2026.1" and "thank_you" not in data
    # Deleting the draft asks first.
    assert client.get(f"{BASE}/drafts/centre/delete").status_code == 200
    client.post(f"{BASE}/drafts/centre/delete", data={})
    assert client.get(f"{BASE}/drafts/centre").status_code == 200
    client.post(f"{BASE}/drafts/centre/delete", data={"confirm": "yes"})
    assert client.get(f"{BASE}/drafts/centre").status_code == 404


def test_the_preview_plays_conditions_with_the_respondent_template(app, client) -> None:
    log_in(app, client)
    new_draft(client)
    wrapper = client.get(f"{BASE}/drafts/centre/preview?in=en")
    assert wrapper.status_code == 200 and wrapper.text.count("<iframe") == 2
    first = client.get(f"{BASE}/drafts/centre/preview/en/0")
    assert first.status_code == 200
    assert "frame-ancestors 'self'" in first.headers["Content-Security-Policy"]
    assert 'class="survey-form"' in first.text and "How did you contact" in first.text
    # Nothing answered: the respondent's own errors.
    errors = client.post(f"{BASE}/drafts/centre/preview/en/0", data={})
    assert "There is a problem" in errors.text
    answered = client.post(f"{BASE}/drafts/centre/preview/en/0",
                           data={"channels_used": ["letter"], "complaint": "no"})
    assert answered.headers["Location"].endswith("/preview/en/1")
    second = client.get(f"{BASE}/drafts/centre/preview/en/1")
    # Only by letter: the phone waiting time is not asked, the written reply time is.
    assert 'name="phone_wait"' not in second.text and 'name="written_reply_time"' in second.text
    restarted = client.post(f"{BASE}/drafts/centre/preview/en/restart")
    assert restarted.headers["Location"].endswith("/preview/en/0")
    french = client.get(f"{BASE}/drafts/centre/preview/fr/0")
    assert "Comment avez-vous contacté" in french.text and 'lang="fr"' in french.text


def test_an_uploaded_file_becomes_a_draft_even_with_errors(app, client) -> None:
    log_in(app, client)
    text = ("id: upload\nversion: '1'\nlanguages: [fr, en]\ntitle: {fr: T}\n"
            "introduction: {fr: I, en: I}\npages:\n  - questions:\n"
            "      - {code: a, type: yes_no, label: {fr: A, en: A}}\n")
    response = client.post(f"{BASE}/upload", data={"file": (io.BytesIO(text.encode()), "u.yaml"),
                                                   "key": ""},
                           content_type="multipart/form-data")
    assert response.headers["Location"] == f"{BASE}/drafts/upload"
    page = client.get(f"{BASE}/drafts/upload?lang=en")
    assert "The text is missing in English." in page.text
    broken = client.post(f"{BASE}/upload", data={"file": (io.BytesIO(b"a: [b"), "b.yaml")},
                         content_type="multipart/form-data", follow_redirects=True)
    assert "YAML syntax error" in broken.text


def test_a_campaign_takes_a_version_and_the_manager_confirms_its_comparability(
    app, client
) -> None:
    log_in(app, client)
    new_draft(client)
    client.post(f"{BASE}/drafts/centre/freeze")
    client.post("/manage/campaigns", data={"slug": "b-2025", "programme": "B", "year": "2025",
                                           "questionnaire": "centre@1", "channels": ["email"]})
    client.post("/manage/campaigns", data={"slug": "b-2026", "programme": "B", "year": "2026",
                                           "questionnaire": "centre@1", "channels": ["email"]})
    # Next year's draft: the overall item's wording changes.
    client.post(f"{BASE}/drafts/centre/pages/3/questions/0",
                data={"code": "overall", "type": "rating", "label-fr": "Globalement ?",
                      "label-en": "Overall?", **{f"labels-{p}-{lang}": f"{p}{lang}"
                                                 for p in range(1, 6) for lang in ("fr", "en")},
                      "satisfied": "4, 5", "index_weight": "", "overall": "y"})
    assert client.post(f"{BASE}/drafts/centre/freeze").status_code == 303
    page = client.post("/manage/campaigns/b-2026/questionnaire?lang=en",
                       data={"action": "publish", "questionnaire": "centre@2"},
                       follow_redirects=True)
    assert "overall" in page.text and "I confirm" in page.text
    client.post("/manage/campaigns/b-2026/questionnaire", data={"action": "confirm"})
    with app.app_context():
        campaign = db.session.scalars(db.select(Campaign).filter_by(slug="b-2026")).one()
        assert campaign.questionnaire_version.number == 2
        breaks = {item["code"]: item["fields"] for item in campaign.trend_check["breaks"]}
        assert breaks == {"overall": ["label", "labels"]}
        assert campaign.trend_check["confirmed_by"].startswith("user:")
    diff = client.get(f"{BASE}/versions/centre?from=1&to=2&lang=en")
    assert "Question overall, label:" in diff.text


@pytest.mark.parametrize("path", [f"{BASE}", f"{BASE}/drafts/centre",
                                  f"{BASE}/drafts/centre/preview"])
def test_an_auditor_reads_but_changes_nothing(app, client, path) -> None:
    manager = log_in(app, app.test_client(), "manager")
    new_draft(manager)
    log_in(app, client, "auditor")
    assert client.get(path).status_code == 200
    assert client.post(f"{BASE}/drafts/centre/undo").status_code == 403
    assert client.post(f"{BASE}/drafts/centre/pages/0/questions/0",
                       data={"code": "x"}).status_code == 403
