"""The managers' navigation: the places of the application, who may go there, and which one a
page belongs to.

Every manager page shows the same bar (`templates/_components/nav.html`); the current place is
marked with `aria-current="page"`. A page belongs to the place whose blueprint (or endpoint)
drew it; a page may also say so itself with `{% set nav_place = "..." %}`.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.routing import BuildError

from survey.auth.roles import may_open

__all__ = ["NavItem", "NAVIGATION", "navigation", "current_place"]


@dataclass(frozen=True)
class NavItem:
    key: str
    label: object  # a lazy translation
    endpoint: str
    roles: tuple[str, ...]
    # Endpoints and blueprints whose pages belong to this place.
    blueprints: tuple[str, ...] = ()
    endpoints: tuple[str, ...] = ()


ALL = ("admin", "manager", "auditor", "client_viewer")
NAVIGATION: list[NavItem] = [
    NavItem("home", _l("Dashboard"), "main.home", ALL, endpoints=("main.home",)),
    NavItem("campaigns", _l("Campaigns"), "campaigns.index", ALL,
            blueprints=("campaigns", "distribution", "editor"),
            endpoints=("frame.plan", "reporting.reports", "reporting.dashboard")),
    NavItem("customers", _l("Customer base"), "frame.customers", ("admin", "manager"),
            blueprints=("frame",)),
    NavItem("followups", _l("Follow-ups"), "followups.queue", ("admin", "manager"),
            blueprints=("followups",)),
    # Auditors and a client's viewers read the loop's figures, not its queue.
    NavItem("followup_figures", _l("Follow-up figures"), "followups.figures",
            ("auditor", "client_viewer"), endpoints=("followups.figures",)),
    NavItem("improvement", _l("Improvement plan"), "improvement.index",
            ("admin", "manager", "auditor"), blueprints=("improvement",)),
    NavItem("reports", _l("Reports"), "reporting.all_reports", ALL,
            endpoints=("reporting.all_reports", "reporting.latest_report")),
    NavItem("programmes", _l("Programmes"), "publication.programmes",
            ("admin", "manager", "auditor"), blueprints=("publication",)),
    NavItem("audit", _l("Audit trail"), "admin.audit", ("admin", "manager", "auditor"),
            endpoints=("admin.audit",)),
    NavItem("clients", _l("Clients"), "clients.index", ("admin", "manager"),
            blueprints=("clients",)),
    NavItem("users", _l("Users"), "admin.users", ("admin",), endpoints=("admin.users",)),
]


def _works_for_several_clients() -> bool:
    from survey.clients.scope import clients_for
    from survey.extensions import db

    return len(clients_for(db.session, current_user)) > 1


def current_place(items: list[NavItem] | None = None) -> str | None:
    """The key of the place (among `items`, by default all) the current page belongs to."""
    endpoint = request.endpoint or ""
    blueprint = endpoint.split(".", 1)[0] if "." in endpoint else ""
    items = NAVIGATION if items is None else items
    for item in items:
        if endpoint in item.endpoints:
            return item.key
    for item in items:
        if blueprint in item.blueprints:
            return item.key
    return None


def navigation() -> list[dict[str, object]]:
    """The places the signed-in person may go to, each with its URL and whether it is current."""
    if not current_user.is_authenticated:
        return []
    # A place is listed only when its page opens for this role (survey/auth/roles.py).
    visible = [item for item in NAVIGATION
               if current_user.role in item.roles and may_open(item.endpoint)]
    place = current_place(visible)
    items = []
    for item in visible:
        if item.key == "clients" and not _works_for_several_clients():
            # A centre working for itself never sees the word: its settings page is reached
            # from the users' page.
            continue
        try:
            url = url_for(item.endpoint)
        except BuildError:  # a place whose pages are not in this application (yet)
            continue
        items.append({"key": item.key, "label": item.label, "url": url,
                      "current": item.key == place})
    return items
