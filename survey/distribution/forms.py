"""Forms of the distribution pages."""

from flask_wtf import FlaskForm
from wtforms import SubmitField


class UnsubscribeForm(FlaskForm):
    """The opt-out confirmation.

    Without CSRF on purpose: the personal token in the URL is the proof of who acts (like the
    CSRF token it is unguessable), and RFC 8058 one-click requests from mail providers carry
    no form token at all.
    """

    class Meta:
        csrf = False

    submit = SubmitField()
