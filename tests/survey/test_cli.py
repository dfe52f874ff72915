import subprocess
import sys

import pytest

from survey.cli import main
from survey.extensions import db
from survey.models import User

# Every command of docs/command-line.md: the public interface.
DESIGN_COMMANDS = [
    ["db", "upgrade"], ["demo"], ["serve"], ["users", "create"],
    ["questionnaires", "validate"], ["questionnaires", "list"], ["customers", "import"],
    ["campaigns", "create"], ["campaigns", "plan"], ["campaigns", "draw"],
    ["campaigns", "launch"], ["campaigns", "test-link"], ["campaigns", "status"],
    ["campaigns", "close"], ["send"], ["report"], ["export"], ["analyze"], ["audit", "verify"],
    ["purge"],
]


@pytest.mark.parametrize("command", DESIGN_COMMANDS, ids=" ".join)
def test_every_design_command_is_registered_with_help(runner, command) -> None:
    result = runner.invoke([*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.output


def test_the_console_script_is_installed() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "survey", "--help"], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0
    assert "campaigns" in completed.stdout and "analyze" in completed.stdout


def test_a_missing_argument_is_bad_input(runner) -> None:
    result = runner.invoke(["campaigns", "draw", "x"])
    assert result.exit_code == 2
    assert "--seed" in result.output


def test_users_create_prints_a_generated_password_once(runner, app) -> None:
    result = runner.invoke(["users", "create", "Manager@Example.org", "--role", "manager"])
    assert result.exit_code == 0, result.output
    assert "created manager manager@example.org" in result.output
    assert "password (shown once): " in result.output
    with app.app_context():
        user = db.session.query(User).one()
        password = result.output.split("password (shown once): ")[1].strip()
        assert password not in user.password_hash
        assert user.password_hash.startswith("$argon2")


def test_users_create_refuses_bad_input_with_status_2(runner) -> None:
    result = runner.invoke(["users", "create", "not-an-email", "--role", "admin"])
    assert result.exit_code == 2
    assert "not a valid email address" in result.output
    result = runner.invoke(["users", "create", "a@example.org", "--role", "admin"],
                           input="short\n")
    assert result.exit_code == 2
    assert "at least 12 characters" in result.output


def test_users_create_refuses_a_duplicate(runner) -> None:
    assert runner.invoke(["users", "create", "a@example.org", "--role", "admin"]).exit_code == 0
    result = runner.invoke(["users", "create", "a@example.org", "--role", "auditor"])
    assert result.exit_code == 2
    assert "already exists" in result.output


def test_audit_verify_reports_an_intact_trail(runner) -> None:
    runner.invoke(["users", "create", "a@example.org", "--role", "admin"])
    result = runner.invoke(["audit", "verify"])
    assert result.exit_code == 0
    assert "0 events sealed" in result.output and "1 newer events wait" in result.output
    assert runner.invoke(["audit", "seal"]).exit_code == 0
    result = runner.invoke(["audit", "verify"])
    assert result.exit_code == 0
    assert "audit trail intact: 1 events sealed" in result.output


def test_db_upgrade_is_idempotent(runner) -> None:
    result = runner.invoke(["db", "upgrade"])
    assert result.exit_code == 0
    assert "database at revision" in result.output


def test_an_unusable_instance_folder_is_a_clear_failure(tmp_path, monkeypatch) -> None:
    from click.testing import CliRunner

    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("BAROMETRE_INSTANCE_PATH", str(blocker / "instance"))
    result = CliRunner().invoke(main, ["audit", "verify"])
    assert result.exit_code == 1
    assert "instance folder" in result.output and "cannot be created" in result.output


def test_questionnaires_list_shows_the_bundled_definition(runner) -> None:
    result = runner.invoke(["questionnaires", "list"])
    assert result.exit_code == 0
    assert result.output.startswith("nf-relation-client\t")


def test_questionnaires_validate_reports_every_error_with_status_2(runner, tmp_path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "id: x\nversion: '1'\nlanguages: [fr]\ntitle: {fr: T}\nintroduction: {fr: I}\n"
        "pages:\n  - questions:\n"
        "      - {code: a, type: rating, min: 5, max: 1, label: {fr: A}}\n"
        "      - {code: a, type: yes_no, label: {fr: B}}\n",
        encoding="utf-8",
    )
    result = runner.invoke(["questionnaires", "validate", str(broken)])
    assert result.exit_code == 2
    assert f"{broken}: pages[0].questions[0].max: " in result.output
    assert "pages[0].questions[1]" in result.output


def test_campaigns_create_freezes_the_questionnaire(runner, app) -> None:
    from survey.models import Campaign

    result = runner.invoke(["campaigns", "create", "barometre-2026", "--programme", "Baromètre",
                            "--year", "2026", "--questionnaire", "nf-relation-client",
                            "--channel", "email", "--channel", "sms"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        campaign = db.session.query(Campaign).one()
        assert campaign.status == "draft"
        assert campaign.channels == ["email", "sms"]
        assert len(campaign.questionnaire_version.sha256) == 64
    again = runner.invoke(["campaigns", "create", "barometre-2026", "--programme", "Baromètre",
                           "--year", "2026", "--questionnaire", "nf-relation-client"])
    assert again.exit_code == 2 and "already exists" in again.output
    unknown = runner.invoke(["campaigns", "create", "other", "--programme", "Baromètre",
                             "--year", "2026", "--questionnaire", "nope"])
    assert unknown.exit_code == 2 and "no questionnaire 'nope'" in unknown.output


def test_analyze_prints_or_writes_the_estimates(runner, tmp_path) -> None:
    import json
    from pathlib import Path

    case = Path(__file__).parents[1] / "analysis" / "reference" / "stratified"
    printed = runner.invoke(["analyze", str(case / "responses.csv"),
                             "--design", str(case / "design.json")])
    assert printed.exit_code == 0
    expected = json.loads((case / "expected.json").read_text())["estimates"]
    estimates = json.loads(printed.output)["estimates"]
    assert [e["indicator"] for e in estimates] == [e["indicator"] for e in expected]
    out = tmp_path / "results.json"
    written = runner.invoke(["analyze", str(case / "responses.csv"),
                             "--design", str(case / "design.json"), "--out", str(out)])
    assert written.exit_code == 0
    assert json.loads(out.read_text())["estimates"] == estimates


def test_analyze_refuses_a_design_naming_a_missing_column(runner, tmp_path) -> None:
    import json
    from pathlib import Path

    case = Path(__file__).parents[1] / "analysis" / "reference" / "stratified"
    design = json.loads((case / "design.json").read_text())
    design["strata"] = "no_such_column"
    bad = tmp_path / "design.json"
    bad.write_text(json.dumps(design))
    result = runner.invoke(["analyze", str(case / "responses.csv"), "--design", str(bad)])
    assert result.exit_code == 2
    assert "no_such_column" in result.output
