"""Forms of the customer-base and sampling pages (Flask-WTF: CSRF on)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, FloatField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange, Optional

from survey.frame.sampling import DEFAULT_RECENT_MONTHS, MAX_SEED

CONFIDENCE_LEVELS = (("0.9", "90 %"), ("0.95", "95 %"), ("0.99", "99 %"))


class ImportForm(FlaskForm):
    file = FileField(
        _l("Customer file (CSV or XLSX)"),
        validators=[FileRequired(_l("Choose the file exported from your CRM."))],
        render_kw={"accept": ".csv,.txt,.xlsx"},
    )
    variables = StringField(
        _l("Survey variables: headers of the other columns to keep (comma-separated)"),
        validators=[Optional()],
    )
    ignore_others = BooleanField(_l("Ignore every other column: it is not stored"))
    accept_rejects = BooleanField(_l("Import the valid rows even if some rows are rejected"))
    dry_run = BooleanField(_l("Check only (dry run): import nothing"))


class PlanForm(FlaskForm):
    strata = StringField(
        _l("Strata variables (comma-separated; empty for none)"), validators=[Optional()]
    )
    margin = FloatField(
        _l("Target margin of error (0.03 for ±3 points)"),
        validators=[InputRequired(), NumberRange(min=0.001, max=0.5)],
        default=0.03,
    )
    confidence = SelectField(
        _l("Confidence level"),
        choices=[SelectChoice(value, label) for value, label in CONFIDENCE_LEVELS],
        default="0.95",
    )
    response_rate = FloatField(
        _l("Expected response rate (0.3 for 30 %)"),
        validators=[InputRequired(), NumberRange(min=0.01, max=1)],
        default=0.3,
    )
    allocation = SelectField(
        _l("Allocation"),
        choices=[
            SelectChoice("proportional", _l("Proportional")),
            SelectChoice("neyman", _l("Neyman (prior standard deviations)")),
            SelectChoice("equal", _l("Equal")),
        ],
        default="proportional",
    )
    min_per_stratum = IntegerField(
        _l("Minimum respondents per stratum"),
        validators=[InputRequired(), NumberRange(min=0)],
        default=0,
    )
    prior_sd = TextAreaField(
        _l("Prior standard deviations for Neyman, one stratum=value per line"),
        validators=[Optional()],
    )
    recent_months = IntegerField(
        _l("Exclude customers invited by this programme less than this many months ago"),
        validators=[InputRequired(), NumberRange(min=0, max=120)],
        default=DEFAULT_RECENT_MONTHS,
    )
    excluded = TextAreaField(
        _l("Exclusion list: external ids, one per line"), validators=[Optional()]
    )
    calibration_method = SelectField(
        _l("Weighting to the customer base's margins"),
        choices=[
            SelectChoice("none", _l("None: design weights only")),
            SelectChoice("poststratify", _l("Post-stratification on one variable")),
            SelectChoice("rake", _l("Raking on several variables")),
        ],
        default="none",
    )
    calibration_variables = StringField(
        _l("Weighting variables (comma-separated)"), validators=[Optional()]
    )


class DrawForm(FlaskForm):
    seed = IntegerField(
        _l("Seed (any whole number; record it for the auditor)"),
        validators=[InputRequired(), NumberRange(min=0, max=MAX_SEED)],
    )
