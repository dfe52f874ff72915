"""The sampling's refusals in the page's language (issue #15): every reason the plan, the draw,
the sample size and the weighting can give has words in both catalogues."""

from __future__ import annotations

import ast

from flask_babel import force_locale

from survey import PROJECT_ROOT
from survey.frame.problems import PROBLEMS, problem_text
from survey.frame.sampling import SamplingError
from survey.weighting.operations import CalibrationError

SOURCES = {
    "survey/frame/sampling.py": ("SamplingError", 1),
    "survey/weighting/operations.py": ("CalibrationError", 1),
    "analysis/sample_size.py": ("AnalysisInputError", 1),
}


def _reasons() -> set[str]:
    found = set()
    for path, (name, position) in SOURCES.items():
        tree = ast.parse((PROJECT_ROOT / path).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", "") == name
                    and len(node.args) > position
                    and isinstance(node.args[position], ast.Constant)):
                found.add(node.args[position].value)
    return found


def test_every_refusal_of_the_sampling_has_words_in_both_languages(app) -> None:
    reasons = _reasons()
    assert {"empty_frame", "bad_seed", "total_above_population", "no_such_variable"} <= reasons
    assert not reasons - set(PROBLEMS), "reasons without words on a page"
    with app.test_request_context("/"):
        for reason, text in PROBLEMS.items():
            with force_locale("fr"):
                french = str(text)
            with force_locale("en"):
                english = str(text)
            assert french != english, f"{reason} has no French"


def test_values_are_localised_and_names_shown_as_code(app) -> None:
    with app.test_request_context("/"), force_locale("fr"):
        wrapped = SamplingError.wrapping(
            ValueError("total 12000 exceeds the population size 5000"))
        assert problem_text(wrapped) == "Le plan ne peut pas être calculé avec ces valeurs."
        from analysis.design import AnalysisInputError

        error = SamplingError.wrapping(AnalysisInputError(
            "total 12000 exceeds the population size 5000", "total_above_population",
            total=12000, population=5000))
        assert str(error) == "total 12000 exceeds the population size 5000"  # the CLI's words
        assert problem_text(error).startswith(
            "La base de sondage ne compte que 5\u202f000 clients : moins que les 12\u202f000")
        refused = CalibrationError("no variable 'région'", "no_such_variable",
                                   variable="région", known="canal, segment")
        assert problem_text(refused) == (
            "Le fichier clients n’a pas de variable <code>région</code> sur laquelle pondérer "
            "(il a : <code>canal, segment</code>).")
