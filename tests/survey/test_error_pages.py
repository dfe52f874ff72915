"""Error pages speak the person's language, inside the product's frame, with no internals."""

from __future__ import annotations

from tests.trust.helpers import login, make_user


def test_an_unknown_address_is_a_french_page_for_a_french_reader(client) -> None:
    response = client.get("/no-such-page", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Page introuvable" in page
    assert "Not Found" not in page
    assert '<html lang="fr">' in page


def test_the_same_address_in_english(client) -> None:
    response = client.get("/no-such-page?lang=en")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Page not found" in page
    assert "requested URL was not found" not in page


def test_a_refused_page_says_so_in_words_and_keeps_its_status(app, client) -> None:
    make_user(app, "auditor@example.org", "auditor")
    login(client, "auditor@example.org")
    response = client.get("/manage/follow-ups?lang=fr")
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "Accès refusé" in page
    assert "Aller à la page d'accueil" in page


def test_a_wrong_method_keeps_the_allow_header(client) -> None:
    response = client.delete("/login?lang=en")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert "Action not allowed here" in response.get_data(as_text=True)


def test_a_download_address_answers_without_a_page(client) -> None:
    # A browser asked, but the route sends files: a line of text, whatever Accept says.
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    for path in ("/p/nobody/results.json", "/p/nobody/results.csv", "/p/nobody/poster-a4.pdf",
                 "/p/nobody/badge.svg"):
        response = client.get(path, headers=browser)
        assert response.status_code == 404, path
        assert response.mimetype == "text/plain", path
        assert "<html" not in response.get_data(as_text=True)


def test_the_route_and_the_accept_header_decide_not_the_address_s_ending(client) -> None:
    # No route sends a file here: a person's browser gets the page, even at an address that
    # ends like a file's.
    page = client.get("/manage/nothing.csv", headers={"Accept": "text/html,*/*;q=0.8"})
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert "<html" in page.get_data(as_text=True)
    # A program that asks for JSON gets a line it can log, at any address.
    program = client.get("/no-such-page", headers={"Accept": "application/json"})
    assert program.status_code == 404 and program.mimetype == "text/plain"
    assert program.get_data(as_text=True).startswith("404 ")
    # A client that accepts anything (curl) gets the page, as without an Accept header.
    assert client.get("/no-such-page", headers={"Accept": "*/*"}).mimetype == "text/html"


def test_an_expired_form_is_explained(app) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    response = app.test_client().post("/login?lang=fr", data={"email": "x", "password": "y"})
    assert response.status_code == 400
    assert "Le formulaire a expiré" in response.get_data(as_text=True)
