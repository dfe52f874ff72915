"""Forms of the distribution pages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SubmitField
from wtforms.validators import Optional


class UnsubscribeForm(FlaskForm):
    """The opt-out confirmation.

    Without CSRF on purpose: the personal token in the URL is the proof of who acts (like the
    CSRF token it is unguessable), and RFC 8058 one-click requests from mail providers carry
    no form token at all.
    """

    class Meta:
        csrf = False

    submit = SubmitField()


class LaunchForm(FlaskForm):
    until = DateField(_l("Last day of fieldwork (optional, 28 days by default)"),
                      validators=[Optional()])
    submit = SubmitField(_l("Launch the campaign"))


class CloseForm(FlaskForm):
    submit = SubmitField(_l("Close fieldwork"))
