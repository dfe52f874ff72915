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
    response = client.get("/p/nobody/results.json")
    assert response.status_code == 404
    assert "<html" not in response.get_data(as_text=True)


def test_an_expired_form_is_explained(app) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    response = app.test_client().post("/login?lang=fr", data={"email": "x", "password": "y"})
    assert response.status_code == 400
    assert "Le formulaire a expiré" in response.get_data(as_text=True)
