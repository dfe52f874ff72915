"""What a campaign's state allows, computed in one place for the pages and the commands."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from survey.models import Campaign, CampaignStatus

STEP_LABELS = {
    "plan": _l("Plan the sample"),
    "draw": _l("Draw the sample"),
    "launch": _l("Launch"),
    "fieldwork": _l("Follow fieldwork"),
    "close": _l("Close fieldwork"),
    "report": _l("Report"),
}


@dataclass(frozen=True)
class Step:
    key: str
    done: bool
    allowed: bool
    reason: str | None  # why it is not allowed now, for the page to say

    @property
    def label(self) -> str:
        return str(STEP_LABELS[self.key])


_ORDER = [s.value for s in CampaignStatus]


def _at_least(campaign: Campaign, status: CampaignStatus) -> bool:
    return _ORDER.index(campaign.status) >= _ORDER.index(status.value)


def campaign_steps(campaign: Campaign) -> list[Step]:
    """The yearly journey of a campaign, each step with whether it is done and allowed now."""
    status = campaign.status
    planned = campaign.plan is not None
    return [
        Step("plan", planned, status == CampaignStatus.DRAFT,
             None if status == CampaignStatus.DRAFT else "the sample is already drawn"),
        Step("draw", _at_least(campaign, CampaignStatus.SAMPLED),
             status in (CampaignStatus.DRAFT, CampaignStatus.SAMPLED) and planned,
             None if planned else "plan the sample first"),
        Step("launch", _at_least(campaign, CampaignStatus.OPEN), status == CampaignStatus.SAMPLED,
             None if status == CampaignStatus.SAMPLED else "draw the sample first"
             if status == CampaignStatus.DRAFT else "fieldwork has already started"),
        Step("fieldwork", _at_least(campaign, CampaignStatus.CLOSED),
             status == CampaignStatus.OPEN,
             None if status == CampaignStatus.OPEN else "launch the campaign first"
             if not _at_least(campaign, CampaignStatus.OPEN) else "fieldwork is closed"),
        Step("close", _at_least(campaign, CampaignStatus.CLOSED), status == CampaignStatus.OPEN,
             None if status == CampaignStatus.OPEN else "fieldwork is not open"),
        Step("report", False, _at_least(campaign, CampaignStatus.OPEN),
             None if _at_least(campaign, CampaignStatus.OPEN) else "no responses yet"),
    ]


def next_step(campaign: Campaign) -> Step | None:
    for step in campaign_steps(campaign):
        if step.allowed and not step.done:
            return step
    return None
