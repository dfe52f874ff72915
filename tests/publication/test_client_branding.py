"""The published results wear the publishing client's branding (issue #16), whoever opens
them: an anonymous visitor of an installation with several clients sees the publication's
client's name and colour, not another's and not barometre's."""

from __future__ import annotations

from survey.extensions import db
from survey.models import Client
from tests.publication.test_public import _manager


def test_the_public_page_is_the_publishing_clients(app, client, campaigns) -> None:
    _manager(app, client)
    client.post(f"/manage/programmes/{campaigns['programme_id']}/publication",
                data={"publish-slug": "service-client"})
    anonymous = app.test_client()
    before = anonymous.get("/p/service-client").get_data(as_text=True)
    assert "/brand/" not in before  # unbranded: as before clients
    with app.app_context():
        db.session.add(Client(slug="other", name="Other", display_name="Other Co",
                              primary_colour="#a4000f"))
        publisher = db.session.get(Client, 1)
        publisher.display_name, publisher.primary_colour = "Acme Énergie", "#1d6b2f"
        db.session.commit()
    html = anonymous.get("/p/service-client").get_data(as_text=True)
    assert '<link rel="stylesheet" href="/brand/1d6b2f.css">' in html
    assert "Acme Énergie" in html and "Other Co" not in html and "a4000f" not in html
