"""Accounts: throttled logins, expiring sessions, and the administration of users (web, CLI)."""

from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import select

from survey.auth.operations import AccountError, find_user, set_active, set_role
from survey.extensions import db
from survey.models import AuditEvent, User
from tests.trust.helpers import PASSWORD, logged_in, login, make_user


@pytest.fixture
def people(app):
    return {
        "admin": make_user(app, "admin@example.org", "admin"),
        "manager": make_user(app, "manager@example.org", "manager"),
        "auditor": make_user(app, "auditor@example.org", "auditor"),
    }


def _actions(app) -> list[str]:
    """The account changes recorded, in order (logins left out)."""
    with app.app_context():
        return list(db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.action.not_in(["user.login"]))
            .order_by(AuditEvent.id)))


# --- logins -----------------------------------------------------------------------------------


def test_failures_from_one_address_across_accounts_are_throttled(app, client, people) -> None:
    app.config.update(LOGIN_ADDRESS_LIMIT=3, LOGIN_ADDRESS_WINDOW=600)
    # Three different accounts, one wrong password each: no account reaches its own lockout.
    for email in ("admin@example.org", "manager@example.org", "nobody@example.org"):
        assert login(client, email, "wrong password!!").status_code == 200
    refused = login(client, "auditor@example.org")  # even the right password now waits
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 600
    assert "_user_id" not in (refused.headers.get("Set-Cookie") or "")
    # Another address is not affected.
    other = app.test_client()
    assert other.post("/login", data={"email": "auditor@example.org", "password": PASSWORD},
                      environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 302


def test_successful_logins_do_not_count_against_the_address(app, client, people) -> None:
    app.config.update(LOGIN_ADDRESS_LIMIT=2)
    for _ in range(4):
        assert login(client, "manager@example.org").status_code == 302


def test_the_login_makes_a_permanent_session_that_expires(app, client, people) -> None:
    response = login(client, "manager@example.org")
    cookie = response.headers["Set-Cookie"]
    assert "Expires=" in cookie  # a permanent session: the browser drops it after 8 h
    assert app.permanent_session_lifetime.total_seconds() == 8 * 3600
    with client.session_transaction() as session:
        assert session.permanent


def test_an_idle_session_is_logged_out(app, client, people) -> None:
    login(client, "manager@example.org")
    assert client.get("/manage/campaigns").status_code == 200
    with client.session_transaction() as session:
        session["seen_at"] = int(time.time()) - app.config["SESSION_IDLE_TIMEOUT"] - 5
    response = client.get("/manage/campaigns")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/manage/campaigns").status_code == 302  # and stays logged out


def test_an_active_session_is_kept(app, client, people) -> None:
    login(client, "manager@example.org")
    with client.session_transaction() as session:
        session["seen_at"] = int(time.time()) - app.config["SESSION_IDLE_TIMEOUT"] + 120
    assert client.get("/manage/campaigns").status_code == 200
    with client.session_transaction() as session:
        assert session["seen_at"] >= int(time.time()) - 5  # the request counted as activity


@pytest.mark.parametrize("target", ["/\\evil.example", "/\\/evil.example", "/\t/evil.example",
                                    "https:evil.example", "///evil.example"])
def test_login_never_redirects_off_site_with_browser_quirks(client, people, target) -> None:
    response = login(client, "manager@example.org", next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


# --- deactivation and role changes take effect at once ----------------------------------------


def test_a_deactivated_users_open_session_stops_at_once(app, people) -> None:
    client = logged_in(app, "manager@example.org")
    assert client.get("/manage/customers").status_code == 200
    with app.app_context():
        set_active(db.session, db.session.get(User, people["manager"]), False, actor="test")
        db.session.commit()
    response = client.get("/manage/customers")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_role_change_applies_to_the_open_session(app, people) -> None:
    client = logged_in(app, "manager@example.org")
    assert client.get("/manage/customers").status_code == 200
    with app.app_context():
        set_role(db.session, db.session.get(User, people["manager"]), "auditor", actor="test")
        db.session.commit()
    assert client.get("/manage/customers").status_code == 403


def test_the_last_active_admin_can_be_neither_demoted_nor_deactivated(app, people) -> None:
    with app.app_context():
        admin = db.session.get(User, people["admin"])
        with pytest.raises(AccountError, match="last active admin"):
            set_role(db.session, admin, "manager", actor="test")
        with pytest.raises(AccountError, match="last active admin"):
            set_active(db.session, admin, False, actor="test")
        second = db.session.get(User, people["manager"])
        assert set_role(db.session, second, "admin", actor="test")
        assert set_active(db.session, admin, False, actor="test")
        db.session.commit()
        assert not set_active(db.session, admin, False, actor="test")  # already: no event
        assert db.session.get(User, people["admin"]).active is False


# --- the administration pages -----------------------------------------------------------------


def test_an_admin_creates_a_user_whose_password_is_shown_once(app, people) -> None:
    client = logged_in(app, "admin@example.org")
    page = client.post("/admin/users", data={"email": "New.Person@Example.org",
                                             "role": "manager"})
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    password = re.search(r"<code>([^<]+)</code>", page.text).group(1)
    assert len(password) >= 12
    assert password not in client.get("/admin/users").text  # once
    assert logged_in(app, "new.person@example.org", password).get("/manage/customers") \
        .status_code == 200
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.create")
                                   .order_by(AuditEvent.id.desc())).first()
        assert event.summary == {"role": "manager"}
        assert "person" not in str(event.summary).lower()


def test_creating_a_duplicate_or_invalid_account_says_why(app, people) -> None:
    client = logged_in(app, "admin@example.org")
    duplicate = client.post("/admin/users", data={"email": "manager@example.org",
                                                  "role": "auditor"})
    assert duplicate.status_code == 400 and "already exists" in duplicate.text
    bad_role = client.post("/admin/users", data={"email": "x@example.org", "role": "root"})
    assert bad_role.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "x@example.org")) is None


def test_an_admin_changes_a_role_and_deactivates_then_reactivates(app, people) -> None:
    client = logged_in(app, "admin@example.org")
    user_id = people["auditor"]
    response = client.post(f"/admin/users/{user_id}/role", data={f"u{user_id}-role": "manager"})
    assert response.status_code == 302
    assert client.post(f"/admin/users/{user_id}/active", data={"active": "0"}).status_code == 302
    with app.app_context():
        user = db.session.get(User, user_id)
        assert (user.role, user.active) == ("manager", False)
    assert login(app.test_client(), "auditor@example.org").status_code == 200  # refused
    client.post(f"/admin/users/{user_id}/active", data={"active": "1"})
    assert login(app.test_client(), "auditor@example.org").status_code == 302
    actions = _actions(app)
    assert actions[-3:] == ["user.role_change", "user.deactivate", "user.reactivate"]
    with app.app_context():
        change = db.session.scalars(select(AuditEvent)
                                    .where(AuditEvent.action == "user.role_change")).one()
        assert change.summary == {"from": "auditor", "to": "manager"}
        assert change.actor == f"user:{people['admin']}"
        assert change.object_id == str(user_id)


def test_the_admin_pages_refuse_other_roles(app, people) -> None:
    for email in ("manager@example.org", "auditor@example.org"):
        client = logged_in(app, email)
        assert client.get("/admin/users").status_code == 403
        assert client.post(f"/admin/users/{people['admin']}/active",
                           data={"active": "0"}).status_code == 403
        assert client.post("/admin/users", data={"email": "x@example.org",
                                                  "role": "admin"}).status_code == 403
    with app.app_context():
        assert db.session.get(User, people["admin"]).active


def test_an_admin_cannot_lock_everyone_out(app, people) -> None:
    client = logged_in(app, "admin@example.org")
    response = client.post(f"/admin/users/{people['admin']}/active", data={"active": "0"},
                           follow_redirects=True)
    assert "last active admin" in response.text
    with app.app_context():
        assert db.session.get(User, people["admin"]).active


def test_unknown_users_and_bad_forms(app, people) -> None:
    client = logged_in(app, "admin@example.org")
    assert client.post("/admin/users/99999/active", data={"active": "0"}).status_code == 404
    assert client.post(f"/admin/users/{people['auditor']}/active",
                       data={"active": "maybe"}).status_code == 400


# --- the command line -------------------------------------------------------------------------


def test_users_cli_lists_changes_roles_and_deactivates(app, runner, people) -> None:
    listing = runner.invoke(["users", "list"])
    assert listing.exit_code == 0
    assert "auditor@example.org\tauditor\tactive\tlast login never" in listing.output
    result = runner.invoke(["users", "set-role", "Auditor@Example.org", "manager"])
    assert result.exit_code == 0, result.output
    assert "auditor@example.org is now manager" in result.output
    assert "is already manager" in runner.invoke(
        ["users", "set-role", "auditor@example.org", "manager"]).output
    assert runner.invoke(["users", "deactivate", "auditor@example.org"]).exit_code == 0
    assert "deactivated" in runner.invoke(["users", "list"]).output
    assert runner.invoke(["users", "reactivate", "auditor@example.org"]).exit_code == 0
    assert _actions(app)[-3:] == ["user.role_change", "user.deactivate", "user.reactivate"]
    with app.app_context():
        user = find_user(db.session, "auditor@example.org")
        assert (user.role, user.active) == ("manager", True)


@pytest.mark.parametrize("args, message", [
    (["users", "set-role", "nobody@example.org", "manager"], "no account for"),
    (["users", "deactivate", "not an email"], "not a valid email"),
    (["users", "deactivate", "admin@example.org"], "last active admin"),
    (["users", "set-role", "admin@example.org", "auditor"], "last active admin"),
])
def test_users_cli_refuses_bad_input_with_status_2(runner, people, args, message) -> None:
    result = runner.invoke(args)
    assert result.exit_code == 2
    assert message in result.output


def test_users_cli_rejects_an_unknown_role(runner, people) -> None:
    assert runner.invoke(["users", "set-role", "auditor@example.org", "root"]).exit_code == 2


# --- a client's viewer ------------------------------------------------------------------------


def test_users_create_makes_a_client_viewer_who_reads_figures_only(app, runner) -> None:
    result = runner.invoke(["users", "create", "Quality@Client.example", "--role",
                            "client_viewer"])
    assert result.exit_code == 0, result.output
    assert "created client_viewer quality@client.example" in result.output
    password = result.output.split("password (shown once): ")[1].strip()
    client = logged_in(app, "quality@client.example", password)
    assert client.get("/manage/follow-ups/figures").status_code == 200
    assert client.get("/manage/customers").status_code == 403
    assert client.get("/audit").status_code == 403
    unknown = runner.invoke(["users", "create", "x@client.example", "--role", "viewer"])
    assert unknown.exit_code == 2 and "client_viewer" in unknown.output


def test_an_admin_gives_and_takes_the_client_viewer_role_in_both_languages(app, people) -> None:
    client = logged_in(app, "admin@example.org")
    for lang, word in (("en", "Client viewer"), ("fr", "Lecteur client")):
        page = client.get(f"/admin/users?lang={lang}").text
        assert f'<option value="client_viewer">{word}</option>' in page, lang
    created = client.post("/admin/users?lang=fr", data={"email": "viewer@client.example",
                                                        "role": "client_viewer"})
    assert created.status_code == 200 and "(Lecteur client)" in created.text
    password = re.search(r"<code>([^<]+)</code>", created.text).group(1)
    viewer = logged_in(app, "viewer@client.example", password)
    assert viewer.get("/manage/campaigns").status_code == 200
    user_id = people["auditor"]
    changed = client.post(f"/admin/users/{user_id}/role?lang=fr",
                          data={f"u{user_id}-role": "client_viewer"}, follow_redirects=True)
    # The role's label, never its code.
    assert "auditor@example.org a désormais le rôle Lecteur client." in changed.text
    auditor = logged_in(app, "auditor@example.org")
    assert auditor.get("/audit").status_code == 403  # the trail is the centre's
    with app.app_context():
        assert find_user(db.session, "auditor@example.org").role == "client_viewer"
