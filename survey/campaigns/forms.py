from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Regexp, StopValidation
from wtforms.widgets import CheckboxInput, ListWidget


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CampaignForm(FlaskForm):
    slug = StringField(
        _l("Short name (used in links and commands)"),
        validators=[DataRequired(), Length(min=2, max=100),
                    Regexp(r"^[a-z0-9][a-z0-9-]*[a-z0-9]$",
                           message=_l("Lowercase letters, digits and hyphens only."))],
    )
    programme = StringField(_l("Programme"), validators=[DataRequired(), Length(max=200)])
    year = IntegerField(_l("Year"), validators=[DataRequired(), NumberRange(2000, 2200)])
    questionnaire = SelectField(_l("Questionnaire"), validators=[DataRequired()])
    channels = MultiCheckboxField(
        _l("Channels"),
        choices=[SelectChoice("email", _l("Email")), SelectChoice("sms", _l("SMS"))],
        validators=[DataRequired()], default=["email"],
    )


#: Why reminder days are refused, in the reader's language, by `ReminderDaysError.reason`.
REMINDER_PROBLEMS = {
    "not_a_number": _l("“%(value)s” is not a whole number of days."),
    "not_positive": _l("A reminder comes at least 1 day after the invitation, not %(value)s."),
    "too_late": _l("A reminder comes at most %(max)s days after the invitation, not "
                   "%(value)s."),
    "not_ascending": _l("Write the days in ascending order, each after the one before: %(value)s "
                        "comes after %(previous)s."),
    "too_many": _l("At most %(max)s reminders, not %(count)s."),
    "closed": _l("The campaign is closed: its reminders can no longer change."),
}


def reminder_problem(error: object) -> str:
    """A `ReminderDaysError` said in the reader's language."""
    text = REMINDER_PROBLEMS.get(str(getattr(error, "reason", "")))
    return str(text) % dict(getattr(error, "params", {})) if text else str(error)


class ReminderForm(FlaskForm):
    """The days after the invitation at which reminders are sent; empty: no reminder."""

    days = StringField(_l("Reminder days"), validators=[Length(max=50)])

    def validate_days(self, field: StringField) -> None:
        from survey.campaigns.operations import ReminderDaysError, parse_reminder_days

        if not field.raw_data:  # a post without the field is no request to remove reminders
            raise StopValidation(_l("Write the reminder days, or leave the field empty."))
        try:
            parse_reminder_days(field.data or "")
        except ReminderDaysError as error:
            raise StopValidation(reminder_problem(error)) from error
