"""The weighting page's form (Flask-WTF: CSRF on)."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from survey.frame.forms import ColumnsField


class VariablesField(ColumnsField):
    """The customer base's columns ticked to weight on; a name that is not one of them (typed
    into the address or a crafted post) is refused, in the page's language."""

    def pre_validate(self, form: FlaskForm) -> None:
        offered = {str(choice[0]) for choice in self.iter_choices()}
        if any(value not in offered for value in self.data or []):
            raise ValidationError(_l("Tick columns of the customer base among those offered."))


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
    # The columns are those whose margins were counted at the draw: the view sets them.
    variables = VariablesField(_l("Weighting variables"), choices=[], validate_choice=False)

    def set_columns(self, columns: Iterable[str]) -> None:
        self.variables.choices = [
            SelectChoice(name, _l("Language") if name == "language" else name)
            for name in dict.fromkeys(columns)
        ]
