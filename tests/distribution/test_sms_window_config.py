"""The SMS sending window from the environment: BAROMETRE_SMS_HOURS, _DAYS and _HOLIDAYS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from survey.config import ConfigurationError, config_from_environment, sms_window_from_environment
from survey.distribution.operations import launch_campaign
from survey.distribution.sms_window import (
    DEFAULT_SMS_WINDOW,
    SmsWindow,
    SmsWindowError,
    parse_days,
    parse_holidays,
    parse_hours,
)
from survey.distribution.worker import Sender, SenderSettings
from survey.extensions import db
from tests.distribution.builders import messages_of, sampled_campaign

PARIS = "Europe/Paris"


def test_unset_or_blank_variables_keep_the_french_rule():
    assert sms_window_from_environment({}) == DEFAULT_SMS_WINDOW
    blank = {"BAROMETRE_SMS_HOURS": " ", "BAROMETRE_SMS_DAYS": "", "BAROMETRE_SMS_HOLIDAYS": ""}
    assert sms_window_from_environment(blank) == DEFAULT_SMS_WINDOW
    assert DEFAULT_SMS_WINDOW.describe() == \
        "09:00-20:00 mon,tue,wed,thu,fri,sat, not FR holidays"


def test_the_configuration_carries_the_window(tmp_path):
    config = config_from_environment({"BAROMETRE_INSTANCE_PATH": str(tmp_path),
                                      "BAROMETRE_SMS_HOURS": "10:30-18:00",
                                      "BAROMETRE_SMS_DAYS": "mon-fri",
                                      "BAROMETRE_SMS_HOLIDAYS": "be"})
    assert config["SMS_WINDOW"] == SmsWindow(opens=10 * 60 + 30, closes=18 * 60,
                                             days=frozenset(range(5)), holiday_country="BE")


@pytest.mark.parametrize(("text", "expected"), [
    ("09:00-20:00", (540, 1200)),
    (" 8:15 - 12:45 ", (495, 765)),
    ("00:00-24:00", (0, 1440)),
])
def test_hours(text, expected):
    assert parse_hours(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("mon-fri", {0, 1, 2, 3, 4}),
    ("mon-sat", {0, 1, 2, 3, 4, 5}),
    ("MON,Wed, fri", {0, 2, 4}),
    ("mon-fri,sun", {0, 1, 2, 3, 4, 6}),
    ("fri-mon", {4, 5, 6, 0}),  # a range may wrap over the week's end
    ("mon-sun", set(range(7))),
    ("sun", {6}),
])
def test_days(text, expected):
    assert parse_days(text) == frozenset(expected)


@pytest.mark.parametrize(("text", "expected"), [
    ("FR", ("FR", None)),
    ("fr", ("FR", None)),
    ("FR-57", ("FR", "57")),  # Alsace-Moselle: Good Friday and 26 December
    ("de-by", ("DE", "BY")),
    ("none", (None, None)),
    ("None", (None, None)),
])
def test_holidays(text, expected):
    assert parse_holidays(text) == expected


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("BAROMETRE_SMS_HOURS", "9h-20h", "is not HH:MM-HH:MM"),
    ("BAROMETRE_SMS_HOURS", "09:00", "is not HH:MM-HH:MM"),
    ("BAROMETRE_SMS_HOURS", "20:00-09:00", "must close after it opens"),
    ("BAROMETRE_SMS_HOURS", "09:00-09:00", "must close after it opens"),
    ("BAROMETRE_SMS_HOURS", "09:75-20:00", "09:75 is not a time of day"),
    ("BAROMETRE_SMS_HOURS", "09:00-25:00", "25:00 is not a time of day"),
    ("BAROMETRE_SMS_HOURS", "24:00-24:00", "cannot open at 24:00"),
    ("BAROMETRE_SMS_DAYS", "monday-friday", "'monday' is not a day"),
    ("BAROMETRE_SMS_DAYS", "mon-", "'' is not a day"),
    ("BAROMETRE_SMS_DAYS", "mon,,fri", "has an empty item"),
    ("BAROMETRE_SMS_HOLIDAYS", "XX", "no public holidays are known for country 'XX'"),
    ("BAROMETRE_SMS_HOLIDAYS", "France", "country 'FRANCE'"),
    ("BAROMETRE_SMS_HOLIDAYS", "FR-99", "FR has no subdivision '99'"),
])
def test_bad_values_name_the_variable_and_the_fault(variable, value, message):
    with pytest.raises(ConfigurationError, match=f"^{variable} is wrong: ") as caught:
        sms_window_from_environment({variable: value})
    assert message in str(caught.value)
    assert repr(value) in str(caught.value)


def test_parsers_raise_their_own_error():
    with pytest.raises(SmsWindowError):
        parse_hours("whenever")


def test_the_application_refuses_to_start_and_the_cli_exits_1(tmp_path, monkeypatch):
    from survey import create_app
    from survey.cli import main

    monkeypatch.setenv("BAROMETRE_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("BAROMETRE_SMS_DAYS", "weekdays")
    with pytest.raises(ConfigurationError, match="BAROMETRE_SMS_DAYS"):
        create_app()
    result = CliRunner().invoke(main, ["audit", "verify"])
    assert result.exit_code == 1
    assert "BAROMETRE_SMS_DAYS is wrong: 'weekdays'" in result.output


# Weekdays from Monday 2 March 2026 (Paris is UTC+1 until 29 March).
MONDAY_NOON = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)


@pytest.mark.parametrize(("window", "moment", "inside"), [
    (SmsWindow(days=frozenset(range(5))), datetime(2026, 3, 7, 12, 0, tzinfo=UTC), False),
    (SmsWindow(days=frozenset(range(7)), holiday_country=None),
     datetime(2026, 3, 8, 12, 0, tzinfo=UTC), True),  # Sunday, allowed
    (SmsWindow(opens=0, closes=24 * 60, days=frozenset(range(7)), holiday_country=None),
     datetime(2026, 12, 25, 2, 59, 59, tzinfo=UTC), True),  # Christmas night, allowed
    (SmsWindow(opens=0, closes=24 * 60), datetime(2026, 12, 25, 12, 0, tzinfo=UTC), False),
    (SmsWindow(opens=10 * 60 + 30, closes=18 * 60), MONDAY_NOON.replace(hour=9, minute=29),
     False),  # 10:29 Paris
    (SmsWindow(opens=10 * 60 + 30, closes=18 * 60), MONDAY_NOON.replace(hour=9, minute=30),
     True),
    (SmsWindow(opens=10 * 60 + 30, closes=18 * 60), MONDAY_NOON.replace(hour=17), False),
    # Alsace-Moselle keeps Good Friday (3 April 2026); the rest of France works.
    (SmsWindow(holiday_country="FR", holiday_subdivision="57"),
     datetime(2026, 4, 3, 10, 0, tzinfo=UTC), False),
    (DEFAULT_SMS_WINDOW, datetime(2026, 4, 3, 10, 0, tzinfo=UTC), True),
])
def test_a_configured_window(window, moment, inside):
    assert window.contains(moment, PARIS) is inside


def test_next_opening_of_a_configured_window():
    weekdays = SmsWindow(opens=10 * 60 + 30, closes=18 * 60, days=frozenset(range(5)))
    friday_evening = datetime(2026, 3, 6, 18, 0, tzinfo=UTC)
    assert weekdays.next_opening(friday_evening, PARIS) == \
        datetime(2026, 3, 9, 9, 30, tzinfo=UTC)  # Monday 10:30 Paris
    early_monday = datetime(2026, 3, 9, 6, 0, tzinfo=UTC)
    assert weekdays.next_opening(early_monday, PARIS) == \
        datetime(2026, 3, 9, 9, 30, tzinfo=UTC)
    whole_week = SmsWindow(opens=0, closes=24 * 60, days=frozenset(range(7)),
                           holiday_country=None)
    assert whole_week.next_opening(friday_evening, PARIS) == friday_evening


def _sender(app, moment):
    return Sender(app, worker_id="window-test", clock=lambda: moment,
                  settings=SenderSettings(idle_sleep=0.0, backoff_base=60.0))


def test_an_sms_outside_the_configured_window_waits_and_one_inside_is_sent(app, fake_twilio):
    # Tuesday to Thursday, 10:00 to 12:00 Paris, no holidays excluded.
    app.config["SMS_WINDOW"] = SmsWindow(opens=10 * 60, closes=12 * 60,
                                         days=frozenset({1, 2, 3}), holiday_country=None)
    monday_ten = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # inside the French default, not here
    with app.app_context():
        campaign = sampled_campaign(app, phones=1)
        launch_campaign(db.session, campaign, secret_key=app.config["SECRET_KEY"],
                        actor="test", now=monday_ten, window=app.config["SMS_WINDOW"])
        db.session.commit()
        tuesday_ten = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
        assert messages_of(campaign)[0].due_at == tuesday_ten
        # Even a message already due waits while the window is shut.
        messages_of(campaign)[0].due_at = monday_ten
        db.session.commit()
        assert _sender(app, monday_ten).run(once=True).sent == 0
        tuesday_noon = tuesday_ten + timedelta(hours=2)
        assert _sender(app, tuesday_noon).run(once=True).sent == 0
        assert fake_twilio.requests == []
        assert _sender(app, tuesday_ten + timedelta(minutes=30)).run(once=True).sent == 1
        assert messages_of(campaign)[0].state == "sent"
        assert len(fake_twilio.requests) == 1


def test_a_whole_day_window_sends_on_a_sunday_night(app, fake_twilio):
    app.config["SMS_WINDOW"] = SmsWindow(opens=0, closes=24 * 60, days=frozenset(range(7)),
                                         holiday_country=None)
    sunday_night = datetime(2026, 3, 8, 22, 30, tzinfo=UTC)  # 23:30 Paris
    with app.app_context():
        campaign = sampled_campaign(app, phones=2)
        launch_campaign(db.session, campaign, secret_key=app.config["SECRET_KEY"],
                        actor="test", now=sunday_night, window=app.config["SMS_WINDOW"])
        db.session.commit()
        assert [m.due_at for m in messages_of(campaign)] == [sunday_night] * 2
        assert _sender(app, sunday_night).run(once=True).sent == 2
