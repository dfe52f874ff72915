"""The sampling's refusals in the page's language (issue #15).

`SamplingError`, `CalibrationError` and the analysis's `AnalysisInputError` keep their English
message for the command line and carry a ``reason`` and its ``params``; the plan, draw and
weighting pages word them here from Babel's catalogue, numbers in the reader's locale, so that a
French page never shows an English sentence or an internal name.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from survey.formatting import number
from survey.labels import label
from survey.problems import worded_problem

#: Each reason of the plan, the draw and the weighting, worded with its values.
PROBLEMS = {
    # the frame and the strata
    "empty_frame": _l("No customer is left in the frame after the exclusions (%(excluded)s "
                      "excluded): import customers or review the exclusions."),
    "negative_months": _l("The months since the last invitation must be 0 or more."),
    "strata_variable_unknown": _l("No customer of the frame has a value for %(variables)s: "
                                  "strata are columns of the customer file (known: "
                                  "%(known)s)."),
    "stratum_key_too_long": _l("A stratum's name is longer than %(maximum)s characters "
                               "(%(key)s…)."),
    "strata_variable_repeated": _l("A strata column is repeated: %(variables)s."),
    "strata_variable_name": _l("%(variable)s is not a column of the customer file."),
    "campaign_not_samplable": _l("The campaign's state is “%(status)s”: the sample can only be "
                                 "planned or drawn in draft, or again once drawn before any "
                                 "message is queued."),
    "unknown_allocation": _l("Choose an allocation among those offered."),
    "bad_seed": _l("The seed is a whole number from 0 to %(maximum)s."),
    "no_plan": _l("The campaign has no plan yet: plan it first."),
    "frame_changed": _l("The frame changed since the plan (customers imported, opted out or "
                        "invited since): plan the campaign again before drawing."),
    "sampling_refused": _l("The plan cannot be computed with these values."),
    # the sample size (analysis)
    "not_a_fraction": _l("%(name)s must be strictly between 0 and 100 %%."),
    "bad_response_rate": _l("The expected response rate must be above 0 and at most 100 %%."),
    "count_too_small": _l("%(name)s must be a whole number of at least %(minimum)s."),
    "no_strata": _l("The frame has no stratum to plan."),
    "strata_without_value": _l("%(name)s has no value for the strata %(strata)s."),
    "total_below_minimum": _l("%(total)s respondents are fewer than the %(needed)s that a "
                              "minimum of %(minimum)s per stratum over %(strata)s strata "
                              "requires."),
    "total_above_population": _l("The frame holds only %(population)s customers: fewer than "
                                 "the %(total)s the plan needs. Loosen the margin or import "
                                 "customers."),
    "prior_sd_not_neyman": _l("Standard deviations are only used by the Neyman allocation."),
    "prior_sd_missing": _l("Give a standard deviation for the strata %(strata)s."),
    "prior_sd_not_positive": _l("The standard deviation of %(stratum)s must be a positive "
                                "number."),
    # the weighting
    "calibration_unreadable": _l("Choose post-stratification on one variable or raking on "
                                 "several."),
    "poststratify_one_variable": _l("Post-stratification takes exactly one variable: tick one, "
                                    "or rake to weight on several."),
    "calibration_variable_repeated": _l("A weighting variable is repeated: %(variables)s."),
    "margins_missing_variable": _l("The margins given by hand have no counts for "
                                   "%(variable)s."),
    "margin_not_positive": _l("Margin %(variable)s, level %(level)s: %(value)s is not a "
                              "positive count."),
    "margin_total": _l("The margin of %(variable)s adds up to %(total)s, but the frame holds "
                       "%(frame)s customers: each margin must add up to the population the "
                       "sample was drawn from."),
    "no_such_variable": _l("The customer file has no variable %(variable)s to weight on "
                           "(it has %(known)s)."),
    "too_many_levels": _l("%(variable)s has %(levels)s levels in the frame: at most "
                          "%(maximum)s can be weighting cells."),
    "margin_missing_level": _l("The margin of %(variable)s has no count for the level "
                               "%(level)s, which %(customers)s customers of the frame hold."),
    "cell_without_respondents": _l("The weighting cannot converge: the cell %(variable)s = "
                                   "%(level)s expects %(expected)s respondents (%(sampled)s "
                                   "sampled at a %(rate)s %% response rate), and a cell "
                                   "without respondents cannot be weighted. Merge this level "
                                   "with another, weight on other variables, or sample more."),
    "campaign_archived": _l("The campaign is archived: its weighting is final."),
    "frame_margins_missing": _l("The frame's margins recorded at the draw have no variable "
                                "%(variables)s."),
    "calibration_with_plan": _l("Before the draw, the weighting is chosen with the plan."),
    "calibration_refused": _l("This weighting cannot be used."),
}

#: The analysis's names of the plan's values, as the form calls them.
VALUE_NAMES = {
    "margin": _l("The margin"),
    "confidence": _l("The confidence level"),
    "proportion": _l("The expected proportion"),
    "min_per_stratum": _l("The minimum per stratum"),
    "prior_sd": _l("The standard deviation"),
}

# Values that are names from the customer file or a code: shown as code.
_AS_CODE = ("variable", "variables", "known", "key", "level", "strata", "stratum")


def problem_text(error: Any) -> Markup:
    """A refusal of the plan, the draw or the weighting in the reader's language; a reason
    without words here says only that the plan or the weighting is refused."""
    return worded_problem(error, PROBLEMS, _word_value, fallback="sampling_refused")


def _word_value(name: str, value: Any) -> Any:
    if name == "name":
        return escape(str(VALUE_NAMES.get(str(value).partition("[")[0], _("The value"))))
    if name == "status":
        return escape(label(value, "CampaignStatus"))
    if name == "known" and not value:
        return escape(_("none"))
    if name in _AS_CODE:
        return Markup("<code>%s</code>") % value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return escape(number(value))
    return escape(value)
