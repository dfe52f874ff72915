"""Forms of the improvement plan's pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, FloatField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional


class ActionForm(FlaskForm):
    title = StringField(_l("Action"), validators=[DataRequired(), Length(max=200)])
    item = SelectField(_l("Questionnaire item it addresses"), validators=[Optional()])
    commitment = StringField(_l("Or the commitment it addresses, in your words"),
                             validators=[Optional(), Length(max=300)])
    change = TextAreaField(_l("What will change"), validators=[DataRequired(), Length(max=5000)])
    owner = SelectField(_l("Owner"), validators=[DataRequired()])
    due_on = DateField(_l("Due date"), validators=[InputRequired()])
    indicator = SelectField(_l("Indicator of the report it aims to move"),
                            validators=[Optional()])
    target = FloatField(_l("Target value"), validators=[Optional()])
    public = BooleanField(_l("Show it on the published results once done"))


class StatusForm(FlaskForm):
    status = SelectField(_l("New status"), validators=[DataRequired()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])
