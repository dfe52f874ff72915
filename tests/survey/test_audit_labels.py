"""Every event the audit trail records reads as words on the auditor's page, in both languages:
an action or object type without a label shows its internal code (`questionnaire_draft`)."""

from __future__ import annotations

import ast
from pathlib import Path

from survey import PROJECT_ROOT
from survey.labels import LABELS


def _constants(node: ast.expr) -> set[str]:
    """The string constants an argument can take (`"a" if x else "b"` gives both)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _constants(node.body) | _constants(node.orelse)
    return set()


def _recorded() -> tuple[set[str], set[str]]:
    actions: set[str] = set()
    object_types: set[str] = set()
    for path in Path(PROJECT_ROOT, "survey").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            # record_event(session, "x.y", ...) and the packages' own wrappers `_event(...)`
            if name in ("record_event", "_event") and len(node.args) > 1:
                actions |= {a for a in _constants(node.args[1]) if "." in a}
            if name == "record_event":
                for keyword in node.keywords:
                    if keyword.arg == "object_type":
                        object_types |= _constants(keyword.value)
    return actions, object_types


def test_every_recorded_action_and_object_type_has_a_label() -> None:
    actions, object_types = _recorded()
    assert len(actions) > 30  # the walk found the trail's events
    assert sorted(actions - set(LABELS["audit_action"])) == []
    assert sorted(object_types - set(LABELS["object_type"])) == []
