"""Revocable staff sessions, password change and reset (issue #23)."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from survey.auth.operations import set_active
from survey.extensions import db
from survey.models import AuditEvent, PasswordReset, User, UserSession, utcnow
from tests.trust.helpers import PASSWORD, logged_in, login, make_user

NEW_PASSWORD = "another long password"


@pytest.fixture
def people(app):
    return {
        "admin": make_user(app, "admin@example.org", "admin"),
        "manager": make_user(app, "manager@example.org", "manager"),
    }


def _copy(app, client):
    """Another browser holding the same session cookie (a cookie captured in transit)."""
    thief = app.test_client()
    cookie = client.get_cookie("session")
    thief.set_cookie("session", cookie.value)
    return thief


def _csrf(client, path: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(path).text)
    return found.group(1) if found else ""  # the tests' configuration may turn CSRF off


def test_a_cookie_captured_before_logout_is_refused_after_it(app, people) -> None:
    client = logged_in(app, "manager@example.org")
    thief = _copy(app, client)
    assert thief.get("/manage/customers").status_code == 200
    token = _csrf(client, "/manage/customers")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    response = thief.get("/manage/customers")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    with app.app_context():
        ended = db.session.scalars(select(UserSession.end_reason)).all()
    assert ended == ["logout"]


def test_the_lifetime_counts_from_login_however_active(app, people) -> None:
    client = logged_in(app, "manager@example.org")
    assert client.get("/manage/customers").status_code == 200
    with app.app_context():
        db.session.execute(update(UserSession).values(
            created_at=utcnow() - timedelta(hours=8, minutes=1)))
        db.session.commit()
    response = client.get("/manage/customers")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_deactivation_ends_every_session(app, people) -> None:
    client = logged_in(app, "manager@example.org")
    with app.app_context():
        set_active(db.session, db.session.get(User, people["manager"]), False, actor="test")
        set_active(db.session, db.session.get(User, people["manager"]), True, actor="test")
        db.session.commit()
    # Reactivated at once: the old session stays ended all the same.
    assert client.get("/manage/customers").status_code == 302


def test_a_password_change_ends_the_other_sessions_and_is_audited(app, people) -> None:
    here = logged_in(app, "manager@example.org")
    elsewhere = logged_in(app, "manager@example.org")
    page = here.get("/account/password")
    assert page.status_code == 200 and 'autocomplete="new-password"' in page.text
    token = _csrf(here, "/account/password")
    wrong = here.post("/account/password", data={
        "csrf_token": token, "current_password": "not my password",
        "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert wrong.status_code == 400
    done = here.post("/account/password", data={
        "csrf_token": token, "current_password": PASSWORD,
        "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302
    assert here.get("/manage/customers").status_code == 200
    assert elsewhere.get("/manage/customers").status_code == 302
    assert login(app.test_client(), "manager@example.org").status_code == 200  # old refused
    assert login(app.test_client(), "manager@example.org", NEW_PASSWORD).status_code == 302
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "user.password_change")).one()
    assert event.summary == {"sessions_ended": 1}
    assert PASSWORD not in str(event.summary) and NEW_PASSWORD not in str(event.summary)


def test_an_admin_sends_a_one_time_expiring_reset_link(app, people) -> None:
    admin = logged_in(app, "admin@example.org")
    victim_session = logged_in(app, "manager@example.org")
    token = _csrf(admin, "/admin/users")
    sent = admin.post(f"/admin/users/{people['manager']}/reset", data={"csrf_token": token})
    assert sent.status_code == 302
    outbox = Path(app.config["INSTANCE_PATH"]) / "outbox"
    (mail,) = outbox.glob("password-reset-*.eml")
    assert mail.stat().st_mode & 0o077 == 0
    message = email.message_from_bytes(mail.read_bytes(), policy=email.policy.default)
    assert message["To"] == "manager@example.org"
    link = re.search(r"http://\S+/reset/(\S+)", message.get_body().get_content())
    path = f"/reset/{link.group(1)}"
    visitor = app.test_client()
    page = visitor.get(path)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    form = {"csrf_token": _csrf(visitor, path), "new_password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD}
    assert visitor.post(path, data=form).status_code == 302
    assert visitor.get(path).status_code == 404  # once only
    assert victim_session.get("/manage/customers").status_code == 302  # sessions ended
    assert login(app.test_client(), "manager@example.org", NEW_PASSWORD).status_code == 302
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.action.like("user.password%")).order_by(AuditEvent.id)).all()
        assert actions == ["user.password_reset_request", "user.password_reset"]
        # An expired link does not work either.
        db.session.execute(update(PasswordReset).values(used_at=None,
                                                        expires_at=utcnow() - timedelta(1)))
        db.session.commit()
    assert app.test_client().get(path).status_code == 404
