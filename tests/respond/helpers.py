"""Building a campaign on the bundled questionnaire and answering it through the pages."""

from __future__ import annotations

from survey.campaigns.operations import create_campaign
from survey.extensions import db
from survey.models import Campaign, CampaignStatus, Invitation
from survey.tokens import issue_token
from tests.survey.factories import make_customer

SECRET = "test-secret-key-that-is-long-enough-0123456789"

# One answer per page of `nf-relation-client` that shows every conditional question.
PAGES: list[dict[str, list[str]]] = [
    {"channels_used": ["phone", "email"], "contact_reason": ["billing"], "complaint": ["yes"]},
    {
        "ease_of_reaching": ["4"],
        "cost_information": ["na"],
        "phone_wait": ["2"],
        "written_reply_time": ["5"],
    },
    {
        "courtesy": ["5"],
        "professionalism": ["4"],
        "confidentiality": ["na"],
        "answer_reliability": ["3"],
        "mutual_understanding": ["4"],
        "next_steps": ["4"],
        "complaint_handling": ["2"],
    },
    {
        "overall": ["2"],
        "nps": ["5"],
        "comment": ["Trop d’attente.\r\nMerci."],
        "callback": ["yes"],
        "callback_channel": ["phone"],
        "callback_consent": ["y"],
    },
]

STORED = {
    "channels_used": ["phone", "email"],
    "contact_reason": "billing",
    "complaint": True,
    "ease_of_reaching": 4,
    "cost_information": "na",
    "phone_wait": 2,
    "written_reply_time": 5,
    "courtesy": 5,
    "professionalism": 4,
    "confidentiality": "na",
    "answer_reliability": 3,
    "mutual_understanding": 4,
    "next_steps": 4,
    "complaint_handling": 2,
    "overall": 2,
    "nps": 5,
    "comment": "Trop d’attente.\nMerci.",
    "callback": {"requested": True, "channel": "phone", "consent": True},
}


def open_campaign(
    status: str = CampaignStatus.OPEN.value, slug: str = "barometre-2026"
) -> Campaign:
    campaign = create_campaign(
        db.session,
        slug,
        programme="Baromètre satisfaction",
        year=2026,
        questionnaire_key="nf-relation-client",
        actor="test",
    )
    campaign.status = status
    db.session.flush()
    return campaign


def make_link(campaign: Campaign, **fields) -> tuple[Invitation, str]:
    """An invitation of `campaign` and the path of its link."""
    salt, token, token_hash = issue_token(SECRET)
    invitation = Invitation(
        campaign=campaign,
        customer=fields.pop("customer", None) or make_customer(),
        stratum=fields.pop("stratum", "A"),
        design_weight=fields.pop("design_weight", 10.0),
        token_salt=salt,
        token_hash=token_hash,
        **fields,
    )
    db.session.add(invitation)
    db.session.commit()
    return invitation, f"/r/{token}"


def as_form(page: dict[str, list[str]], revision: int | None = None) -> list[tuple[str, str]]:
    """A submitted page as (name, value) pairs, as a browser sends repeated checkboxes."""
    pairs = [(name, value) for name, values in page.items() for value in values]
    if revision is not None:
        pairs.append(("_revision", str(revision)))
    return pairs


def post_page(client, link: str, index: int, page: dict[str, list[str]], revision=None):
    from werkzeug.datastructures import MultiDict

    return client.post(f"{link}/{index}", data=MultiDict(as_form(page, revision)))


def answer_all(client, link: str, pages=PAGES) -> None:
    for index, page in enumerate(pages):
        reply = post_page(client, link, index, page)
        assert reply.status_code == 303, (index, reply.get_data(as_text=True)[:2000])
