"""What a hostile user would try against each input, and how each attempt fails safely.

One year is built through the real services with hostile data: a customer file whose site
names and customer names carry HTML, uploaded through the manager's page under a traversal
file name; comments and follow-up notes carrying script. Then: XSS, SQL metacharacters, path
traversal, CSRF, token guessing and oversized bodies.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import Flask
from sqlalchemy import delete, func, select, update

from survey.campaigns.operations import create_campaign
from survey.distribution.operations import launch_campaign
from survey.extensions import db
from survey.followups import operations as followup_ops
from survey.frame.sampling import draw_sample, plan_campaign
from survey.frame.synthetic import synthetic_customer_csv
from survey.models import (
    AuditEvent,
    Campaign,
    Customer,
    CustomerImport,
    FollowUp,
    Invitation,
    Report,
    Response,
    ThrottleHit,
    User,
)
from survey.reporting.operations import generate_report
from survey.reporting.synthetic import seed_synthetic_responses
from survey.respond.operations import create_test_invitation
from tests.conftest import empty_all_tables, wait_for_jobs
from tests.trust.conftest import SECRET_KEY, seeded_app
from tests.trust.helpers import PASSWORD, logged_in, make_user

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(2)>"
RAW = (SCRIPT, IMG, "<script>alert(", "<img src=x")
ESCAPED = ("&lt;script&gt;alert(1)&lt;/script&gt;", "\\u003cscript\\u003ealert(1)",
           "&lt;img src=x onerror=alert(2)&gt;")
UPLOAD_NAME = "../../../tmp/evil/../customers.csv"


@dataclass
class Hostile:
    app: Flask
    instance: Path
    slug: str
    follow_up_ids: list[int]
    report_id: int
    test_link: str


@pytest.fixture(scope="module")
def hostile(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    instance = tmp_path_factory.mktemp("hostile-instance")
    app = seeded_app(database_url, instance)
    with app.app_context():
        empty_all_tables()
    for role in ("admin", "manager", "auditor"):
        make_user(app, f"{role}@attack.example", role)
    csv = synthetic_customer_csv(900, seed=5).decode("windows-1252")
    csv = csv.replace(";Lyon\r\n", f";Lyon{SCRIPT}\r\n").replace("Roux;", f"Roux{IMG};")
    manager = logged_in(app, "manager@attack.example")
    uploaded = manager.post("/manage/customers", content_type="multipart/form-data", data={
        "file": (BytesIO(csv.encode("windows-1252")), UPLOAD_NAME)})
    assert uploaded.status_code == 303, uploaded.text[:500]
    wait_for_jobs(app)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Customer)) == 900
        session = db.session
        campaign = create_campaign(session, "hostile", programme="Baromètre", year=2026,
                                   questionnaire_key="nf-relation-client", actor="test")
        plan_campaign(session, campaign, strata_variables=["site"], margin=0.05,
                      confidence=0.95, response_rate=0.4, min_per_stratum=40,
                      secret_key=SECRET_KEY, actor="test")
        draw_sample(session, campaign, 7, secret_key=SECRET_KEY, actor="test")
        launch_campaign(session, campaign, secret_key=SECRET_KEY, actor="test",
                        timezone="Europe/Paris")
        session.commit()
        seed_synthetic_responses(session, campaign, rng_seed=7, n_respondents=150)
        session.commit()
        # What respondents typed in the free comment, for every answer.
        for response in session.scalars(select(Response).join(Invitation).where(
                Invitation.campaign_id == campaign.id)):
            response.answers = {**response.answers, "comment": f"Bien {SCRIPT} merci {IMG}"}
        session.commit()
        manager_id = session.scalar(select(User.id).where(User.role == "manager"))
        follow_ups = session.scalars(select(FollowUp).where(
            FollowUp.campaign_id == campaign.id).order_by(FollowUp.id)).all()
        assert follow_ups
        for item in follow_ups[:3]:
            if item.status == "closed":
                followup_ops.reopen(session, item, actor="test")
            followup_ops.assign(session, item, manager_id, actor="test")
            followup_ops.add_note(session, item, f"Rappeler {SCRIPT}", contact_attempt=True,
                                  actor="test")
        report = generate_report(session, campaign, lang="fr", instance_path=str(instance),
                                 actor="test").report
        link = create_test_invitation(session, campaign, SECRET_KEY, "http://127.0.0.1:5000")
        session.commit()
        built = Hostile(app, instance, campaign.slug, [f.id for f in follow_ups], report.id,
                        link.removeprefix("http://127.0.0.1:5000"))
        # End the read transaction: on SQLite every transaction holds the write lock.
        session.commit()
        session.remove()
    yield built
    with app.app_context():
        db.engine.dispose()


# --- cross-site scripting ------------------------------------------------------------------


def test_hostile_text_is_escaped_on_every_page_that_shows_it(hostile) -> None:
    app, slug = hostile.app, hostile.slug
    base = f"/manage/campaigns/{slug}"
    pages = ["/manage/customers", f"{base}", f"{base}/plan", f"{base}/dashboard",
             f"{base}/status", f"{base}/reports", f"/manage/follow-ups?campaign={slug}",
             "/manage/follow-ups?state=in_progress", f"{base}/reports/{hostile.report_id}",
             "/audit", f"{base}/messages", "/manage/outbox/"]
    pages += [f"/manage/follow-ups/{i}" for i in hostile.follow_up_ids]
    manager = logged_in(app, "manager@attack.example")
    escaped_seen = set()
    for url in pages:
        response = manager.get(url)
        assert response.status_code == 200, url
        text = response.get_data(as_text=True)
        for raw in RAW:
            assert raw not in text, f"{url} renders {raw!r} unescaped"
        escaped_seen |= {url for form in ESCAPED if form in text}
    # The hostile values did reach the pages (escaped): the plan's strata, the notes, the
    # comments in the follow-ups and the report's verbatims and domains.
    assert {f"{base}/plan", f"/manage/follow-ups?campaign={slug}",
            f"{base}/reports/{hostile.report_id}"} <= escaped_seen
    assert any("follow-ups/" in url for url in escaped_seen)


def test_the_stored_report_is_sandboxed_even_if_an_escape_failed(hostile) -> None:
    manager = logged_in(hostile.app, "manager@attack.example")
    response = manager.get(f"/manage/campaigns/{hostile.slug}/reports/{hostile.report_id}")
    policy = response.headers["Content-Security-Policy"]
    assert "sandbox" in policy and "connect-src" not in policy and "default-src 'none'" in policy


def test_the_application_pages_forbid_inline_script(hostile) -> None:
    manager = logged_in(hostile.app, "manager@attack.example")
    for url in ("/manage/customers", f"/manage/campaigns/{hostile.slug}/status", "/audit"):
        policy = manager.get(url).headers["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        assert directives["script-src"] == "'self'", url


# --- SQL metacharacters ----------------------------------------------------------------------

SQL = ["' OR '1'='1", "'; DROP TABLE customer; --", '" OR 1=1 --', "1; SELECT pg_sleep(5)",
       "%' OR 'x' LIKE '%", "\\'; --", "x%00"]


def _counts(app) -> tuple[int, ...]:
    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(model))
                     for model in (Customer, Campaign, Invitation, Response, User, AuditEvent))


@pytest.mark.parametrize("payload", SQL)
def test_sql_metacharacters_in_every_path_and_filter_do_nothing(hostile, payload) -> None:
    app = hostile.app
    manager = logged_in(app, "manager@attack.example")
    before = _counts(app)
    quoted = quote(payload, safe="")
    for url in (f"/manage/campaigns/{quoted}", f"/manage/campaigns/{quoted}/plan",
                f"/manage/campaigns/{quoted}/reports", f"/manage/campaigns/{quoted}/export.csv",
                f"/manage/questionnaires/{quoted}", f"/r/{quoted}", f"/unsubscribe/{quoted}"):
        assert manager.get(url).status_code == 404, url
    for url in (f"/manage/follow-ups?state={quoted}&campaign={quoted}&owner={quoted}",
                f"/audit?campaign={quoted}&action={quoted}",
                f"/manage/campaigns/{hostile.slug}/messages?language={quoted}"):
        response = manager.get(url)
        assert response.status_code == 200, url
    created = manager.post("/manage/campaigns", data={
        "slug": payload, "programme": payload, "year": "2027",
        "questionnaire": "nf-relation-client", "channels": "email"})
    assert created.status_code == 200  # the form says why; nothing is created
    refused = app.test_client().post("/login", data={"email": payload, "password": payload})
    assert refused.status_code == 200
    assert _counts(app) == before
    with app.app_context():  # the data is still there, untouched
        assert db.session.scalar(select(Campaign.slug).where(Campaign.slug == hostile.slug))


def test_a_programme_name_with_quotes_is_stored_as_typed(hostile) -> None:
    manager = logged_in(hostile.app, "manager@attack.example")
    name = "O'Brien \"Centre\"; DROP TABLE campaign; --"
    response = manager.post("/manage/campaigns", data={
        "slug": "quotes-2027", "programme": name, "year": "2027",
        "questionnaire": "nf-relation-client", "channels": "email"})
    assert response.status_code == 302
    with hostile.app.app_context():
        campaign = db.session.scalars(select(Campaign).where(Campaign.slug == "quotes-2027")).one()
        assert campaign.programme.name == name


# --- path traversal --------------------------------------------------------------------------


def test_the_upload_was_not_stored_under_the_name_the_user_chose(hostile) -> None:
    written = {p.name for p in hostile.instance.rglob("*")}
    assert "customers.csv" not in written and "evil" not in written
    assert not Path("/tmp/evil").exists()
    with hostile.app.app_context():  # the name is kept as a label only, shown escaped
        assert db.session.scalars(select(CustomerImport.filename)).first() == UPLOAD_NAME


TRAVERSALS = ["..%2f..%2fsecret_key", "..%2fsecret_key", "%2e%2e%2fsecret_key",
              "....%2f%2fsecret_key", "..%5csecret_key", "%2fetc%2fpasswd",
              "00000001-email.eml%2f..%2f..%2fsecret_key"]


@pytest.mark.parametrize("name", TRAVERSALS)
def test_file_routes_refuse_traversal(hostile, name) -> None:
    manager = logged_in(hostile.app, "manager@attack.example")
    secret = (hostile.instance / "secret_key").read_text() if \
        (hostile.instance / "secret_key").exists() else SECRET_KEY
    slug = hostile.slug
    for url in (f"/manage/outbox/{name}", f"/manage/campaigns/{slug}/export.{name}",
                f"/manage/campaigns/{slug}/reports/{name}", f"/static/{name}",
                f"/manage/campaigns/{slug}/messages/{name}.fr.html",
                f"/manage/campaigns/{slug}/messages/invitation.{name}.html",
                f"/manage/questionnaires/{name}"):
        # (Werkzeug first redirects "//" to "/" on the same site, then answers 404.)
        response = manager.get(url, follow_redirects=True)
        assert response.status_code in (400, 404), f"{url}: {response.status_code}"
        assert response.request.host == "localhost"
        assert secret.encode() not in response.data and b"root:" not in response.data


def test_a_report_file_is_found_by_its_id_never_by_a_stored_name(hostile) -> None:
    with hostile.app.app_context():
        report = db.session.get(Report, hostile.report_id)
        original = report.file_name
        db.session.execute(update(Report).where(Report.id == report.id)
                           .values(file_name="../secret_key"))
        db.session.commit()
    try:
        response = logged_in(hostile.app, "auditor@attack.example").get(
            f"/manage/campaigns/{hostile.slug}/reports/{hostile.report_id}")
        assert response.status_code == 200  # the report itself, from reports/<id>.html
        assert b"<html" in response.data[:2000].lower()
        assert SECRET_KEY.encode() not in response.data
    finally:
        with hostile.app.app_context():
            db.session.execute(update(Report).where(Report.id == hostile.report_id)
                               .values(file_name=original))
            db.session.commit()


# --- CSRF --------------------------------------------------------------------------------------

# Posted to without a CSRF token on purpose, each for its reason (tested by their own suites).
CSRF_EXEMPT = {
    "distribution.sendgrid_webhook": "signed by the provider (Ed25519)",
    "distribution.twilio_webhook": "signed by the provider (HMAC)",
    "distribution.unsubscribe": "RFC 8058 one-click: the personal token is the credential",
}


def test_every_form_refuses_a_post_without_its_csrf_token(hostile, tmp_path) -> None:
    app = seeded_app(hostile.app.config["SQLALCHEMY_DATABASE_URI"], hostile.instance,
                     WTF_CSRF_ENABLED=True)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/login", data={"email": "admin@attack.example",
                                       "password": PASSWORD}).status_code == 400
    assert client.post("/login", data={"email": "admin@attack.example", "password": PASSWORD,
                                       "csrf_token": token}).status_code == 302
    values = {"slug": hostile.slug, "follow_up_id": hostile.follow_up_ids[0], "token": "x",
              "page_index": 0, "report_id": hostile.report_id,
              # The questionnaire editor's forms (a draft's key, page and question, language).
              "key": "nf-relation-client", "page": 0, "index": 0, "lang": "fr",
              # The performance criteria's forms (any programme: the token is checked first).
              "programme_id": 1,
              # The improvement plan's forms (any action: the token is checked first).
              "action_id": 1,
              # The client settings' form (the installation's first client).
              "client_id": 1}
    with app.app_context():
        values["user_id"] = db.session.scalar(select(User.id).where(User.role == "auditor"))
    before = _counts(app)
    checked = []
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.endpoint in CSRF_EXEMPT:
            continue
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **{k: values[k] for k in rule.arguments})
        if rule.endpoint == "respond.page":
            url = f"{hostile.test_link}/0"
        if rule.endpoint == "auth.logout":
            continue  # checked last: it would end the session
        response = client.post(url, data={"role": "admin", "active": "0", "lang": "fr",
                                          "seed": "1", "slug": "csrf-2027", "status": "closed"})
        assert response.status_code == 400, f"{url}: {response.status_code}"
        checked.append(rule.endpoint)
    assert client.post("/logout").status_code == 400
    assert client.get("/admin/users").status_code == 200  # still logged in
    assert _counts(app) == before  # not one change, not one event
    assert len(checked) >= 12


# --- token guessing ----------------------------------------------------------------------------


def test_guessed_links_say_nothing_and_are_throttled(hostile, database_url) -> None:
    app = seeded_app(database_url, hostile.instance, RESPOND_BAD_TOKEN_LIMIT=5)
    with app.app_context():
        # The counts are shared by every server (the database): the earlier tests' bad links
        # from this address are forgotten, as once their window has passed.
        db.session.execute(delete(ThrottleHit))
        db.session.commit()
    client = app.test_client()
    guesses = [client.get(f"/r/{secrets.token_urlsafe(24)}") for _ in range(5)]
    assert {g.status_code for g in guesses} == {404}
    bodies = {g.get_data(as_text=True) for g in guesses}
    assert len(bodies) == 1  # identical whatever the guess: nothing to learn from it
    assert "hostile" not in bodies.pop() and hostile.slug not in guesses[0].get_data(as_text=True)
    refused = client.get(f"/r/{secrets.token_urlsafe(24)}")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    # Even the right link waits: the throttle is per address, not per token.
    assert client.get(hostile.test_link).status_code == 429
    assert app.test_client().get(hostile.test_link,
                                 environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200


# --- oversized bodies --------------------------------------------------------------------------


def test_an_oversized_body_is_refused_before_it_is_read(hostile) -> None:
    app = hostile.app
    limit = app.config["MAX_CONTENT_LENGTH"]
    assert limit <= 64 * 1024 * 1024
    manager = logged_in(app, "manager@attack.example")
    body = b"x" * (limit + 1)
    for url in ("/login", "/manage/customers", f"{hostile.test_link}/0", "/webhooks/sendgrid"):
        response = manager.post(url, data=body, content_type="application/x-www-form-urlencoded")
        assert response.status_code == 413, url
