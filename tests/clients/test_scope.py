"""The client as a boundary in the data layer (issue #16): two clients with the same customer
ids, emails and phones each see only their own rows, through every query, and a row cannot be
written into another client's scope."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey.clients.scope import (
    NO_CLIENT,
    ClientScopeError,
    client_scope,
    clients_for,
    current_client_id,
    effective_client_id,
)
from survey.distribution.operations import suppressed_hashes
from survey.extensions import db
from survey.frame.importing import import_customers
from survey.frame.suppressions import add_suppression, is_suppressed
from survey.models import (
    AuditEvent,
    Campaign,
    Client,
    Customer,
    CustomerImport,
    Programme,
    Suppression,
    SurveyVariable,
    UserClient,
)
from tests.frame.conftest import HEADER, csv_bytes
from tests.survey.factories import make_campaign

ROWS = [
    ["C1", "jean@exemple.fr", "06 12 34 56 78", "fr", "2025-04-25", "pro"],
    ["C2", "zoe@exemple.fr", "07 45 67 89 01", "en", "2025-04-26", "particulier"],
]


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    with app.app_context():
        yield db.session
        db.session.rollback()


@pytest.fixture
def two(session: Session) -> tuple[int, int]:
    """The installation's client and a second one, each with the same customer file."""
    first = session.scalar(select(Client.id).where(Client.slug == "default"))
    second = Client(slug="acme", name="Acme")
    session.add(second)
    session.commit()
    for client_id, segment in ((first, "pro"), (second.id, "retail")):
        with client_scope(client_id):
            rows = [[*row[:-1], segment] for row in ROWS]
            report = import_customers(session, csv_bytes([HEADER, *rows]), "base.csv",
                                      actor="test")
            assert report.imported and report.rows_created == 2
            session.commit()
    return first, second.id


def test_the_same_ids_emails_and_phones_are_two_customers_of_two_clients(session, two):
    first, second = two
    assert session.scalar(select(func.count()).select_from(Customer)) == 4  # unscoped
    for client_id, segment in ((first, "pro"), (second, "retail")):
        with client_scope(client_id):
            mine = session.scalars(select(Customer).order_by(Customer.external_id)).all()
            assert [c.external_id for c in mine] == ["C1", "C2"]
            assert {c.client_id for c in mine} == {client_id}
            assert {c.attributes["segment"] for c in mine} == {segment}
            assert session.scalar(select(func.count(Customer.id))) == 2
            assert session.scalar(select(func.count()).select_from(CustomerImport)) == 1
            assert session.scalars(select(SurveyVariable.name)).all() == ["segment"]


def test_a_re_import_updates_its_own_clients_customers_only(session, two):
    first, second = two
    rows = [["C1", "jean@exemple.fr", "06 12 34 56 78", "fr", "2025-04-25", "public"]]
    with client_scope(second):
        report = import_customers(session, csv_bytes([HEADER, *rows]), "again.csv",
                                  actor="test")
        assert (report.rows_created, report.rows_updated) == (0, 1)
        session.commit()
    with client_scope(first):
        assert session.scalar(select(Customer.attributes).where(
            Customer.external_id == "C1")) == {"segment": "pro"}


def test_another_clients_row_is_not_found_by_id_nor_by_slug(session, two):
    first, second = two
    with client_scope(second):
        campaign = make_campaign(slug="acme-2026")
        session.commit()
        campaign_id, programme_id = campaign.id, campaign.programme_id
        assert campaign.client_id == second
    session.expunge_all()  # no identity-map hit: what the next request would do
    with client_scope(first):
        assert session.scalar(select(Campaign).where(Campaign.slug == "acme-2026")) is None
        assert session.scalar(select(Campaign).where(Campaign.id == campaign_id)) is None
        assert session.get(Campaign, campaign_id) is None
        assert session.get(Programme, programme_id) is None
        assert session.scalars(select(Programme)).all() == []
    with client_scope(second):
        assert session.scalar(select(Campaign.slug).where(Campaign.id == campaign_id)) \
            == "acme-2026"


def test_audit_events_are_their_clients(session, two):
    first, second = two
    with client_scope(first):
        actions = session.scalars(select(AuditEvent.action)).all()
        assert actions.count("customers.import") == 1
    assert session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "customers.import", AuditEvent.client_id == second)) == 1


def test_an_opt_out_of_one_client_does_not_silence_another(session, two):
    first, second = two
    secret = "test-secret-key-that-is-long-enough-0123456789"
    with client_scope(first):
        suppression = add_suppression(session, "email", "jean@exemple.fr", reason="opt-out",
                                      source="test", secret_key=secret)
        session.commit()
        assert suppression.client_id == first
        assert is_suppressed(session, secret, "email", "Jean@Exemple.fr")
    with client_scope(second):
        assert not is_suppressed(session, secret, "email", "jean@exemple.fr")
        assert session.scalars(select(Suppression)).all() == []
    digest = suppression.contact_hash
    assert suppressed_hashes(session, [digest], first) == {digest}
    assert suppressed_hashes(session, [digest], second) == set()
    # The same contact may be suppressed by the second client too: two rows, one each.
    with client_scope(second):
        add_suppression(session, "email", "jean@exemple.fr", reason="opt-out", source="test",
                        secret_key=secret)
        session.commit()
    assert session.scalar(select(func.count()).select_from(Suppression)) == 2


def test_a_row_cannot_be_flushed_into_another_clients_scope(session, two):
    first, second = two
    with client_scope(first):
        session.add(Programme(name="Theirs", client_id=second))
        with pytest.raises(ClientScopeError, match="cannot be written while working for"):
            session.flush()
        session.rollback()
        customer = session.scalar(select(Customer).where(Customer.external_id == "C1"))
        customer.client_id = second
        with pytest.raises(ClientScopeError):
            session.flush()
        session.rollback()


def test_without_a_scope_new_rows_need_the_only_client(session, two):
    assert current_client_id() is None
    session.add(Programme(name="Whose?"))
    with pytest.raises(ClientScopeError, match="several clients"):
        session.flush()
    session.rollback()
    with pytest.raises(ClientScopeError):
        effective_client_id(session)



def test_a_scope_of_no_client_sees_nothing_and_owns_only_installation_rows(session, two):
    """A person who may work for no client (a viewer left without one): their reads match no
    row, their own events are the installation's, and no client's row can be written."""
    from survey.audit import record_event

    with client_scope(NO_CLIENT):
        assert session.scalars(select(Customer)).all() == []
        record_event(session, "auth.logout", actor="test", object_type="user", object_id=1)
        session.commit()
        session.add(Programme(name="Nobody's"))
        with pytest.raises(ClientScopeError):
            session.flush()
        session.rollback()
    assert session.scalar(select(AuditEvent.client_id).where(
        AuditEvent.action == "auth.logout")) is None

def test_with_one_client_nothing_needs_naming(session):
    only = session.scalar(select(Client.id))
    programme = Programme(name="Seul")
    session.add(programme)
    session.flush()
    assert programme.client_id == only == effective_client_id(session)
    session.rollback()


def test_children_take_their_parents_client_without_a_scope(session, two):
    _first, second = two
    with client_scope(second):
        campaign = make_campaign(slug="acme-child")
        session.commit()
    from survey.models import Report

    report = Report(campaign_id=campaign.id, data_sha256="0" * 64, file_name="r.html",
                    file_sha256="0" * 64)
    session.add(report)
    session.flush()
    assert report.client_id == second
    session.rollback()


def test_clients_for_a_user_limited_to_some(session, two):
    from survey.auth.operations import create_user

    first, second = two
    admin = create_user(session, "admin@example.org", "admin", "a-long-password-123",
                        actor="test")
    manager = create_user(session, "m@example.org", "manager", "a-long-password-123",
                          actor="test")
    session.flush()
    assert [c.id for c in clients_for(session, manager)] == [second, first]  # slug order
    session.add(UserClient(user_id=manager.id, client_id=second))
    session.add(UserClient(user_id=admin.id, client_id=second))
    session.flush()
    assert [c.id for c in clients_for(session, manager)] == [second]
    assert len(clients_for(session, admin)) == 2
    session.rollback()


def test_another_clients_campaign_is_404_on_the_web(app, client, session, two):
    from tests.distribution.builders import login_manager_user

    first, second = two
    with client_scope(second):
        make_campaign(slug="acme-web")
        session.commit()
    with client_scope(first):
        make_campaign(slug="ours-web")
        session.commit()
    session.close()  # SQLite's write lock is the requests' now
    login_manager_user(client)
    with client.session_transaction() as cookie:
        cookie["client_id"] = first
    assert client.get("/manage/campaigns/ours-web/status").status_code == 200
    assert client.get("/manage/campaigns/acme-web/status").status_code == 404
    with client.session_transaction() as cookie:
        cookie["client_id"] = second
    assert client.get("/manage/campaigns/acme-web/status").status_code == 200
    assert client.get("/manage/campaigns/ours-web/status").status_code == 404


def test_campaign_slugs_stay_unique_in_the_installation(session, two):
    from survey.campaigns.operations import CampaignError, create_campaign

    first, second = two
    with client_scope(first):
        make_campaign(slug="shared-slug")
        session.commit()
    with client_scope(second), pytest.raises(CampaignError, match="already exists"):
        create_campaign(session, "shared-slug", programme="P", year=2026,
                        questionnaire_key="nf-relation-client", actor="test")
    session.rollback()


def test_sealing_from_one_clients_scope_continues_the_installations_chain(app, session, two):
    """One audit chain for the installation: sealing while working for a client (a command
    run with --client, the demo's second client) links to the last event, whoever's it is."""
    from survey.audit import record_event, seal_pending_events, sealed_head, verify_chain

    first, second = two
    for client_id in (first, second, first):
        with client_scope(client_id):
            record_event(session, "test.event", actor="test", object_type="client",
                         object_id=client_id, summary={}, client_id=client_id)
            session.commit()
            sealed = seal_pending_events(session, key=app.config["AUDIT_KEY"],
                                         instance_path=app.config["INSTANCE_PATH"])
            assert sealed.sealed >= 1
            assert sealed_head(session).seq == sealed.head.seq
    assert verify_chain(session, key=app.config["AUDIT_KEY"]).ok
