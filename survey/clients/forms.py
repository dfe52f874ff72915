"""Forms of the client settings pages."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, ValidationError

from survey.clients.operations import COLOUR, SLUG, readable_colour


def _email_address(form: FlaskForm, field: StringField) -> None:
    value = (field.data or "").strip()
    if not value:
        return
    try:
        # No DNS lookup: the form is checked offline, and a centre may set up the domain later.
        field.data = validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValidationError(_l("This is not a valid email address.")) from exc


def _readable(form: FlaskForm, field: StringField) -> None:
    value = (field.data or "").strip()
    if value and not COLOUR.match(value):
        raise ValidationError(_l("Give the colour as # and six hexadecimal digits, like #0b4f9c."))
    if value and not readable_colour(value):
        raise ValidationError(_l(
            "White text on this colour is hard to read (contrast below 4.5:1): choose a darker "
            "colour."))


class CreateClientForm(FlaskForm):
    slug = StringField(_l("Short name in addresses and commands"), validators=[
        DataRequired(), Regexp(SLUG, message=_l(
            "2 to 50 lower-case letters, digits and hyphens, starting with a letter or digit."))])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])


class ClientForm(FlaskForm):
    display_name = StringField(_l("Name shown to customers"), validators=[Optional(),
                                                                           Length(max=200)])
    logo = FileField(_l("Logo (PNG or JPEG)"))
    remove_logo = BooleanField(_l("Remove the logo"))
    primary_colour = StringField(_l("Main colour"), validators=[Optional(), _readable])
    sender_name = StringField(_l("Sender name"), validators=[Optional(), Length(max=100)])
    sender_email = StringField(_l("Sender address"), validators=[Optional(), Length(max=254),
                                                                 _email_address])
    reply_to = StringField(_l("Reply-to address"), validators=[Optional(), Length(max=254),
                                                               _email_address])
    privacy_notice = TextAreaField(_l("Privacy notice"), validators=[Optional(),
                                                                     Length(max=5000)])
    dpo_contact = StringField(_l("Data-protection contact"), validators=[Optional(),
                                                                         Length(max=300)])
    retention_days = IntegerField(_l("Retention period (days)"), validators=[
        Optional(), NumberRange(min=1, max=3650, message=_l("Between 1 and 3,650 days."))])
