"""Forms of the customer-base and sampling pages (Flask-WTF: CSRF on)."""

from __future__ import annotations

import secrets

from babel import numbers as babel_numbers
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    FloatField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange, Optional, StopValidation
from wtforms.widgets import CheckboxInput, ListWidget, TextInput

from survey.formatting import _locale
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


class DecimalField(FloatField):
    """A number typed with a decimal comma (French) or point: "3,5" and "3.5" are both 3.5.

    A text input (a number input refuses the comma in an English browser), written back in
    the page's language ("2,5" on a French page)."""

    widget = TextInput()

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        return babel_numbers.format_decimal(self.data, format="0.######", locale=_locale())

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = float(valuelist[0].strip().replace(",", "."))
        except ValueError:
            self.data = None
            raise ValueError(str(_l("Enter a number, e.g. 3 or 2.5."))) from None

    def pre_validate(self, form: FlaskForm) -> None:
        # What is not a number gets one message, not also the range's.
        if self.process_errors:
            raise StopValidation()


class ColumnsField(SelectMultipleField):
    """Columns of the customer base ticked in a list; the choices are set by the view."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class PlanForm(FlaskForm):
    # The columns are the frame's: the view sets the choices (`set_columns`).
    strata = ColumnsField(_l("Strata variables"), choices=[], validate_choice=True)
    # In percentage points, as a director says it ("±3 points"); the plan stores the fraction.
    margin = DecimalField(
        _l("Target margin of error, in percentage points"),
        validators=[InputRequired(_l("Enter the margin of error in points, e.g. 3.")),
                    NumberRange(min=0.1, max=50,
                                message=_l("Enter a margin from 0.1 to 50 points."))],
        default=3,
        render_kw={"inputmode": "decimal"},
    )
    confidence = SelectField(
        _l("Confidence level"),
        choices=[SelectChoice(value, label) for value, label in CONFIDENCE_LEVELS],
        default="0.95",
    )
    response_rate = DecimalField(
        _l("Expected response rate, in percent"),
        validators=[InputRequired(_l("Enter the expected response rate in percent, e.g. 30.")),
                    NumberRange(min=1, max=100,
                                message=_l("Enter a response rate from 1 to 100 percent."))],
        default=30,
        render_kw={"inputmode": "decimal"},
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
    calibration_variables = ColumnsField(_l("Weighting variables"), choices=[],
                                         validate_choice=True)

    def set_columns(self, columns: list[str], kept: list[str] = ()) -> None:
        """Offer the frame's `columns` to tick, and the `kept` names of a saved plan that the
        frame no longer has (so they show, and can be unticked)."""
        names = list(dict.fromkeys([*columns, *kept]))
        for field in (self.strata, self.calibration_variables):
            field.choices = [
                SelectChoice(name, _l("Language") if name == "language" else name)
                for name in names
            ]


def proposed_seed() -> int:
    """A seed drawn by the operating system's generator, offered on the draw form: nobody
    chooses it with the sample in mind, and it is recorded with the sample."""
    return secrets.randbelow(MAX_SEED + 1)


class DrawForm(FlaskForm):
    seed = IntegerField(
        _l("Seed"),
        validators=[InputRequired(_l("Enter the seed, a whole number.")),
                    NumberRange(min=0, max=MAX_SEED,
                                message=_l("Enter a whole number from 0 to 2³¹ − 1."))],
        default=proposed_seed,
    )
