"""The form of a programme's survey method."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import Length, Optional

from survey.programmes.operations import MAX_LENGTH


class MethodForm(FlaskForm):
    commissioned_by = StringField(_l("Commissioned by"),
                                  validators=[Optional(), Length(max=300)])
    conducted_by = StringField(_l("Conducted by"), validators=[Optional(), Length(max=300)])
    objectives = TextAreaField(_l("Objectives"), validators=[Optional(), Length(max=MAX_LENGTH)])
    incentives = TextAreaField(_l("Incentives"), validators=[Optional(), Length(max=MAX_LENGTH)])
    subcontracting = TextAreaField(_l("Subcontracting"),
                                   validators=[Optional(), Length(max=MAX_LENGTH)])
    validation = TextAreaField(_l("Data validation and cleaning"),
                               validators=[Optional(), Length(max=MAX_LENGTH)])
    limitations = TextAreaField(_l("Limitations"),
                                validators=[Optional(), Length(max=MAX_LENGTH)])
