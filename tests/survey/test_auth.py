import pytest

from survey.auth.operations import MAX_FAILED_LOGINS, create_user
from survey.extensions import db

PASSWORD = "correct horse battery"


@pytest.fixture
def manager(app):
    with app.app_context():
        user = create_user(db.session, "manager@example.org", "manager", PASSWORD, actor="test")
        db.session.commit()
        return user.id


def login(client, email="manager@example.org", password=PASSWORD, next_url=""):
    return client.post("/login", data={"email": email, "password": password, "next": next_url})


def test_the_login_page_renders_with_labels(client) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    assert '<label for="email">' in page.text and '<label for="password">' in page.text


def test_login_and_logout(client, manager) -> None:
    response = login(client)
    assert response.status_code == 302
    home = client.get("/")
    assert "manager@example.org" in home.text
    assert client.post("/logout").status_code == 302
    assert "manager@example.org" not in client.get("/").text


def test_a_wrong_password_is_refused_without_saying_which_part(client, manager) -> None:
    wrong = login(client, password="not the password")
    unknown = login(client, email="nobody@example.org")
    assert wrong.status_code == unknown.status_code == 200
    assert "Unknown email address or wrong password" in wrong.text or \
        "Adresse e-mail inconnue" in wrong.text
    assert wrong.text.count("flash-error") == unknown.text.count("flash-error") == 1


def test_repeated_failures_lock_the_account_for_a_while(client, manager) -> None:
    for _ in range(MAX_FAILED_LOGINS):
        login(client, password="wrong password!")
    assert login(client).status_code == 200  # locked: even the right password fails


def test_deactivated_users_cannot_log_in(app, client, manager) -> None:
    from survey.models import User

    with app.app_context():
        db.session.get(User, manager).active = False
        db.session.commit()
    assert login(client).status_code == 200


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:x"])
def test_login_never_redirects_off_site(client, manager, target) -> None:
    response = login(client, next_url=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_login_follows_a_local_next(client, manager) -> None:
    assert login(client, next_url="/?x=1").headers["Location"] == "/?x=1"


def test_session_cookie_is_httponly_and_lax(client, manager) -> None:
    response = login(client)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
