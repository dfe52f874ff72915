"""The words of the messages: what every invitation must say, and SMS in one segment."""

from __future__ import annotations

from datetime import date

import pytest

from survey.distribution.gsm import sms_length
from survey.distribution.rendering import Outgoing, links_for, render_template
from survey.distribution.worker import RateLimiter
from survey.extensions import db
from tests.distribution.builders import sampled_campaign


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("wording", ["invitation", "reminder", "finish"])
def test_every_sms_fits_one_gsm7_segment(app, language, wording):
    app.config.update(BASE_URL="https://enquete.centre-relation-client.fr",
                      SMS_SENDER_NAME="Service Client Acme")
    with app.app_context():
        campaign = sampled_campaign(app, fieldwork_end=date(2026, 12, 24))
        message = Outgoing(1, "sms", "+33600000000",
                           render_template(campaign, "sms", wording, language),
                           links_for("0" * 32))
        length = sms_length(message.text)
        assert (length.encoding, length.segments) == ("GSM-7", 1), message.text
        assert "https://enquete.centre-relation-client.fr/r/" in message.text
        assert "STOP" in message.text


@pytest.mark.parametrize(("language", "expected"), [
    ("fr", ["environ 5 minutes", "24 décembre 2026", "Vos données", "Ne plus recevoir",
            "tirés au hasard"]),
    ("en", ["about 5 minutes", "December 24, 2026", "Your data", "Stop receiving",
            "drawn at random"]),
])
def test_email_says_who_why_how_long_until_when_data_use_and_opt_out(app, language, expected):
    with app.app_context():
        campaign = sampled_campaign(app, fieldwork_end=date(2026, 12, 24))
        name = campaign.programme.name
        template = render_template(campaign, "email", "invitation", language)
        message = Outgoing(7, "email", "someone@example.org", template, links_for("1" * 32))
        for part in (message.text, message.html):
            flowing = " ".join(part.split())
            for phrase in expected:
                assert phrase in flowing, (phrase, part)
            assert name in part
            assert "http://127.0.0.1:5000/r/" in part and "/unsubscribe/" in part
        assert name in message.subject
        assert "%%" not in message.text + message.html
        db.session.rollback()


def test_html_is_escaped(app):
    app.config["ORGANISATION_NAME"] = "<b>Acme & Co</b>"
    with app.app_context():
        campaign = sampled_campaign(app)
        template = render_template(campaign, "email", "invitation", "en")
        assert "&lt;b&gt;Acme &amp; Co&lt;/b&gt;" in template.html
        assert "<b>Acme & Co</b>" in template.text  # plain text stays plain


def test_rate_limiter_paces_batches():
    waits = []
    limiter = RateLimiter(100, sleep=waits.append)
    assert limiter.batch_limit(1000) == 100
    limiter.acquire(100)
    limiter.acquire(100)
    limiter.acquire(50)
    # The fake sleep lets no time pass: the 2nd batch may start at 1 s, the 3rd at 2 s.
    assert waits == [pytest.approx(1.0, abs=0.05), pytest.approx(2.0, abs=0.05)]
    assert RateLimiter(None).batch_limit(1000) == 1000


def test_cli_send_once_writes_the_outbox(app, runner):
    from survey.distribution.operations import launch_campaign

    with app.app_context():
        campaign = sampled_campaign(app, emails=2)
        launch_campaign(db.session, campaign, secret_key=app.config["SECRET_KEY"], actor="test")
        db.session.commit()
    result = runner.invoke(["send", "--once", "--worker-id", "cli-test"])
    assert result.exit_code == 0, result.output
    assert "sent 2," in result.output
    outbox = sorted(p.name for p in (__import__("pathlib").Path(app.instance_path) / "outbox")
                    .iterdir())
    assert len(outbox) == 2 and all(name.endswith("-email.eml") for name in outbox)
    app.config["EMAIL_BACKEND"] = "pigeon"
    with app.app_context():
        launch_campaign(db.session, sampled_campaign(app, emails=1),
                        secret_key=app.config["SECRET_KEY"], actor="test")
        db.session.commit()
    bad = runner.invoke(["send", "--once"])
    assert bad.exit_code == 2 and "BAROMETRE_EMAIL_BACKEND" in bad.output
