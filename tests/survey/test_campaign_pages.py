import pytest

from survey.auth.operations import create_user
from survey.extensions import db
from survey.models import Campaign

PASSWORD = "a long enough password"


def log_in(app, client, role):
    with app.app_context():
        create_user(db.session, f"{role}@example.org", role, PASSWORD, actor="test")
        db.session.commit()
    client.post("/login", data={"email": f"{role}@example.org", "password": PASSWORD})


NEW = {"slug": "barometre-2026", "programme": "Baromètre", "year": "2026",
       "questionnaire": "nf-relation-client", "channels": ["email", "sms"]}


def test_a_manager_creates_a_campaign_and_sees_its_next_step(app, client) -> None:
    log_in(app, client, "manager")
    response = client.post("/manage/campaigns", data=NEW)
    assert response.status_code == 302
    assert response.headers["Location"] == "/manage/campaigns/barometre-2026"
    page = client.get("/manage/campaigns/barometre-2026?lang=en")
    assert page.status_code == 200
    assert "Plan the sample" in page.text and "possible now" in page.text
    assert "draw the sample first" in page.text  # launch refused, with the reason
    with app.app_context():
        assert db.session.query(Campaign).one().channels == ["email", "sms"]


def test_campaign_creation_errors_are_shown_with_the_field(app, client) -> None:
    log_in(app, client, "manager")
    client.post("/manage/campaigns", data=NEW)
    again = client.post("/manage/campaigns?lang=en", data={**NEW, "slug": "Bad Slug!"})
    assert again.status_code == 200
    assert 'href="#slug"' in again.text and "Lowercase letters" in again.text
    duplicate = client.post("/manage/campaigns?lang=en", data=NEW)
    assert "already exists" in duplicate.text


def test_an_auditor_reads_but_cannot_create(app, client) -> None:
    log_in(app, client, "auditor")
    assert client.get("/manage/campaigns").status_code == 200
    assert client.post("/manage/campaigns", data=NEW).status_code == 403
    with app.app_context():
        assert db.session.query(Campaign).count() == 0


@pytest.mark.parametrize("path", ["/manage/campaigns", "/manage/campaigns/x",
                                  "/manage/questionnaires/nf-relation-client"])
def test_manager_pages_need_a_login(client, path) -> None:
    response = client.get(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_questionnaire_preview_shows_both_languages(app, client) -> None:
    log_in(app, client, "manager")
    page = client.get("/manage/questionnaires/nf-relation-client")
    assert page.status_code == 200
    assert 'lang="fr"' in page.text and 'lang="en"' in page.text
    assert "Très satisfait" in page.text and "Very satisfied" in page.text
    assert client.get("/manage/questionnaires/nope").status_code == 404
