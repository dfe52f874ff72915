"""Forms of the follow-up pages (the queue's filters are a plain GET form read by
`QueueFilters.from_args`)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from survey.followups.operations import MAX_NOTE


def outcome_choices() -> list[SelectChoice]:
    return [
        SelectChoice("resolved", _l("Reached and resolved")),
        SelectChoice("not_resolved", _l("Reached, not resolved")),
        SelectChoice("complaint", _l("Complaint opened in our complaint tool")),
        SelectChoice("unreachable", _l("Not reachable after the tries recorded")),
        SelectChoice("declined", _l("Customer declined")),
    ]


class NoteForm(FlaskForm):
    body = TextAreaField(_l("Note"), validators=[DataRequired(), Length(max=MAX_NOTE)])
    contact_attempt = BooleanField(_l("This note records a try to reach the customer"))


class AssignForm(FlaskForm):
    owner = SelectField(_l("Owner"), coerce=str, validate_choice=True)


class CloseForm(FlaskForm):
    outcome = SelectField(_l("Outcome"), choices=outcome_choices)
    reference = StringField(_l("Complaint reference (in the centre's complaint tool)"),
                            validators=[Optional(), Length(max=100)])


class ReopenForm(FlaskForm):
    pass


class BulkAssignForm(FlaskForm):
    # The owner is checked by `assign` (an active manager or admin); "assign to me" sends none.
    owner = SelectField(_l("Assign the selected follow-ups to"), coerce=str,
                        validate_choice=False)


class ServiceLevelForm(FlaskForm):
    callback_days = IntegerField(_l("Callback requests (working days)"),
                                 validators=[InputRequired(), NumberRange(0, 60)])
    detractor_days = IntegerField(_l("Dissatisfied customers (working days)"),
                                  validators=[InputRequired(), NumberRange(0, 60)])
