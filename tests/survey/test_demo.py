import re

from survey.demo import DEMO_ADMIN, seed_demo
from survey.extensions import db
from survey.models import Campaign, Programme, User


def test_the_demo_seeds_an_admin_whose_printed_password_logs_in(app, client) -> None:
    with app.app_context():
        lines = seed_demo()
    password = re.search(r"password \(shown once\): (\S+)", "\n".join(lines)).group(1)
    response = client.post("/login", data={"email": DEMO_ADMIN, "password": password})
    assert response.status_code == 302
    assert DEMO_ADMIN in client.get("/").text


def test_the_demo_is_idempotent_and_renews_the_password(app) -> None:
    with app.app_context():
        first = seed_demo()
        second = seed_demo()
        assert db.session.query(User).count() == 1
        assert db.session.query(Programme).count() == 1
        assert db.session.query(Campaign).count() >= 1
    assert first[2] != second[2]


def test_demo_command_without_serving(runner) -> None:
    result = runner.invoke(["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "password (shown once)" in result.output
