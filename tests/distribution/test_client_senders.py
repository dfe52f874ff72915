"""Each client's messages carry its own sender, reply-to, name and privacy footer (issue #16):
a client B invitation goes out as B, client A's as A, through the real SendGrid, SMTP and
Twilio clients against fakes on 127.0.0.1. A client with nothing set sends as today."""

from __future__ import annotations

from survey.clients.scope import client_scope
from survey.extensions import db
from survey.models import Client
from tests.distribution.test_sending import launched, sender


def _two_clients(app, **sizes):
    """Client A (the installation's, branded) and client B (branded otherwise), a launched
    campaign in each."""
    a = db.session.get(Client, 1)
    a.display_name, a.sender_name = "Alpha", "Alpha Qualite"
    a.sender_email = "enquete@alpha.example"
    a.reply_to, a.dpo_contact = "qualite@alpha.example", "dpo@alpha.example"
    a.privacy_notice = "Alpha garde vos reponses un an."
    b = Client(slug="beta", name="Beta", display_name="Beta Energie", sender_name="BetaNRJ",
               sender_email="sondage@beta.example", reply_to="clients@beta.example",
               primary_colour="#1d6b2f")
    db.session.add(b)
    db.session.commit()
    with client_scope(a.id):
        first = launched(app, **sizes)
    with client_scope(b.id):
        second = launched(app, **sizes)
    return first, second


def test_sendgrid_sends_each_clients_invitations_from_its_own_sender(app, fake_sendgrid):
    with app.app_context():
        _two_clients(app, emails=2)
        assert sender(app, duplicate_share=0).run(once=True).sent == 4
        senders = {}
        for request in fake_sendgrid.requests:
            body = request["body"]
            to = body["personalizations"][0]["to"][0]["email"]
            senders[body["from"]["email"]] = (body["from"].get("name"),
                                              body.get("reply_to", {}).get("email"), to,
                                              body["content"][0]["value"])
        assert set(senders) == {"enquete@alpha.example", "sondage@beta.example"}
        name, reply_to, _to, text = senders["enquete@alpha.example"]
        assert (name, reply_to) == ("Alpha Qualite", "qualite@alpha.example")
        assert "Alpha garde vos reponses un an." in text and "dpo@alpha.example" in text
        name, reply_to, _to, text = senders["sondage@beta.example"]
        assert (name, reply_to) == ("BetaNRJ", "clients@beta.example")
        assert "Beta Energie" in text and "Alpha" not in text


def test_smtp_carries_each_clients_from_and_reply_to(app, smtp_sink):
    with app.app_context():
        _two_clients(app, emails=1)
        assert sender(app).run(once=True).sent == 2
        by_from = {email["From"]: email for email in smtp_sink.messages}
        assert set(by_from) == {"Alpha Qualite <enquete@alpha.example>",
                                "BetaNRJ <sondage@beta.example>"}
        assert by_from["BetaNRJ <sondage@beta.example>"]["Reply-To"] == "clients@beta.example"
        html = by_from["BetaNRJ <sondage@beta.example>"].get_body(("html",)).get_content()
        assert "background: #1d6b2f" in html  # B's colour on its button
        envelopes = {mail_from for mail_from, _to in smtp_sink.envelopes}
        assert envelopes == {"enquete@alpha.example", "sondage@beta.example"}


def test_an_unbranded_client_sends_from_the_installations_address(app, smtp_sink):
    with app.app_context():
        launched(app, emails=1)
        assert sender(app).run(once=True).sent == 1
        email = smtp_sink.messages[0]
        assert email["From"] == "enquete@centre.example" and "Reply-To" not in email


def test_twilio_signs_each_clients_sms_with_its_short_name(app, fake_twilio):
    with app.app_context():
        _two_clients(app, phones=1)
        assert sender(app).run(once=True).sent == 2
        bodies = sorted(request["form"]["Body"] for request in fake_twilio.requests)
        # B's sender name fits an alphanumeric sender (≤ 11 characters); A's does not (14),
        # so its display name signs instead. The number stays the one replies (STOP) reach.
        assert bodies[0].startswith("Alpha :") and bodies[1].startswith("BetaNRJ :")
        assert {request["form"]["From"] for request in fake_twilio.requests} == {"+33700000000"}
