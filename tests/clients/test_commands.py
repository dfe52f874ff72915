"""`barometre clients create|list` and `--client SLUG`: optional with one client, required
(exit 2 naming the choices) with several."""

from __future__ import annotations

from sqlalchemy import select

from survey.extensions import db
from survey.models import Client, Customer, User, UserClient
from tests.frame.conftest import HEADER, csv_bytes


def _file(tmp_path, name: str = "base.csv"):
    path = tmp_path / name
    path.write_bytes(csv_bytes([HEADER, ["C1", "a@example.org", "", "fr", "", "pro"]]))
    return str(path)


def test_one_client_needs_no_naming_and_several_do(app, runner, tmp_path):
    assert runner.invoke(["customers", "import", _file(tmp_path)]).exit_code == 0
    created = runner.invoke(["clients", "create", "acme", "--name", "Acme"])
    assert created.exit_code == 0, created.output
    assert runner.invoke(["clients", "create", "acme", "--name", "Again"]).exit_code == 2
    assert runner.invoke(["clients", "create", "A B", "--name", "Bad"]).exit_code == 2
    listed = runner.invoke(["clients", "list"]).output
    assert "acme\tAcme" in listed and "default\tDefault" in listed
    missing = runner.invoke(["customers", "import", _file(tmp_path)])
    assert missing.exit_code == 2
    assert "--client SLUG is needed" in missing.output and "acme, default" in missing.output
    unknown = runner.invoke(["customers", "import", _file(tmp_path), "--client", "nope"])
    assert unknown.exit_code == 2 and "no client 'nope'" in unknown.output
    done = runner.invoke(["customers", "import", _file(tmp_path), "--client", "acme"])
    assert done.exit_code == 0, done.output
    with app.app_context():
        owners = db.session.execute(select(Customer.external_id, Client.slug).join(
            Client, Client.id == Customer.client_id).order_by(Client.slug)).all()
        assert [tuple(row) for row in owners] == [("C1", "acme"), ("C1", "default")]
    assert runner.invoke(["purge", "--dry-run"]).exit_code == 2
    assert runner.invoke(["purge", "--dry-run", "--client", "acme"]).exit_code == 0


def test_users_create_limits_an_account_to_clients(app, runner):
    runner.invoke(["clients", "create", "acme", "--name", "Acme"])
    result = runner.invoke(["users", "create", "m@example.org", "--role", "manager",
                            "--client", "acme"], input="a-long-password-123\n")
    assert result.exit_code == 0, result.output
    assert runner.invoke(["users", "create", "x@example.org", "--role", "manager",
                          "--client", "nope"], input="a-long-password-123\n").exit_code == 2
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "m@example.org"))
        limited = db.session.scalars(select(UserClient.client_id).where(
            UserClient.user_id == user.id)).all()
        acme = db.session.scalar(select(Client.id).where(Client.slug == "acme"))
        assert limited == [acme]
        assert db.session.scalar(select(User).where(User.email == "x@example.org")) is None
