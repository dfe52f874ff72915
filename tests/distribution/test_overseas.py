"""A French base with overseas customers: imported, deduplicated, suppressed and reached by SMS
under their region's country code (Guadeloupe +590, Martinique +596, La Réunion and Mayotte
+262, …), through the real Twilio client and a fake Twilio on 127.0.0.1."""

from __future__ import annotations

from datetime import date

from survey.campaigns.operations import create_campaign
from survey.distribution.operations import launch_campaign
from survey.extensions import db
from survey.frame.importing import import_customers
from survey.frame.sampling import draw_sample, plan_campaign
from survey.frame.suppressions import add_suppression
from survey.models import Customer
from tests.distribution.builders import MONDAY_MORNING, messages_of
from tests.distribution.test_sending import sender
from tests.frame.conftest import HEADER, csv_bytes


def test_overseas_numbers_are_imported_suppressed_and_sent_to(app, fake_twilio) -> None:
    with app.app_context():
        session = db.session
        base = csv_bytes([HEADER,
                          ["G1", "", "06 90 12 34 56", "fr", "", "particulier"],
                          ["M1", "", "0696 12 34 56", "fr", "", "particulier"],
                          ["R1", "", "06.92.12.34.56", "fr", "", "pro"],
                          ["Y1", "", "06 39 26 12 34", "fr", "", "pro"],
                          ["F1", "", "05 90 27 12 34", "fr", "", "pro"]])  # a landline: no SMS
        report = import_customers(session, base, "base.csv", actor="test",
                                  today=date(2026, 1, 15))
        assert not report.refused, [r.reason for r in report.rejects]
        session.commit()
        phones = {c.external_id: c.phone for c in session.query(Customer)}
        assert phones == {"G1": "+590690123456", "M1": "+596696123456", "R1": "+262692123456",
                          "Y1": "+262639261234", "F1": "+590590271234"}

        # The same Guadeloupe mobile written internationally is the same contact.
        again = import_customers(session, csv_bytes([HEADER, ["G2", "", "+590 690 12 34 56",
                                                              "fr", "", ""]]),
                                 "again.csv", actor="test", today=date(2026, 1, 15))
        assert again.refused and "belongs to customer G1" in again.rejects[0].reason
        session.rollback()

        # An opt-out written nationally suppresses the number however the base wrote it.
        add_suppression(session, "phone", "06 96 12 34 56", "opt_out", "test",
                        app.config["SECRET_KEY"], actor="test")
        campaign = create_campaign(session, "outre-mer-2026", programme="Baromètre",
                                   year=2026, questionnaire_key="nf-relation-client",
                                   channels=["sms"], actor="test")
        plan_campaign(session, campaign, strata_variables=[], margin=0.01, confidence=0.95,
                      response_rate=0.5, secret_key=app.config["SECRET_KEY"], actor="test")
        draw_sample(session, campaign, 7, secret_key=app.config["SECRET_KEY"], actor="test")
        launch_campaign(session, campaign, secret_key=app.config["SECRET_KEY"], actor="test",
                        now=MONDAY_MORNING)
        session.commit()

        stats = sender(app).run(once=True)
        sent_to = sorted(request["form"]["To"] for request in fake_twilio.requests)
        assert sent_to == ["+262639261234", "+262692123456", "+590690123456"]
        assert stats.sent == 3
        assert all(m.state == "sent" for m in messages_of(campaign))
