"""The dependency audit never reports what it could not check as a pass."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("dependency_audit",
                                               ROOT / "tools" / "dependency_audit.py")
audit = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(audit)

UNAUDITED = "flask  Dependency not found on PyPI and could not be audited: flask (3.1.0)\n"


def test_nothing_audited_is_a_warning_not_a_pass() -> None:
    status, line = audit.summarise(UNAUDITED * 3, 0, 3)
    assert status == 0
    assert "WARNING: nothing was audited" in line
    assert "no known vulnerability" not in line


def test_some_unaudited_are_counted() -> None:
    status, line = audit.summarise(UNAUDITED, 0, 3)
    assert status == 0
    assert "no known vulnerability in 2 packages" in line
    assert "WARNING: 1 of 3 could not be audited" in line


def test_a_vulnerability_fails() -> None:
    status, line = audit.summarise("Found 2 known vulnerabilities in 1 package\n", 1, 3)
    assert status == 1
    assert "FAILED" in line


def test_an_unreachable_service_is_a_warning() -> None:
    status, line = audit.summarise("requests.exceptions.ConnectionError: ...", 1, 3)
    assert status == 0
    assert "unreachable" in line and "WARNING" in line


def test_the_constraints_pin_every_dependency_of_the_project() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    pins = audit.pinned()
    names = {audit._normal(requirement.split("[")[0].split(">")[0].split("=")[0].strip())
             for requirement in wanted}
    missing = sorted(names - pins.keys())
    assert not missing, (
        f"constraints.txt pins no version of {', '.join(missing)}: run `make constraints` "
        "(it installs the newest versions in a fresh environment and writes them), then test"
    )
