"""Fieldwork figures of one campaign: what `campaigns status` prints and the manager's page shows.

Test invitations are left out everywhere, as in every statistic.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analysis.aapor import rates_from_dispositions
from survey.distribution.operations import message_counts
from survey.followups.figures import follow_ups_table, loop_figures
from survey.models import (
    Campaign,
    Disposition,
    Invitation,
    Message,
    MessageKind,
    MessageState,
    Response,
    ResponseStatus,
    utcnow,
)


def campaign_status(session: Session, campaign: Campaign) -> dict[str, Any]:
    """Invitations by disposition, messages by channel and state, reminders, responses, RR2."""
    dispositions = {d.value: 0 for d in Disposition}
    for disposition, n in session.execute(
        select(Invitation.disposition, func.count())
        .where(Invitation.campaign_id == campaign.id, Invitation.is_test.is_(False))
        .group_by(Invitation.disposition)
    ):
        dispositions[disposition] = n
    invitations = sum(dispositions.values())
    reminders_sent = session.scalar(
        select(func.count()).select_from(Message).where(
            Message.campaign_id == campaign.id, Message.kind == MessageKind.REMINDER,
            Message.state.in_((MessageState.SENT, MessageState.DELIVERED, MessageState.BOUNCED))))
    possibly_duplicated = session.scalar(
        select(func.count()).select_from(Message).where(
            Message.campaign_id == campaign.id, Message.possibly_duplicated.is_(True)))
    rates = None
    if invitations:
        counted = Counter({k: v for k, v in dispositions.items() if v})
        rates = rates_from_dispositions(counted.elements())
    return {
        "campaign": campaign.slug,
        "status": campaign.status,
        "fieldwork_start": _iso(campaign.fieldwork_start),
        "fieldwork_end": _iso(campaign.fieldwork_end),
        "invitations": invitations,
        "dispositions": dispositions,
        "messages": message_counts(session, campaign.id),
        "reminders_sent": reminders_sent or 0,
        "possibly_duplicated": possibly_duplicated or 0,
        "completes": dispositions[Disposition.COMPLETE],
        "partials": dispositions[Disposition.PARTIAL],
        "rr2": None if rates is None else rates.as_dict()["rr2"],
        "responses_per_day": responses_per_day(session, campaign),
        "channels": channel_progress(session, campaign),
        # The closed loop's figures, as the report gives them (survey.followups.figures).
        "follow_ups": loop_figures(follow_ups_table(session, campaign.id), now=utcnow()),
    }


def channel_progress(session: Session, campaign: Campaign) -> list[dict[str, Any]]:
    """Invitations, completes and partials of each channel (email, SMS), with the channel's
    share of the plan's target respondents.

    The plan sets one target for the whole sample; a channel's share of it is its share of
    the invitations, which is what the plan expects from it at the planned response rate.
    """
    rows = session.execute(
        select(Invitation.channel, Invitation.disposition, func.count())
        .where(Invitation.campaign_id == campaign.id, Invitation.is_test.is_(False))
        .group_by(Invitation.channel, Invitation.disposition)
    ).all()
    channels: dict[str, dict[str, Any]] = {}
    for channel, disposition, n in rows:
        entry = channels.setdefault(
            channel, {"channel": channel, "invitations": 0, "completes": 0, "partials": 0})
        entry["invitations"] += n
        if disposition == Disposition.COMPLETE:
            entry["completes"] += n
        elif disposition == Disposition.PARTIAL:
            entry["partials"] += n
    invitations = sum(entry["invitations"] for entry in channels.values())
    target = (campaign.plan or {}).get("respondents")
    for entry in channels.values():
        entry["target"] = (round(target * entry["invitations"] / invitations)
                           if target and invitations else None)
        entry["ratio"] = (entry["completes"] / entry["target"]) if entry["target"] else None
        entry["response_rate"] = (entry["completes"] / entry["invitations"]
                                  if entry["invitations"] else None)
    return sorted(channels.values(), key=lambda entry: entry["channel"])


def responses_per_day(session: Session, campaign: Campaign) -> list[dict[str, Any]]:
    """Completed questionnaires per day of fieldwork, with the running total."""
    completed = session.scalars(
        select(Response.completed_at)
        .join(Invitation, Response.invitation_id == Invitation.id)
        .where(Invitation.campaign_id == campaign.id, Invitation.is_test.is_(False),
               Response.status == ResponseStatus.COMPLETE)
    )
    per_day = Counter(moment.date() for moment in completed if moment is not None)
    running = 0
    curve = []
    for day in sorted(per_day):
        running += per_day[day]
        curve.append({"date": day.isoformat(), "completes": per_day[day], "cumulative": running})
    return curve


def fieldwork_figure(status: dict[str, Any], *, title: str, completes_label: str,
                     cumulative_label: str) -> str:
    """The Plotly figure of the fieldwork curve, as JSON for the page's data block."""
    import plotly.graph_objects as go
    import plotly.io as pio

    days = [point["date"] for point in status["responses_per_day"]]
    figure = go.Figure()
    figure.add_bar(x=days, y=[p["completes"] for p in status["responses_per_day"]],
                   name=completes_label)
    figure.add_scatter(x=days, y=[p["cumulative"] for p in status["responses_per_day"]],
                       name=cumulative_label, mode="lines+markers", yaxis="y2")
    figure.update_layout(
        title=title, yaxis={"title": completes_label, "rangemode": "tozero"},
        yaxis2={"title": cumulative_label, "overlaying": "y", "side": "right",
                "rangemode": "tozero"},
        legend={"orientation": "h"}, margin={"l": 50, "r": 50, "t": 50, "b": 40},
        # One tick a day, whatever the span (a single day must not show hours).
        xaxis={"type": "date", "tickformat": "%d/%m", "dtick": 86_400_000},
    )
    return pio.to_json(figure, validate=False)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
