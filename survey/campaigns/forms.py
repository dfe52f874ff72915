from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Regexp
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
