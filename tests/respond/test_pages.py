"""The respondent's pages answered end to end through the application, on the bundled
questionnaire: every question type, `show_if`, both languages, resume, refusals."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from sqlalchemy import func, select

from survey import PROJECT_ROOT
from survey.audit import verify_chain
from survey.extensions import db
from survey.models import AuditEvent, FollowUp, Invitation, Response
from tests.respond.helpers import PAGES, STORED, answer_all, make_link, open_campaign, post_page


def response_of(invitation_id: int) -> Response | None:
    db.session.expire_all()
    return db.session.scalar(select(Response).where(Response.invitation_id == invitation_id))


@pytest.mark.parametrize(
    ("language", "first_label", "button"),
    [
        ("fr", "Comment avez-vous contacté notre service client", "Suivant"),
        ("en", "How did you contact our customer service", "Next"),
    ],
)
def test_whole_questionnaire_answered_in_each_language(app, client, language, first_label,
                                                       button):
    with app.app_context():
        invitation, link = make_link(open_campaign(), language=language)
        invitation_id = invitation.id

    page = client.get(link)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'<html lang="{language}">' in html
    assert first_label in html and button in html
    for index, answers in enumerate(PAGES):
        shown = client.get(f"{link}/{index}").get_data(as_text=True)
        for name in answers:  # every conditional question is shown for these answers
            assert f'name="{name}"' in shown, (index, name)
        reply = post_page(client, link, index, answers)
        assert reply.status_code == 303
        following = f"{link}/{index + 1}" if index + 1 < len(PAGES) else f"{link}/thanks"
        assert reply.headers["Location"].endswith(following)

    thanks = client.get(f"{link}/thanks")
    assert thanks.status_code == 200
    text = thanks.get_data(as_text=True)
    assert ("Merci" in text) if language == "fr" else ("Thank you" in text)

    with app.app_context():
        response = response_of(invitation_id)
        assert response.status == "complete" and response.completed_at is not None
        assert response.answers == STORED
        assert response.language == language
        invitation = db.session.get(Invitation, invitation_id)
        assert invitation.disposition == "complete" and invitation.completed_at is not None
        follow_ups = {f.kind: f.preferred_channel for f in db.session.scalars(select(FollowUp))}
        assert follow_ups == {"callback": "phone", "detractor": None}
        actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        assert actions[-2:] == ["response.start", "response.complete"]
        summaries = db.session.scalars(select(AuditEvent.summary)).all()
        assert not any("Trop" in str(summary) for summary in summaries)  # no answers in the trail
        assert verify_chain(db.session).ok


def test_show_if_hides_questions_and_drops_their_answers(app, client):
    with app.app_context():
        invitation, link = make_link(open_campaign())
        invitation_id = invitation.id

    post_page(client, link, 0, PAGES[0])
    post_page(client, link, 1, PAGES[1])
    with app.app_context():
        assert response_of(invitation_id).answers["phone_wait"] == 2

    # Back to the first page: only the chat now, and no complaint.
    changed = {"channels_used": ["chat"], "complaint": ["no"]}
    assert post_page(client, link, 0, changed).status_code == 303
    with app.app_context():
        answers = response_of(invitation_id).answers
        assert "phone_wait" not in answers and "written_reply_time" not in answers
        assert answers["ease_of_reaching"] == 4  # unconditional answers stay

    page1 = client.get(f"{link}/1").get_data(as_text=True)
    assert 'name="phone_wait"' not in page1 and 'name="written_reply_time"' not in page1
    # A hidden question sent anyway (a tampered or stale form) is not stored, nor required.
    reply = post_page(client, link, 1, {"ease_of_reaching": ["3"], "phone_wait": ["1"]})
    assert reply.status_code == 303
    page2 = client.get(f"{link}/2").get_data(as_text=True)
    assert 'name="complaint_handling"' not in page2
    with app.app_context():
        answers = response_of(invitation_id).answers
        assert answers["ease_of_reaching"] == 3 and "phone_wait" not in answers


def test_resume_after_interruption_shows_where_the_respondent_stopped(app, client):
    with app.app_context():
        invitation, link = make_link(open_campaign())
        invitation_id = invitation.id
    post_page(client, link, 0, PAGES[0])
    post_page(client, link, 1, PAGES[1])

    later = app.test_client()  # another day, another browser: no cookie
    resumed = later.get(link).get_data(as_text=True)
    assert 'name="courtesy"' in resumed  # page 3 of 4
    assert "3 of 4" in resumed or "3 sur 4" in resumed
    earlier = later.get(f"{link}/1").get_data(as_text=True)
    assert re.search(r'<input id="ease_of_reaching-3"[^>]*value="4" checked', earlier)
    assert re.search(r'<input id="cost_information-5"[^>]*value="na" checked', earlier)
    first = later.get(f"{link}/0").get_data(as_text=True)
    assert re.search(r'<input id="channels_used-0"[^>]*value="phone" checked', first)
    assert re.search(r'<input id="complaint-0"[^>]*value="yes" checked', first)
    with app.app_context():
        response = response_of(invitation_id)
        assert response.status == "partial" and response.current_page == 2
        assert db.session.get(Invitation, invitation_id).disposition == "partial"

    answer_all(later, link, PAGES)  # going through again, changing nothing, completes it
    with app.app_context():
        assert response_of(invitation_id).status == "complete"
        assert db.session.scalar(select(func.count(Response.id))) == 1


def test_pages_cannot_be_skipped(app, client):
    with app.app_context():
        invitation, link = make_link(open_campaign())
        invitation_id = invitation.id
    reply = client.get(f"{link}/2")
    assert reply.status_code == 303 and reply.headers["Location"].endswith(f"{link}/0")
    reply = post_page(client, link, 3, PAGES[3])
    assert reply.status_code == 303 and reply.headers["Location"].endswith(f"{link}/0")
    assert client.get(f"{link}/9").status_code == 303
    with app.app_context():
        assert response_of(invitation_id) is None


INVALID = [
    (0, {"channels_used": ["fax"], "complaint": ["no"]}, "channels_used", "choisir une des"),
    (0, {"channels_used": ["phone"], "complaint": ["maybe"]}, "complaint", "choisir une des"),
    (0, {"channels_used": ["phone"], "complaint": ["yes", "no"]}, "complaint", "une seule"),
    (0, {"channels_used": ["phone"], "complaint": ["no"], "contact_reason": ["bribe"]},
     "contact_reason", "choisir une des"),
    (0, {"complaint": ["no"]}, "channels_used", "Veuillez répondre"),
    (0, {"channels_used": ["phone"], "complaint": ["no"], "is_test": ["1"]}, None,
     "ne fait pas partie"),
    (1, {"ease_of_reaching": ["6"]}, "ease_of_reaching", "choisir une des"),
    (1, {"ease_of_reaching": ["0"]}, "ease_of_reaching", "choisir une des"),
    (1, {"ease_of_reaching": ["4.5"]}, "ease_of_reaching", "choisir une des"),
    (1, {"phone_wait": ["na"]}, "phone_wait", "choisir une des"),  # no "na" on this scale
    (3, {"overall": ["3"], "nps": ["11"]}, "nps", "choisir une des"),
    (3, {"overall": ["3"], "nps": ["-1"]}, "nps", "choisir une des"),
    (3, {"nps": ["8"]}, "overall", "Veuillez répondre"),
    (3, {"overall": ["3"], "comment": ["x" * 1001]}, "comment", "au plus 1000"),
    (3, {"overall": ["3"], "callback": ["yes"]}, "callback_channel", "comment vous préférez"),
    (3, {"overall": ["3"], "callback": ["yes"], "callback_channel": ["phone"]},
     "callback_consent", "cocher la case"),
    (3, {"overall": ["3"], "callback": ["yes"], "callback_channel": ["pigeon"],
         "callback_consent": ["y"]}, "callback_channel", "comment vous préférez"),
]


@pytest.mark.parametrize(("index", "page", "field", "message"), INVALID)
def test_invalid_or_tampered_input_is_refused_with_a_message(app, client, index, page, field,
                                                             message):
    with app.app_context():
        invitation, link = make_link(open_campaign())
        invitation_id = invitation.id
    answer_all(client, link, PAGES[:index])
    with app.app_context():
        before = response_of(invitation_id)
        before = (before.revision, dict(before.answers)) if before else None

    reply = post_page(client, link, index, page)
    html = reply.get_data(as_text=True)
    assert reply.status_code == 200
    assert 'class="error-summary"' in html and "<title>Erreur" in html
    assert message in html
    if field is not None:
        # The summary links to the field, and the field carries the message.
        anchor = re.search(rf'href="#({field}(-0)?)"', html)
        assert anchor, html
        assert f'id="{anchor.group(1)}"' in html
        assert f'id="{field}-error"' in html
    with app.app_context():
        after = response_of(invitation_id)
        assert ((after.revision, after.answers) if after else None) == before


def test_the_error_next_to_a_question_is_short_and_the_summary_names_the_question(app, client):
    """Issue #15: the message under a question does not repeat it; the summary, read out of
    context, names the question before the same short message."""
    from questionnaires.loader import get_bundled

    overall = get_bundled("nf-relation-client").question("overall")
    label = (overall.chart_label or overall.label)["fr"]
    with app.app_context():
        _, link = make_link(open_campaign())
    answer_all(client, link, PAGES[:3])
    html = post_page(client, link, 3, {"nps": ["8"]}).get_data(as_text=True)
    inline = re.search(r'<p class="field-error" id="overall-error">(.*?)</p>', html, re.S)
    assert inline and "Veuillez répondre à cette question." in inline.group(1)
    assert overall.label["fr"] not in inline.group(1)
    assert re.search(r'<fieldset[^>]*aria-describedby="[^"]*overall-error', html)
    summary = re.search(r'<a href="#overall-0">(.*?)</a>', html, re.S)
    assert summary and summary.group(1) == f"{label} : Veuillez répondre à cette question."


def test_invalid_page_keeps_what_was_entered(app, client):
    with app.app_context():
        _, link = make_link(open_campaign())
    reply = post_page(client, link, 0, {"channels_used": ["letter"], "contact_reason": ["other"]})
    html = reply.get_data(as_text=True)
    assert re.search(r'<input id="channels_used-2"[^>]*value="letter" checked', html)
    assert re.search(r'<input id="contact_reason-4"[^>]*value="other" checked', html)


def test_double_submission_keeps_one_response(app, client):
    with app.app_context():
        invitation, link = make_link(open_campaign())
        invitation_id = invitation.id
    first = post_page(client, link, 0, PAGES[0], revision=0)
    again = post_page(client, link, 0, PAGES[0], revision=0)  # double click, retry
    assert first.headers["Location"] == again.headers["Location"]
    with app.app_context():
        assert response_of(invitation_id).revision == 1

    post_page(client, link, 1, PAGES[1])
    post_page(client, link, 2, PAGES[2])
    done = post_page(client, link, 3, PAGES[3])
    replay = post_page(client, link, 3, PAGES[3])
    changed = post_page(client, link, 3, {**PAGES[3], "overall": ["5"]})  # back button, resend
    for reply in (done, replay, changed):
        assert reply.status_code == 303 and reply.headers["Location"].endswith("/thanks")
    with app.app_context():
        assert db.session.scalar(select(func.count(Response.id))) == 1
        assert response_of(invitation_id).answers == STORED  # the first complete one is kept
        assert db.session.scalar(select(func.count(FollowUp.id))) == 2
        completions = select(func.count(AuditEvent.id)).where(
            AuditEvent.action == "response.complete"
        )
        assert db.session.scalar(completions) == 1
    # Opening the link again after completion leads to the thank-you page.
    reopened = client.get(link)
    assert reopened.status_code == 303 and reopened.headers["Location"].endswith("/thanks")


def test_stale_page_from_another_tab_does_not_overwrite_later_answers(app, client):
    with app.app_context():
        invitation, link = make_link(open_campaign())
        invitation_id = invitation.id
    assert 'name="_revision" value="0"' in client.get(f"{link}/0").get_data(as_text=True)
    post_page(client, link, 0, PAGES[0], revision=0)  # first tab
    stale = post_page(client, link, 0, {"channels_used": ["chat"], "complaint": ["no"]},
                      revision=0)  # second tab, opened before
    html = stale.get_data(as_text=True)
    assert stale.status_code == 200
    assert "dans une autre fenêtre" in html
    assert re.search(r'<input id="channels_used-0"[^>]*value="phone" checked', html)
    assert 'name="_revision" value="1"' in html
    with app.app_context():
        response = response_of(invitation_id)
        assert response.revision == 1 and response.answers["channels_used"] == ["phone", "email"]
    # Sent again from the refreshed page, the change is the respondent's latest word: applied.
    post_page(client, link, 0, {"channels_used": ["chat"], "complaint": ["no"]}, revision=1)
    with app.app_context():
        assert response_of(invitation_id).answers["channels_used"] == ["chat"]


@pytest.mark.parametrize(
    ("overall", "nps", "callback", "expected"),
    [
        ("5", "9", ["no"], set()),
        ("4", "7", ["no"], set()),
        ("3", "6", ["no"], {"detractor"}),
        ("2", "10", ["no"], {"detractor"}),
        ("1", "", ["no"], {"detractor"}),
        ("5", "10", ["yes"], {"callback"}),
    ],
)
def test_follow_ups_for_callbacks_and_detractors(app, client, overall, nps, callback, expected):
    with app.app_context():
        _, link = make_link(open_campaign())
    last = {"overall": [overall], "callback": callback}
    if nps:
        last["nps"] = [nps]
    if callback == ["yes"]:
        last.update(callback_channel=["email"], callback_consent=["y"])
    answer_all(client, link, [*PAGES[:3], last])
    with app.app_context():
        found = {f.kind: f for f in db.session.scalars(select(FollowUp))}
        assert set(found) == expected
        if "callback" in found:
            assert found["callback"].preferred_channel == "email"
            assert found["callback"].status == "open"


def test_unknown_and_malformed_links_answer_404_politely(app, client):
    for path in ("/r/" + "A" * 32, "/r/short", "/r/" + "é" * 30, "/r/" + "A" * 32 + "/0"):
        reply = client.get(path)
        assert reply.status_code == 404
        assert "Ce lien ne fonctionne pas" in reply.get_data(as_text=True)


@pytest.mark.parametrize(
    ("status", "is_test", "code", "text"),
    [
        ("closed", False, 200, "est terminée"),
        ("archived", False, 200, "est terminée"),
        ("archived", True, 200, "est terminée"),
        ("draft", False, 200, "pas encore commencé"),
        ("sampled", False, 200, "pas encore commencé"),
        ("draft", True, 200, 'name="channels_used"'),
        ("closed", True, 200, 'name="channels_used"'),
    ],
)
def test_campaign_state_decides_what_a_link_shows(app, client, status, is_test, code, text):
    with app.app_context():
        invitation, link = make_link(open_campaign(status=status), is_test=is_test)
        invitation_id = invitation.id
    reply = client.get(link)
    assert reply.status_code == code and text in reply.get_data(as_text=True)
    posted = post_page(client, link, 0, PAGES[0])
    with app.app_context():
        saved = response_of(invitation_id) is not None
    assert saved == ('name="channels_used"' in text)
    if not saved:
        assert posted.status_code == 200 and text in posted.get_data(as_text=True)


def test_fieldwork_end_closes_links(app, client):
    from datetime import date

    with app.app_context():
        campaign = open_campaign()
        campaign.fieldwork_start = date(2020, 1, 1)
        campaign.fieldwork_end = date(2020, 2, 1)
        _, link = make_link(campaign)
    assert "est terminée" in client.get(link).get_data(as_text=True)


def test_bad_tokens_from_one_address_are_refused_beyond_the_limit(app, client):
    app.config["RESPOND_BAD_TOKEN_LIMIT"] = 3
    with app.app_context():
        _, link = make_link(open_campaign())
    for _ in range(3):
        assert client.get("/r/" + "B" * 32).status_code == 404
    refused = client.get("/r/" + "B" * 32)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    # Even a good link is refused from that address for a while: guessing must not pay.
    assert client.get(link).status_code == 429
    other = client.get(link, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 200


def test_language_from_invitation_switcher_and_browser(app, client):
    with app.app_context():
        campaign = open_campaign()
        _, english_link = make_link(campaign, language="en")
        _, french_link = make_link(campaign, language="fr")
    assert "How did you contact" in client.get(english_link).get_data(as_text=True)
    switched = client.get(f"{english_link}/0?lang=fr").get_data(as_text=True)
    assert "Comment avez-vous contacté" in switched and '<html lang="fr">' in switched
    # The choice is kept for the next pages of this browser.
    assert "Comment avez-vous contacté" in client.get(english_link).get_data(as_text=True)
    fresh = app.test_client()
    assert "Comment avez-vous" in fresh.get(french_link).get_data(as_text=True)


def test_browser_language_applies_when_the_invitation_has_none(app):
    from flask import g

    from survey import select_locale

    with app.test_request_context("/", headers={"Accept-Language": "en-GB,en;q=0.9"}):
        assert select_locale() == "en"
        g.invitation_language = "fr"
        assert select_locale() == "fr"


def test_respondent_pages_are_private_and_without_manager_chrome(app, client):
    with app.app_context():
        _, link = make_link(open_campaign())
    for path in (link, f"{link}/0", "/r/" + "C" * 32):
        reply = client.get(path)
        html = reply.get_data(as_text=True)
        csp = reply.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert reply.headers["Referrer-Policy"] == "no-referrer"
        assert reply.headers["X-Frame-Options"] == "DENY"
        assert reply.headers["Cache-Control"] == "no-store"
        assert "/login" not in html and "Se connecter" not in html
        assert not re.search(r"<script(?![^>]*\bsrc=)", html)  # no inline script
        assert " style=" not in html  # no style attribute
        # One inline style: the respondent's stylesheet, written into the page so that it
        # paints after one round trip (issue #15), allowed by its hash and by nothing else.
        styles = re.findall(r"<style>(.*?)</style>", html, re.S)
        assert len(styles) == 1 and html.count("<style") == 1
        digest = base64.b64encode(hashlib.sha256(styles[0].encode()).digest()).decode()
        assert styles[0] == (PROJECT_ROOT / "survey/static/respond/respond.css").read_text()
        style_src = dict(part.strip().split(" ", 1) for part in csp.split(";"))["style-src"]
        assert style_src == f"'self' 'sha256-{digest}'"
        assert "respond.css" not in html
        assert "délégué à la protection des données" in html  # privacy notice in the footer


def test_privacy_notice_is_configurable(app, client):
    app.config["PRIVACY_NOTICE_FR"] = "Traitement par ACME, contact dpo@example.org."
    with app.app_context():
        _, link = make_link(open_campaign())
    html = client.get(link).get_data(as_text=True)
    assert html.count("Traitement par ACME, contact dpo@example.org.") == 2  # page and footer
