"""Fixtures: the fake providers, listening on 127.0.0.1 for one test each."""

from __future__ import annotations

import pytest

from tests.distribution.fakes import FakeSendGrid, FakeTwilio, SmtpSink


@pytest.fixture
def fake_sendgrid(app):
    with FakeSendGrid() as server:
        app.config.update(EMAIL_BACKEND="sendgrid", SENDGRID_API_KEY="SG.test-key",
                          SENDGRID_HOST=server.url, SEND_TIMEOUT=1)
        yield server


@pytest.fixture
def fake_twilio(app):
    with FakeTwilio() as server:
        app.config.update(SMS_BACKEND="twilio", TWILIO_ACCOUNT_SID="AC" + "0" * 32,
                          TWILIO_AUTH_TOKEN="twilio-auth-token", TWILIO_FROM="+33700000000",
                          TWILIO_BASE_URL=server.url, SEND_TIMEOUT=1)
        yield server


@pytest.fixture
def smtp_sink(app):
    with SmtpSink() as sink:
        app.config.update(EMAIL_BACKEND="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=sink.port,
                          MAIL_FROM="enquete@centre.example")
        yield sink
