"""Audit the tested dependency set (`constraints.txt`) for known vulnerabilities.

`make audit` (and so `make test`) calls this. It audits the exact versions that `make install`
installs, not whatever the machine holds, and checks that the virtual environment holds those
versions. Known vulnerabilities fail the run (exit 1). What could not be checked is never
reported as a pass: a service that cannot be reached, or that knows none of the packages (this
machine reaches package registries only), prints a WARNING saying how many packages went
unaudited; the run does not fail for it, since no vulnerability was found either.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONSTRAINTS = ROOT / "constraints.txt"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)")


def pinned(path: Path = CONSTRAINTS) -> dict[str, str]:
    """Package name (normalised) → version, from a constraints file of `name==version` lines."""
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line.strip())
        if match:
            pins[_normal(match.group(1))] = match.group(2)
    return pins


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def drift(pins: dict[str, str]) -> list[str]:
    """Packages of the environment whose version is not the pinned one."""
    installed = {_normal(d.metadata["Name"]): d.version for d in metadata.distributions()}
    return sorted(f"{name} {installed[name]} (pinned {version})"
                  for name, version in pins.items()
                  if name in installed and installed[name] != version)


def summarise(output: str, returncode: int, total: int) -> tuple[int, str]:
    """The exit status and the line to print, from pip-audit's output."""
    found = re.search(r"Found (\d+) known vulnerabilit\w+ in (\d+) packages?", output)
    if found:
        return 1, output.rstrip() + "\ndependency audit: FAILED, known vulnerabilities above"
    unaudited = len(re.findall(r"could not be audited", output))
    if returncode != 0 and ("ConnectionError" in output or "Max retries" in output):
        return 0, (f"dependency audit: WARNING: nothing was audited: the vulnerability service "
                   f"is unreachable from here ({total} pinned packages unchecked)")
    if returncode != 0:
        return 1, output.rstrip() + "\ndependency audit: FAILED, pip-audit did not run"
    if unaudited >= total:
        return 0, (f"dependency audit: WARNING: nothing was audited: none of the {total} pinned "
                   "packages could be checked (the vulnerability service does not answer for "
                   "them from here)")
    if unaudited:
        return 0, (f"dependency audit: no known vulnerability in {total - unaudited} packages; "
                   f"WARNING: {unaudited} of {total} could not be audited")
    return 0, f"dependency audit: no known vulnerability in the {total} pinned packages"


def main() -> int:
    pip_audit = Path(sys.executable).with_name("pip-audit")
    if not pip_audit.exists():
        pip_audit = Path(shutil.which("pip-audit") or "")
    if not pip_audit.name:
        print("dependency audit: WARNING: nothing was audited: pip-audit is not installed "
              "(make install-dev installs it)")
        return 0
    pins = pinned()
    moved = drift(pins)
    if moved:
        print("dependency audit: WARNING: this environment differs from constraints.txt "
              "(reinstall with `make clean install-dev`): " + ", ".join(moved))
    try:
        completed = subprocess.run(  # noqa: S603 — our own venv's pip-audit, fixed arguments
            [str(pip_audit), "--progress-spinner", "off", "--requirement", str(CONSTRAINTS),
             "--no-deps", "--disable-pip"],
            capture_output=True, text=True, timeout=300, check=False,
        )
    except subprocess.TimeoutExpired:
        print(f"dependency audit: WARNING: nothing was audited: the vulnerability service did "
              f"not answer in 5 minutes ({len(pins)} pinned packages unchecked)")
        return 0
    status, line = summarise(completed.stdout + completed.stderr, completed.returncode, len(pins))
    print(line)
    return status


if __name__ == "__main__":
    sys.exit(main())
