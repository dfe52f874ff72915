import os
import re
import stat
from pathlib import Path

import pytest

from survey import create_app
from survey.config import ConfigurationError, config_from_environment


def test_configuration_comes_from_the_environment(tmp_path: Path) -> None:
    env = {
        "BAROMETRE_INSTANCE_PATH": str(tmp_path / "inst"),
        "BAROMETRE_BASE_URL": "https://survey.example.org/",
        "BAROMETRE_EMAIL_BACKEND": "smtp",
        "BAROMETRE_SMTP_PORT": "2525",
        "BAROMETRE_SMTP_TLS": "on",
        "BAROMETRE_TIMEZONE": "Europe/London",
    }
    config = config_from_environment(env)
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'inst' / 'barometre.db'}"
    assert config["BASE_URL"] == "https://survey.example.org"
    assert config["EMAIL_BACKEND"] == "smtp"
    assert config["SMS_BACKEND"] == "outbox"
    assert config["SMTP_PORT"] == 2525
    assert config["SMTP_TLS"] is True
    assert config["TIMEZONE"] == "Europe/London"
    assert config["SENDGRID_HOST"] == "https://api.sendgrid.com"


def test_missing_instance_folder_is_created_with_a_private_secret_key(tmp_path: Path) -> None:
    instance = tmp_path / "does" / "not" / "exist"
    app = create_app({"INSTANCE_PATH": str(instance)})
    key_file = instance / "secret_key"
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert app.config["SECRET_KEY"] == key_file.read_text()
    # The same key on the next start: sessions survive a restart.
    assert create_app({"INSTANCE_PATH": str(instance)}).config["SECRET_KEY"] == app.config[
        "SECRET_KEY"
    ]


def test_secret_key_from_the_environment_wins(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("BAROMETRE_SECRET_KEY", "k" * 40)
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["SECRET_KEY"] == "k" * 40
    assert not (tmp_path / "secret_key").exists()


def test_an_instance_path_that_is_a_file_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "instance"
    blocker.write_text("not a folder")
    with pytest.raises(ConfigurationError, match="not a folder"):
        create_app({"INSTANCE_PATH": str(blocker)})


def test_an_instance_folder_that_cannot_be_created_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ConfigurationError, match="cannot be created.*BAROMETRE_INSTANCE_PATH"):
        create_app({"INSTANCE_PATH": str(blocker / "instance")})


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through file modes")
def test_an_unwritable_instance_folder_is_refused(tmp_path: Path) -> None:
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(ConfigurationError, match="not writable"):
            create_app({"INSTANCE_PATH": str(tmp_path)})
    finally:
        tmp_path.chmod(0o700)


def test_unwritable_instance_folder_on_a_read_only_filesystem_is_refused() -> None:
    # /proc refuses new entries even to root: the case a permission test cannot show as root.
    with pytest.raises(ConfigurationError, match="instance folder /proc/.*"):
        create_app({"INSTANCE_PATH": "/proc/barometre-instance"})


@pytest.mark.parametrize("zone", ["Europe/Pariss", "CET+1", "../etc/passwd", "Paris"])
def test_an_unknown_time_zone_is_refused_by_name(tmp_path: Path, zone: str) -> None:
    environ = {"BAROMETRE_INSTANCE_PATH": str(tmp_path), "BAROMETRE_TIMEZONE": zone}
    expected = "^BAROMETRE_TIMEZONE is wrong: " + re.escape(repr(zone))
    with pytest.raises(ConfigurationError, match=expected):
        config_from_environment(environ)


def test_a_blank_time_zone_keeps_the_default(tmp_path: Path) -> None:
    environ = {"BAROMETRE_INSTANCE_PATH": str(tmp_path), "BAROMETRE_TIMEZONE": " "}
    assert config_from_environment(environ)["TIMEZONE"] == "Europe/Paris"


def test_pages_carry_security_headers(client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_a_view_keeps_its_own_security_header_once(tmp_path: Path) -> None:
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"),
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'unused.db'}"})

    @app.get("/framed")
    def framed() -> tuple[str, dict[str, str]]:
        # Header names are case-insensitive: a view's spelling is still its own.
        return "framed", {"x-frame-options": "SAMEORIGIN"}

    response = app.test_client().get("/framed")
    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert response.headers.getlist("Referrer-Policy") == ["no-referrer"]
    assert len(response.headers.getlist("Content-Security-Policy")) == 1


def test_language_follows_the_browser_then_the_switcher(client) -> None:
    french = client.get("/", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert 'lang="fr"' in french.text and "Se connecter" in french.text
    english = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert 'lang="en"' in english.text and "Log in" in english.text
    switched = client.get("/?lang=en", headers={"Accept-Language": "fr"})
    assert 'lang="en"' in switched.text
    # The choice is remembered for the next page.
    assert 'lang="en"' in client.get("/", headers={"Accept-Language": "fr"}).text
