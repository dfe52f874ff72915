"""Forms of the administration pages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, Form, HiddenField, IntegerField, SelectField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length, NumberRange, Optional

ROLE_CHOICES = [SelectChoice("admin", _l("Admin")), SelectChoice("manager", _l("Manager")),
                SelectChoice("auditor", _l("Auditor")),
                SelectChoice("client_viewer", _l("Client viewer"))]


class CreateUserForm(FlaskForm):
    email = EmailField(_l("Email address"), validators=[DataRequired(), Length(max=254)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, default="auditor")
    # Shown only when the installation has several clients (choices set by the view).
    clients = SelectMultipleField(_l("Clients (none: every client)"), coerce=int,
                                  choices=[], validate_choice=False)


class ClientsForm(FlaskForm):
    """The clients a manager or auditor is limited to, or a client viewer's one client."""

    clients = SelectMultipleField(_l("Clients"), coerce=int, choices=[], validate_choice=False)


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)


class ActiveForm(FlaskForm):
    active = HiddenField(validators=[AnyOf(["0", "1"])])


class AuditFilterForm(Form):
    """The trail's filters, read from the query string (a GET form: nothing to protect)."""

    campaign = SelectField(_l("Campaign"), coerce=str, validators=[Optional()])
    action = SelectField(_l("Action"), coerce=str, validators=[Optional()])
    page = IntegerField(validators=[Optional(), NumberRange(min=1, max=1_000_000)])


class ResetForm(FlaskForm):
    """Send a password reset link: nothing to fill, the CSRF token only."""
