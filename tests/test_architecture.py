"""The dependency rule of docs/architecture.md: `analysis` stands alone, `questionnaires` too."""

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("analysis", ("flask", "sqlalchemy", "survey", "questionnaires")),
        ("questionnaires", ("flask", "sqlalchemy", "survey", "analysis")),
    ],
)
def test_package_imports_nothing_it_must_not(package: str, forbidden: tuple[str, ...]) -> None:
    probe = (
        f"import sys, pkgutil, importlib, {package}\n"
        f"for m in pkgutil.walk_packages({package}.__path__, '{package}.'):\n"
        "    if not m.name.endswith('__main__'):\n"
        "        importlib.import_module(m.name)\n"
        f"bad = sorted(n for n in sys.modules if n.split('.')[0] in {forbidden!r})\n"
        "print(','.join(bad))\n"
    )
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                               check=True)
    assert completed.stdout.strip() == ""
