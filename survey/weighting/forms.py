"""The weighting page's form (Flask-WTF: CSRF on)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Optional


class WeightingForm(FlaskForm):
    # The preview is a GET: the form carries no CSRF token there and changes nothing.
    method = SelectField(
        _l("Weighting to the customer base's margins"),
        choices=[
            SelectChoice("none", _l("None: design weights only")),
            SelectChoice("poststratify", _l("Post-stratification on one variable")),
            SelectChoice("rake", _l("Raking on several variables")),
        ],
        default="none",
        # A post without a choice changes nothing (rather than removing the weighting).
        validators=[InputRequired()],
    )
    variables = StringField(_l("Weighting variables (comma-separated)"), validators=[Optional()])
