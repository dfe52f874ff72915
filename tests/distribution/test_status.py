"""Campaign status: figures, RR2, the fieldwork curve, and the manager's pages."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from survey.distribution.operations import launch_campaign
from survey.distribution.status import campaign_status
from survey.extensions import db
from tests.distribution.builders import add_invitation, login_manager_user, sampled_campaign
from tests.survey.factories import make_response


def test_status_counts_dispositions_messages_and_rr2(app):
    with app.app_context():
        campaign = sampled_campaign(app, emails=4)
        launch_campaign(db.session, campaign, secret_key=app.config["SECRET_KEY"], actor="test")
        test_one = add_invitation(app, campaign, email="t@example.org", is_test=True)
        invitations = sorted(campaign_invitations(campaign), key=lambda i: i.id)
        day1, day2 = datetime(2026, 3, 3, 10, tzinfo=UTC), datetime(2026, 3, 5, 10, tzinfo=UTC)
        for invitation, when in ((invitations[0], day1), (invitations[1], day2)):
            invitation.disposition = "complete"
            make_response(invitation, status="complete", completed_at=when)
        invitations[2].disposition = "partial"
        make_response(invitations[2])
        test_one.disposition = "complete"
        make_response(test_one, status="complete", completed_at=day1)  # never counted
        db.session.commit()

        status = campaign_status(db.session, campaign)
        assert status["invitations"] == 4
        assert (status["completes"], status["partials"]) == (2, 1)
        assert status["dispositions"]["pending"] == 1
        assert status["messages"] == {"email": {"queued": 4}}
        assert status["rr2"] == 3 / 4  # (I + P) / all eligible
        assert status["responses_per_day"] == [
            {"date": "2026-03-03", "completes": 1, "cumulative": 1},
            {"date": "2026-03-05", "completes": 1, "cumulative": 2},
        ]


def test_status_gives_respondents_against_target_per_channel(app, client):
    """Issue #15: the fieldwork page shows each channel's respondents against its share of the
    plan's target (its share of the invitations)."""
    with app.app_context():
        campaign = sampled_campaign(app, emails=3, phones=1)
        launch_campaign(db.session, campaign, secret_key=app.config["SECRET_KEY"], actor="test")
        campaign.plan = {**(campaign.plan or {}), "respondents": 8}
        invitations = sorted(campaign_invitations(campaign), key=lambda i: i.id)
        by_channel = {}
        for invitation in invitations:
            by_channel.setdefault(invitation.channel, []).append(invitation)
        done = by_channel["email"][0]
        done.disposition = "complete"
        make_response(done, status="complete", completed_at=datetime(2026, 3, 3, tzinfo=UTC))
        db.session.commit()
        status = campaign_status(db.session, campaign)
        counts = {c["channel"]: c for c in status["channels"]}
        emails, sms = len(by_channel["email"]), len(by_channel["sms"])
        assert counts["email"]["invitations"] == emails and counts["sms"]["invitations"] == sms
        assert counts["email"]["completes"] == 1 and counts["sms"]["completes"] == 0
        assert counts["email"]["target"] == round(8 * emails / (emails + sms))
        assert counts["sms"]["target"] == round(8 * sms / (emails + sms))
        slug = campaign.slug
    login_manager_user(client)
    html = client.get(f"/manage/campaigns/{slug}/status?lang=en").get_data(as_text=True)
    assert "Respondents against the target, by channel" in html
    row = re.search(r'<th scope="row">SMS</th>(.*?)</tr>', html, re.S)
    assert row and f'<td class="num">{sms}</td>' in row.group(1)


def campaign_invitations(campaign):
    from sqlalchemy import select

    from survey.models import Invitation

    return db.session.scalars(select(Invitation).where(
        Invitation.campaign_id == campaign.id, Invitation.is_test.is_(False))).all()


def test_manager_pages_show_status_curve_and_previews(app, client):
    with app.app_context():
        campaign = sampled_campaign(app, emails=1, phones=1)
        launch_campaign(db.session, campaign, secret_key=app.config["SECRET_KEY"], actor="test")
        db.session.commit()
        slug = campaign.slug
    assert client.get(f"/manage/campaigns/{slug}/status").status_code == 302
    login_manager_user(client)
    page = client.get(f"/manage/campaigns/{slug}/status")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'src="/manage/assets/plotly.min.js"' in html
    assert "<script>" not in html  # only files and the JSON data block
    block = re.search(r'<script type="application/json" id="fieldwork-figure">(.*?)</script>',
                      html, re.S)
    assert json.loads(block.group(1))["data"][0]["type"] == "bar"
    assert client.get("/manage/assets/plotly.min.js").status_code == 200
    assert client.get("/manage/campaigns/nope/status").status_code == 404

    previews = client.get(f"/manage/campaigns/{slug}/messages").get_data(as_text=True)
    assert "GSM-7" in previews and "1 segment" in previews
    assert "List-Unsubscribe-Post" in previews and "/r/" in previews
    english = client.get(f"/manage/campaigns/{slug}/messages?language=en").get_data(as_text=True)
    assert "Reply STOP" in english
    email = client.get(f"/manage/campaigns/{slug}/messages/finish.en.html")
    assert email.status_code == 200 and b"Finish my answers" in email.data
    assert "script-src" not in email.headers["Content-Security-Policy"]
    assert "default-src 'none'" in email.headers["Content-Security-Policy"]
    assert client.get(f"/manage/campaigns/{slug}/messages/other.en.html").status_code == 404


def test_auditors_cannot_open_manager_pages(app, client):
    with app.app_context():
        campaign = sampled_campaign(app, emails=1)
        slug = campaign.slug
    login_manager_user(client, role="auditor")
    assert client.get(f"/manage/campaigns/{slug}/messages").status_code == 403
    assert client.get("/manage/outbox/").status_code == 403


def test_a_manager_launches_and_closes_from_the_pages(app, client):
    from survey.models import Campaign

    with app.app_context():
        slug = sampled_campaign(app, emails=3).slug
    login_manager_user(client)
    page = client.get(f"/manage/campaigns/{slug}/messages").get_data(as_text=True)
    assert f'action="/manage/campaigns/{slug}/launch"' in page and "<legend>" in page
    bad = client.post(f"/manage/campaigns/{slug}/launch", data={"until": "not a date"})
    assert bad.status_code == 400 and b'role="alert"' in bad.data
    past = client.post(f"/manage/campaigns/{slug}/launch", data={"until": "2001-01-01"})
    assert past.status_code == 400 and b"before the start" in past.data
    done = client.post(f"/manage/campaigns/{slug}/launch", data={"until": "2030-06-30"})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/{slug}/status")
    status = client.get(f"/manage/campaigns/{slug}/status").get_data(as_text=True)
    assert "3" in status and f'action="/manage/campaigns/{slug}/close"' in status
    assert client.post(f"/manage/campaigns/{slug}/close").status_code == 302
    with app.app_context():
        campaign = db.session.scalar(db.select(Campaign).where(Campaign.slug == slug))
        assert campaign.status == "closed"
        assert str(campaign.fieldwork_end) == "2030-06-30"
