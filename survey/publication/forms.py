"""Forms of the performance criteria and publication pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import FloatField, HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp


def unit_choices() -> list[SelectChoice]:
    return [
        SelectChoice("rate", _l("Rate (%)")),
        SelectChoice("seconds", _l("Seconds")),
        SelectChoice("days", _l("Days")),
        SelectChoice("count", _l("Count")),
    ]


def direction_choices() -> list[SelectChoice]:
    return [
        SelectChoice("higher", _l("Higher is better (the target is a floor)")),
        SelectChoice("lower", _l("Lower is better (the target is a ceiling)")),
    ]


class CriterionForm(FlaskForm):
    code = StringField(_l("Code"), validators=[
        DataRequired(), Regexp(r"^[a-z0-9][a-z0-9_-]{0,49}$",
                               message=_l("Lower-case letters, digits, '-' and '_' only."))])
    label_fr = StringField(_l("Label in French"), validators=[DataRequired(), Length(max=200)])
    label_en = StringField(_l("Label in English"), validators=[DataRequired(), Length(max=200)])
    unit = SelectField(_l("Unit"), choices=unit_choices)
    target = FloatField(_l("Target"), validators=[InputRequired(), NumberRange(min=0)])
    direction = SelectField(_l("Direction"), choices=direction_choices)
    item = SelectField(_l("Questionnaire item on the same commitment"), validators=[Optional()])


class CriteriaFileForm(FlaskForm):
    file = FileField(_l("CSV file"), validators=[FileRequired()])


class CriterionValueForm(FlaskForm):
    criterion = SelectField(_l("Criterion"), validators=[DataRequired()])
    month = StringField(_l("Month (YYYY-MM)"), validators=[
        DataRequired(), Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", message=_l("Write the month YYYY-MM."))])
    value = StringField(_l("Value"), validators=[Optional(), Length(max=30)])
    numerator = StringField(_l("Numerator (rates)"), validators=[Optional(), Length(max=20)])
    denominator = StringField(_l("Denominator (rates)"), validators=[Optional(), Length(max=20)])


class PublishForm(FlaskForm):
    slug = StringField(_l("Address of the public page"), validators=[
        DataRequired(), Regexp(r"^[a-z0-9][a-z0-9-]{1,79}$",
                               message=_l("Lower-case letters, digits and '-' only."))])


class WithdrawForm(FlaskForm):
    # Sent by the button's form: a post without it (a stray request) withdraws nothing.
    confirm = HiddenField(default="1", validators=[InputRequired()])
