"""Who may open what: every rule of the application, for each role and without a login.

The table below is the access policy written out. A rule missing from it fails the test, so
that every new route is classified when it is added. Requests use a real seeded year (the
demo's): URL parameters are a real campaign, report, follow-up, token and outbox file.
POST-only routes are posted with an empty form, which managers see refused (an invalid form,
or an action the campaign's state does not allow: closing is asked of the closed campaign),
so that the walk changes no data.
"""

from __future__ import annotations

import io
import json
import re
import zipfile

from flask.testing import FlaskClient

from tests.trust.helpers import logged_in

LOGIN = "login"  # a redirect to the login page
ROLES = ("anonymous", "auditor", "manager", "admin", "client_viewer")

# endpoint: expected answer for (anonymous, auditor, manager, admin, client_viewer). A client's
# viewer (a client's own staff) reads aggregates only: VIEWER pages; every other page is 403.
VIEWER = (LOGIN, 200, 200, 200, 200)
READER = (LOGIN, 200, 200, 200, 403)
MANAGER = (LOGIN, 403, 200, 200, 403)
ADMIN = (LOGIN, 403, 403, 200, 403)
PUBLIC = (200, 200, 200, 200, 200)
TABLE: dict[str, tuple[object, ...]] = {
    "static": PUBLIC,
    "main.home": PUBLIC,
    "health.healthz": ({200, 503},) * 5,  # 503 when no sender worker runs: still public
    "auth.login": PUBLIC,
    "auth.logout": (LOGIN, 302, 302, 302, 302),
    "auth.password": VIEWER,  # everyone changes their own password
    "auth.reset": (404,) * 5,  # a token that is no reset link's
    # Accounts and the trail
    "admin.users": ADMIN,
    "admin.create": (LOGIN, 403, 403, 400, 403),  # an empty form is refused, nothing created
    "admin.change_role": (LOGIN, 403, 403, 400, 403),
    "admin.change_active": (LOGIN, 403, 403, 400, 403),
    "admin.send_reset": (LOGIN, 403, 403, 302, 403),  # emails the auditor a reset link
    "admin.change_clients": (LOGIN, 403, 403, 302, 403),  # none chosen: the auditor's, unchanged
    # The client switcher: a post without a client is refused, for whoever is signed in
    "clients.switch": (LOGIN, 400, 400, 400, 400),
    "admin.audit": READER,
    # Client settings: the list and creation are admins'; a manager edits the branding of the
    # clients they work for (every client, for a manager limited to none)
    "clients.index": (LOGIN, 403, 302, 200, 403),  # one client: a manager goes to its page
    "clients.create": (LOGIN, 403, 403, 400, 403),  # an empty form is refused, nothing created
    "clients.edit": MANAGER,
    "clients.save": (LOGIN, 403, 302, 302, 403),  # blank fields: the client has none set
    # A client's logo and colour: public (respondents see them); a guessed hash is 404
    "clients.logo": (404,) * 5,
    "clients.colours": PUBLIC,
    # Campaigns
    "campaigns.index": VIEWER,
    "campaigns.campaign": VIEWER,
    "campaigns.questionnaire_preview": VIEWER,
    "campaigns.reminders": (LOGIN, 403, 422, 422, 403),  # a post without the days is refused
    # Customer base and sampling
    "frame.customers": MANAGER,
    "frame.plan": READER,
    "frame.save_plan": (LOGIN, 403, 422, 422, 403),  # an empty plan is refused
    "frame.draw": (LOGIN, 403, 422, 422, 403),  # no seed given
    # Distribution
    "distribution.plotly_js": PUBLIC,  # a static library, no data
    "distribution.status": VIEWER,  # dispositions and rates, no personal data
    "distribution.messages": MANAGER,
    "distribution.email_html_preview": MANAGER,
    "distribution.launch": (LOGIN, 403, 400, 400, 403),
    "distribution.close": (LOGIN, 403, 302, 302, 403),
    "distribution.outbox_index": MANAGER,
    "distribution.outbox_file": MANAGER,
    "distribution.unsubscribe": PUBLIC,  # the personal token is the credential
    "distribution.sendgrid_webhook": (403,) * 5,  # no valid signature
    "distribution.twilio_webhook": (403,) * 5,
    # Reports
    "reporting.reports": VIEWER,
    "reporting.latest_report": (LOGIN, 302, 302, 302, 302),
    "reporting.report_file": VIEWER,
    "reporting.export": READER,
    # Auditors' first: a pack holds no personal data. Asking queues its job (run by no worker
    # here) and shows its page.
    "reporting.audit_pack": (LOGIN, 303, 303, 303, 403),
    "reporting.audit_pack_file": READER,  # a pack the fixture's worker made
    "reporting.dashboard": VIEWER,
    # Weighting: read by auditors; changed by managers (an empty form is refused)
    "weighting.weighting": READER,
    "weighting.save_weighting": (LOGIN, 403, 422, 422, 403),
    # Follow-ups: the queue and each follow-up hold customers' answers and contacts; the
    # loop's figures are aggregates an auditor reads
    "followups.queue": MANAGER,
    "followups.assign_many": (LOGIN, 403, 303, 303, 403),  # nothing selected: back to the queue
    "followups.follow_up": MANAGER,
    "followups.add_note": (LOGIN, 403, 200, 200, 403),  # an empty note is refused on the page
    "followups.assign": (LOGIN, 403, 200, 200, 403),  # no owner chosen
    "followups.close": (LOGIN, 403, 200, 200, 403),  # no outcome chosen
    "followups.reopen": (LOGIN, 403, {200, 303}, {200, 303}, 403),  # reopened if it was closed
    "followups.campaign_follow_ups": (LOGIN, 403, 302, 302, 403),  # moved to the queue
    "followups.campaign_follow_up": (LOGIN, 403, 302, 302, 403),
    "followups.export": MANAGER,
    "followups.figures": VIEWER,
    "followups.service_levels": MANAGER,
    # Background jobs: a report's job is read like the reports (an import's, like the customer
    # base, by managers only: tests/jobs/test_jobs.py)
    "jobs.job": READER,
    # The questionnaire editor: the walk's key is a template's, which has frozen versions but
    # no draft (a draft's pages answer 404; their roles are checked in tests/editor)
    "editor.index": READER,
    "editor.create": (LOGIN, 403, 400, 400, 403),  # no source given
    "editor.upload": (LOGIN, 403, 303, 303, 403),  # no file: back to the list, saying so
    "editor.draft": (LOGIN, 404, 404, 404, 403),
    "editor.texts": (LOGIN, 403, 404, 404, 403),
    "editor.add_page": (LOGIN, 403, 404, 404, 403),
    "editor.page": (LOGIN, 403, 404, 404, 403),
    "editor.question_action": (LOGIN, 403, 404, 404, 403),
    "editor.question": (LOGIN, 404, 404, 404, 403),
    "editor.undo": (LOGIN, 403, 404, 404, 403),
    "editor.freeze": (LOGIN, 403, 404, 404, 403),
    "editor.delete": (LOGIN, 403, 404, 404, 403),
    "editor.export_draft": (LOGIN, 404, 404, 404, 403),
    "editor.preview": (LOGIN, 404, 404, 404, 403),
    "editor.preview_page": (LOGIN, 404, 404, 404, 403),
    "editor.preview_end": (LOGIN, 404, 404, 404, 403),
    "editor.preview_restart": (LOGIN, 404, 404, 404, 403),
    "editor.versions": READER,
    "editor.export_version": READER,
    "editor.export_template": READER,
    "editor.campaign_questionnaire": READER,
    # Programmes: performance criteria read by auditors, changed by managers (an empty form is
    # refused)
    "publication.programmes": READER,
    "publication.criteria": READER,
    "publication.define_criterion": (LOGIN, 403, 422, 422, 403),
    "publication.import_criteria": (LOGIN, 403, 422, 422, 403),
    "publication.record_value": (LOGIN, 403, 422, 422, 403),
    "publication.publication": READER,  # an auditor reads it; only managers publish
    "publication.withdraw": (LOGIN, 403, 400, 400, 403),  # a post without its button's field
    # The improvement plan: read by auditors, written by managers (an empty form is refused;
    # the walk's action is the demo's first)
    "improvement.index": READER,
    "improvement.export": READER,
    "improvement.create": MANAGER,
    "improvement.action": READER,
    "improvement.edit": MANAGER,
    "improvement.change_status": (LOGIN, 403, 422, 422, 403),
    "improvement.campaign_plan": READER,
    "programmes.method": READER,  # an auditor reads the survey's method; managers change it
    # The published results: anyone, without login (the demo publishes its programme)
    "public.page": PUBLIC,
    "public.results_json": PUBLIC,
    "public.results_csv": PUBLIC,
    "public.poster": ({200, 503},) * 5,  # 503 (come back) until a worker has printed it
    "public.badge": PUBLIC,
    # Respondents: the token is the credential, whoever is logged in
    "respond.resume": PUBLIC,  # a first visit shows the first page
    "respond.page": PUBLIC,
    "respond.thanks": (303,) * 5,  # not answered yet: back to the questionnaire
}


def _parameters(seeded, rule) -> dict[str, object]:
    values = {
        "slug": seeded.closed_slug if rule.endpoint == "distribution.close" else seeded.open_slug,
        "report_id": seeded.report_id, "follow_up_id": seeded.follow_up_id, "fmt": "csv",
        "wording": "invitation", "language": "fr", "name": seeded.outbox_file,
        "key": "nf-relation-client", "token": seeded.token, "page_index": 0,
        "user_id": seeded.users["auditor"], "filename": "barometre.css",
        "job_id": seeded.report_job_id, "page": 0, "index": 0, "lang": "fr", "number": 1,
        "programme_id": seeded.programme_id, "publication_slug": "service-client",
        "client_id": 1, "digest": "0" * 16, "colour": "1d6b2f",
        "size": "a4", "pack_id": seeded.pack_job_id, "action_id": seeded.action_id,
    }
    missing = set(rule.arguments) - set(values)
    assert not missing, f"{rule.rule}: no value for {missing}; add one to the test"
    return {name: values[name] for name in rule.arguments}


def _rules(app):
    # Logging out ends the session: it goes last.
    return sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint == "auth.logout", r.rule))


def _clients(seeded) -> dict[str, FlaskClient]:
    clients = {"anonymous": seeded.app.test_client()}
    for role in ROLES[1:]:
        clients[role] = logged_in(seeded.app, f"{role}@trust.example")
    return clients


def _status_matches(response, expected) -> bool:
    if expected == LOGIN:
        return response.status_code == 302 and "/login" in response.headers["Location"]
    if isinstance(expected, set):
        return response.status_code in expected
    return response.status_code == expected


def test_every_rule_answers_each_role_as_the_table_says(seeded) -> None:
    app = seeded.app
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert not endpoints - set(TABLE), f"classify these routes in TABLE: {endpoints - set(TABLE)}"
    assert not set(TABLE) - endpoints, f"routes gone: {set(TABLE) - endpoints}"
    clients = _clients(seeded)
    wrong = []
    for rule in _rules(app):
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **_parameters(seeded, rule))
        method = "GET" if "GET" in rule.methods else "POST"
        for role, expected in zip(ROLES, TABLE[rule.endpoint], strict=True):
            try:
                response = clients[role].open(url, method=method)
            except Exception as error:  # noqa: BLE001 - every route is reported, not the first
                wrong.append(f"{method} {url} as {role}: {error!r}")
                continue
            if not _status_matches(response, expected):
                wrong.append(f"{method} {url} as {role}: {response.status_code}, "
                             f"expected {expected}")
    assert not wrong, "\n".join(wrong)


# --- an auditor never sees a customer's email, phone or name --------------------------------


def _visible_text(response) -> str:
    """The page as text, with JSON's \\u escapes and an XLSX's XML unpacked."""
    data = response.data
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            data = b"".join(archive.read(name) for name in archive.namelist())
    text = data.decode("utf-8", errors="replace") + data.decode("latin-1")
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)


def _personal_data_in(seeded, text: str) -> set[str]:
    found = set(re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", text)) & seeded.emails
    found |= set(re.findall(r"\+\d{8,15}", text)) & seeded.phones
    words = re.findall(r"[^\W\d_]+(?:[-'][^\W\d_]+)*", text)
    found |= {f"{a} {b}" for a, b in zip(words, words[1:], strict=False)} & seeded.names
    return found


def _readable_urls(seeded) -> list[str]:
    """Every GET page of the application, with real parameters, and the other pages of each
    campaign (exports in every format, reports, dashboard)."""
    app = seeded.app
    urls = []
    for rule in _rules(app):
        if "GET" not in rule.methods or rule.endpoint in ("static", "distribution.plotly_js"):
            continue
        with app.test_request_context():
            from flask import url_for

            urls.append(url_for(rule.endpoint, **_parameters(seeded, rule)))
    for slug in (seeded.open_slug, seeded.closed_slug):
        base = f"/manage/campaigns/{slug}"
        urls += [f"{base}/{page}" for page in (
            "export.csv", "export.xlsx", "export.sav", "export.design.json",
            "export.csv?excel=fr", "reports", "dashboard", "reports/latest")]
        urls.append(f"{base}")
    # (The closed demo campaign's plan page is left out: its synthetic plan lacks fields the
    # page reads, reported to the frame's maintainers; the open campaign's plan is walked.)
    urls += ["/audit?page=2", "/audit?action=customers.import"]
    return urls


def test_an_auditor_sees_no_personal_data_anywhere_it_can_go(seeded) -> None:
    app = seeded.app
    auditor = logged_in(app, "auditor@trust.example")
    manager = logged_in(app, "manager@trust.example")
    urls = _readable_urls(seeded)
    opened = 0
    for url in urls:
        response = auditor.get(url, follow_redirects=True)
        if response.status_code != 200:
            continue
        opened += 1
        leaked = _personal_data_in(seeded, _visible_text(response))
        assert not leaked, f"{url} shows an auditor {sorted(leaked)[:3]}"
    assert opened >= 25
    # The check itself works: a manager's outbox file and follow-up show a customer's contact.
    outbox = manager.get(f"/manage/outbox/{seeded.outbox_file}")
    assert _personal_data_in(seeded, _visible_text(outbox))


def test_the_published_results_hold_no_personal_data(seeded) -> None:
    """The demo's published page, its JSON and CSV, in both languages: no email, phone or name
    of the customer base."""
    anonymous = seeded.app.test_client()
    for path in ("/p/service-client", "/p/service-client?lang=en",
                 "/p/service-client/results.json", "/p/service-client/results.csv"):
        response = anonymous.get(path)
        assert response.status_code == 200, path
        text = _visible_text(response)
        assert not _personal_data_in(seeded, text), path
        assert not re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", response.get_data(as_text=True)), path
    # The check itself sees a name when one is there.
    name = sorted(seeded.names)[0]
    assert _personal_data_in(seeded, f"x {name} y")


def test_the_export_an_auditor_downloads_is_the_respondents_data(seeded) -> None:
    auditor = logged_in(seeded.app, "auditor@trust.example")
    design = auditor.get(f"/manage/campaigns/{seeded.closed_slug}/export.design.json")
    assert design.status_code == 200
    assert json.loads(design.data)["indicators"]
    data = auditor.get(f"/manage/campaigns/{seeded.closed_slug}/export.csv")
    assert data.status_code == 200 and data.data.count(b"\n") > 50


# --- a client's viewer: aggregates, never a customer ----------------------------------------


def _external_ids_in(seeded, text: str) -> set[str]:
    return set(re.findall(r"[\w-]+", text)) & seeded.external_ids


def test_a_client_viewer_sees_no_customer_anywhere_it_can_go(seeded) -> None:
    """Every page a client's viewer opens (and the file each link on it leads to) holds no
    email, phone, name or external id of the customer base."""
    app = seeded.app
    viewer = logged_in(app, "client_viewer@trust.example")
    urls = _readable_urls(seeded)
    urls += [f"/manage/campaigns/{seeded.open_slug}/reports/{seeded.report_id}?download=1"]
    opened = set()
    for url in urls:
        response = viewer.get(url, follow_redirects=True)
        if response.status_code != 200:
            assert response.status_code in (403, 404, 503), f"{url}: {response.status_code}"
            continue
        opened.add(url.split("?")[0])
        text = _visible_text(response)
        leaked = _personal_data_in(seeded, text) | _external_ids_in(seeded, text)
        assert not leaked, f"{url} shows a client's viewer {sorted(leaked)[:3]}"
    # What the viewer is there for: the dashboard, the campaigns' figures, the reports, the
    # fieldwork rates, the follow-up figures and the published results.
    slug = seeded.open_slug
    assert {"/", "/manage/campaigns", f"/manage/campaigns/{slug}",
            f"/manage/campaigns/{slug}/reports", f"/manage/campaigns/{slug}/dashboard",
            f"/manage/campaigns/{slug}/reports/{seeded.report_id}",
            "/manage/follow-ups/figures", "/p/service-client"} <= opened
    # Nothing row by row: no export of the respondents' data, no auditor's pack, no trail.
    for url in (f"/manage/campaigns/{slug}/export.csv", "/audit", "/manage/customers"):
        assert viewer.get(url).status_code == 403, url
    # The check itself works: the customer base's identifiers are found where they are.
    manager = logged_in(app, "manager@trust.example")
    outbox = _visible_text(manager.get(f"/manage/outbox/{seeded.outbox_file}"))
    assert _personal_data_in(seeded, outbox)
    assert _external_ids_in(seeded, f"x {sorted(seeded.external_ids)[0]} y")


def test_a_client_viewer_is_shown_only_links_it_may_open(seeded) -> None:
    """The navigation and the links of the viewer's pages lead to pages that open: no export,
    pack, follow-up queue, customer base or trail is offered."""
    viewer = logged_in(seeded.app, "client_viewer@trust.example")
    slug = seeded.open_slug
    pages = ["/", "/manage/campaigns", f"/manage/campaigns/{slug}",
             f"/manage/campaigns/{slug}/reports", f"/manage/campaigns/{slug}/dashboard",
             f"/manage/campaigns/{slug}/status", "/manage/follow-ups/figures"]
    checked = set()
    for page in pages:
        response = viewer.get(page + "?lang=en")
        assert response.status_code == 200, page
        html = response.get_data(as_text=True)
        for href in re.findall(r'href="(/[^"#]*)', html):
            href = href.replace("&amp;", "&")
            if href in checked or href.startswith(("/static/", "/logout")):
                continue
            checked.add(href)
            # (A 404 is no refusal: the campaign page links to the bundled preview of a
            # questionnaire written in the editor, for every role; reported separately.)
            code = viewer.get(href).status_code
            assert code in (200, 302, 404), f"{page} links to {href}, which answers {code}"
    home = viewer.get("/?lang=en").get_data(as_text=True)
    menu = home[home.index('aria-label="Main menu"'):]
    menu = menu[:menu.index("</nav>")]
    assert ">Follow-up figures</a>" in menu and ">Campaigns</a>" in menu
    for place in ("Customer base", "Audit trail", "Improvement plan", "Programmes", "Users"):
        assert f">{place}</a>" not in menu, place
    reports = viewer.get(f"/manage/campaigns/{slug}/reports?lang=en").get_data(as_text=True)
    assert "export.csv" not in reports and "audit-pack" not in reports
    assert "(Client viewer)" in home  # the role's label, never its code
