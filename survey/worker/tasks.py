"""The periodic tasks of the core, run by the workers' scheduler (`survey.worker.scheduler`).

- `reminders` (every minute, `BAROMETRE_SCHEDULE_REMINDERS`): queues the reminders due in open
  campaigns, at each campaign's `reminder_days`;
- `close_fieldwork` (every 15 minutes, `BAROMETRE_SCHEDULE_CLOSE_FIELDWORK`): closes the open
  campaigns whose fieldwork end date has passed, in the centre's time zone;
- `retention_purge` (daily, `BAROMETRE_SCHEDULE_RETENTION_PURGE`): erases the personal data of
  campaigns closed longer than `BAROMETRE_RETENTION_DAYS`;
- `throttle_cleanup` (hourly, `BAROMETRE_SCHEDULE_THROTTLE_CLEANUP`): forgets the counted failed
  logins and bad links older than a day (when they are counted in the database).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from survey.models import Campaign, CampaignStatus
from survey.worker.registry import JobContext
from survey.worker.scheduler import PeriodicTask, register_periodic_task


def queue_reminders(ctx: JobContext) -> dict[str, Any]:
    from survey.distribution.operations import schedule_reminders
    from survey.distribution.sms_window import DEFAULT_SMS_WINDOW

    config = ctx.app.config
    queued = schedule_reminders(
        ctx.session, secret_key=config["SECRET_KEY"], now=ctx.now,
        timezone=config.get("TIMEZONE", "Europe/Paris"), actor=ctx.actor,
        window=config.get("SMS_WINDOW") or DEFAULT_SMS_WINDOW,
    )  # fmt: skip
    return {"reminders_queued": queued}


def close_ended_fieldwork(ctx: JobContext) -> dict[str, Any]:
    """Close every open campaign whose last day of fieldwork is over in the centre's time zone."""
    from survey.distribution.operations import close_campaign

    today = ctx.now.astimezone(ZoneInfo(ctx.app.config.get("TIMEZONE", "Europe/Paris"))).date()
    closed = []
    for campaign in ctx.session.scalars(
        select(Campaign).where(Campaign.status == CampaignStatus.OPEN.value,
                               Campaign.fieldwork_end.is_not(None),
                               Campaign.fieldwork_end < today)
        .order_by(Campaign.id)
    ):
        close_campaign(ctx.session, campaign, actor=ctx.actor, now=ctx.now)
        closed.append(campaign.slug)
    return {"closed": closed}


def retention_purge(ctx: JobContext) -> dict[str, Any]:
    from survey.privacy.operations import purge_every_client

    # Each client's campaigns after that client's retention period (issue #16).
    done = purge_every_client(ctx.session, default_days=ctx.app.config["RETENTION_DAYS"],
                              now=ctx.now, actor=ctx.actor)
    summaries = [summary for _days, summary in done.values()]
    return {"campaigns": [slug for s in summaries for slug in s.campaigns],
            "customers_erased": sum(s.customers_erased for s in summaries),
            "messages_blanked": sum(s.messages_blanked for s in summaries),
            "clients": {slug: {"retention_days": days, "campaigns": list(s.campaigns)}
                        for slug, (days, s) in done.items()}}


register_periodic_task(PeriodicTask("reminders", queue_reminders, every=timedelta(minutes=1),
                                    variable="BAROMETRE_SCHEDULE_REMINDERS"))
register_periodic_task(PeriodicTask("close_fieldwork", close_ended_fieldwork,
                                    every=timedelta(minutes=15),
                                    variable="BAROMETRE_SCHEDULE_CLOSE_FIELDWORK"))
register_periodic_task(PeriodicTask("retention_purge", retention_purge, every=timedelta(days=1),
                                    variable="BAROMETRE_SCHEDULE_RETENTION_PURGE"))


def throttle_cleanup(ctx: JobContext) -> dict[str, Any]:
    from survey.throttle import forget_old_hits

    return {"deleted": forget_old_hits(ctx.session, ctx.now)}


register_periodic_task(PeriodicTask("throttle_cleanup", throttle_cleanup,
                                    every=timedelta(hours=1),
                                    variable="BAROMETRE_SCHEDULE_THROTTLE_CLEANUP"))
