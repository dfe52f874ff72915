"""The design system's foundations: locale-aware numbers and dates, a label for every internal
code, a French translation for every sentence a page can show, readable branding colours, the
managers' navigation and dashboard."""

from __future__ import annotations

import enum
from datetime import date, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from survey import PROJECT_ROOT
from survey.auth.operations import create_user
from survey.branding import DEFAULT_PRIMARY, Branding, contrast_ratio
from survey.campaigns.operations import create_campaign
from survey.extensions import db
from survey.formatting import format_date, format_datetime, interval, number, percent
from survey.labels import ENUMS, LABELS, label, labels_for
from survey.models import CampaignStatus, Channel, Disposition

FRENCH = PROJECT_ROOT / "survey" / "translations" / "fr" / "LC_MESSAGES" / "messages.po"
NBSP = "\u00a0"
NNBSP = "\u202f"


def french_catalogue():
    with FRENCH.open("rb") as handle:
        return read_po(handle)


# --- numbers and dates ------------------------------------------------------------------------


def test_numbers_follow_the_locale() -> None:
    assert number(5971, locale="fr").replace(NNBSP, " ").replace(NBSP, " ") == "5 971"
    assert number(5971, locale="en") == "5,971"
    assert number(3.14159, 2, locale="fr") == "3,14"
    assert number(None) == "–"


def test_percentages_follow_the_locale() -> None:
    assert percent(0.8, locale="fr") == f"80,0{NBSP}%"
    assert percent(0.8, locale="en") == "80.0%"
    assert percent(0.123, 0, locale="fr") == f"12{NBSP}%"


def test_intervals_follow_the_locale() -> None:
    assert interval(0.77, 0.85, as_percent=True, locale="fr") == f"[77,0{NBSP}% ; 85,0{NBSP}%]"
    assert interval((1.26, 3.5), locale="en") == "[1.3, 3.5]"
    assert interval(None, 2) == "–"


def test_dates_follow_the_locale_and_the_centre_time_zone(app) -> None:
    assert format_date(date(2026, 3, 1), locale="fr") == "1 mars 2026"
    assert format_date("2026-03-01", locale="en") == "Mar 1, 2026"
    with app.app_context():
        # 23:30 UTC on 31 March is already 1 April in Paris (summer time).
        assert format_datetime(datetime(2026, 3, 31, 23, 30), locale="fr").startswith("1 avr. 2026")


# --- labels -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ENUMS, ids=lambda kind: kind.__name__)
def test_every_value_of_every_enum_has_a_label_translated_in_french(kind: type[enum.Enum]) -> None:
    catalogue = french_catalogue()
    for member in kind:
        text = LABELS[kind.__name__].get(member)
        assert text is not None, f"{kind.__name__}.{member.name} has no label"
        english = str(text)
        assert english != member.value or " " in english or english[0].isupper(), english
        assert "_" not in english, f"{kind.__name__}.{member.name}: label {english!r} is a code"
        message = catalogue.get(english)
        assert message is not None and message.string, f"no French for {english!r}"


def test_labels_are_translated_on_french_pages(app) -> None:
    with app.test_request_context("/?lang=fr"):
        assert label(CampaignStatus.OPEN) == "Terrain ouvert"
        assert label("opted_out", "Disposition") == "Désinscrit"
        assert labels_for(["email", "sms"], "Channel") == "E-mail, SMS"
        assert label("unknown-code") == "unknown-code"
    with app.test_request_context("/?lang=en"):
        assert label(Disposition.OPTED_OUT) == "Opted out"
        assert label(Channel.EMAIL) == "Email"


def _messages_of_the_pages() -> dict[str, set[str]]:
    """Every translatable sentence of the application's code and templates: msgid → files."""
    method_by_suffix = {".py": "python", ".html": "jinja2"}
    keywords = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None,
                "ngettext": (1, 2), "lazy_ngettext": (1, 2)}
    found: dict[str, set[str]] = {}
    for folder in (PROJECT_ROOT / "survey", PROJECT_ROOT / "templates"):
        for path in sorted(folder.rglob("*")):
            method = method_by_suffix.get(path.suffix)
            if method is None or "translations" in path.parts:
                continue
            for _line, message, _comments, _context in extract_from_file(
                method, str(path), keywords=keywords
            ):
                # A plural message is filed under its singular.
                text = message[0] if isinstance(message, tuple) else message
                if text:
                    found.setdefault(text, set()).add(str(Path(path).relative_to(PROJECT_ROOT)))
    return found


def test_every_sentence_of_the_pages_has_a_french_translation() -> None:
    catalogue = french_catalogue()
    missing = {
        text: sorted(files) for text, files in _messages_of_the_pages().items()
        if catalogue.get(text) is None or not catalogue.get(text).string
    }
    assert not missing, "sentences without French translation:\n" + "\n".join(
        f"  {text!r} in {', '.join(files)}" for text, files in sorted(missing.items())
    )



def test_the_french_catalogue_defines_each_sentence_once() -> None:
    # Babel keeps the last of two definitions without a word, so a duplicate's two translations
    # can drift apart unseen (and GNU msgfmt refuses the file).
    seen: dict[tuple[str | None, str], int] = {}
    duplicates = []
    context = None
    for line_number, line in enumerate(FRENCH.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith("msgctxt "):
            context = line
        elif line.startswith('msgid "') and line != 'msgid ""':
            key = (context, line)
            if key in seen:
                duplicates.append(f"line {line_number}: {line} (first on line {seen[key]})")
            seen.setdefault(key, line_number)
            context = None
    assert not duplicates, "defined twice in messages.po:\n" + "\n".join(duplicates)

# --- branding ---------------------------------------------------------------------------------


def test_contrast_ratio_is_wcag_s() -> None:
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21)
    assert contrast_ratio(DEFAULT_PRIMARY, "#fff") >= 4.5


def test_a_primary_colour_too_light_for_white_text_falls_back_to_the_default() -> None:
    assert Branding(name="ACME", primary="#ffd700").checked().primary == DEFAULT_PRIMARY
    assert Branding(name="ACME", primary="not a colour").checked().primary == DEFAULT_PRIMARY
    assert Branding(name="ACME", primary="#7a1f5c").checked().primary == "#7a1f5c"


# --- navigation and dashboard -----------------------------------------------------------------

PASSWORD = "a long enough password"


def log_in(app, client, role: str) -> None:
    with app.app_context():
        create_user(db.session, f"{role}@example.org", role, PASSWORD, actor="test")
        db.session.commit()
    client.post("/login", data={"email": f"{role}@example.org", "password": PASSWORD})


def test_every_manager_page_has_the_navigation_with_the_current_place(app, client) -> None:
    log_in(app, client, "admin")
    home = client.get("/?lang=en").text
    assert 'aria-label="Main menu"' in home
    assert '<a href="/" aria-current="page">Dashboard</a>' in home
    campaigns = client.get("/manage/campaigns?lang=en").text
    assert 'aria-current="page">Campaigns</a>' in campaigns
    assert ">Users</a>" in campaigns  # an administrator's place


def test_an_auditor_sees_only_the_places_an_auditor_may_go(app, client) -> None:
    log_in(app, client, "auditor")
    page = client.get("/?lang=en").text
    assert ">Audit trail</a>" in page
    assert ">Users</a>" not in page and ">Customer base</a>" not in page


def test_respondent_pages_have_no_navigation(app, client) -> None:
    page = client.get("/unsubscribe/not-a-token?lang=en")
    assert 'aria-label="Main menu"' not in page.text


def test_the_dashboard_shows_a_card_per_campaign_with_its_state_and_next_step(app, client) -> None:
    log_in(app, client, "manager")
    with app.app_context():
        create_campaign(db.session, "barometre-2026", programme="Baromètre", year=2026,
                        questionnaire_key="nf-relation-client", actor="test")
        db.session.commit()
    page = client.get("/?lang=fr").text
    assert "Baromètre 2026" in page
    assert "Brouillon" in page  # the state's label, not `draft`
    assert "Étape suivante" in page and "Plan de sondage" in page
    assert ">draft<" not in page


def test_an_empty_dashboard_says_what_to_do(app, client) -> None:
    log_in(app, client, "manager")
    page = client.get("/?lang=en").text
    assert "No campaign yet." in page and "Create the first campaign" in page


def test_the_campaign_page_is_a_stepper_with_the_current_step_marked(app, client) -> None:
    log_in(app, client, "manager")
    with app.app_context():
        create_campaign(db.session, "barometre-2026", programme="Baromètre", year=2026,
                        questionnaire_key="nf-relation-client", channels=["email", "sms"],
                        actor="test")
        db.session.commit()
    page = client.get("/manage/campaigns/barometre-2026?lang=en").text
    assert 'class="step step-current" aria-current="step"' in page
    assert "Plan the sample" in page and "Email, SMS" in page
    assert "['email'" not in page
