"""One year's wave on the command line: create, plan, draw, launch, follow, close."""

from __future__ import annotations

import json
from typing import Any

import click

from survey.clients.commands import client_option
from survey.commandline import BadInput, with_appcontext


@click.group()
def campaigns() -> None:
    """One year's wave of the survey: plan, draw, launch, follow, close."""


@campaigns.command("create")
@click.argument("slug")
@click.option("--programme", required=True)
@click.option("--year", required=True, type=int)
@click.option("--questionnaire", "questionnaire_key", required=True)
@click.option("--channel", "channels", multiple=True, type=click.Choice(["email", "sms"]))
@with_appcontext
@client_option
def campaigns_create(
    slug: str, programme: str, year: int, questionnaire_key: str, channels: tuple[str, ...]
) -> None:
    """Create a campaign in draft, freezing the questionnaire it will use."""
    from survey.campaigns.operations import CampaignError, create_campaign
    from survey.extensions import db as database

    try:
        campaign = create_campaign(
            database.session,
            slug,
            programme=programme,
            year=year,
            questionnaire_key=questionnaire_key,
            channels=channels or ("email",),
            actor="cli",
        )
    except CampaignError as exc:
        raise BadInput(str(exc)) from exc
    database.session.commit()
    click.echo(
        f"created campaign {campaign.slug} ({campaign.status}), questionnaire "
        f"{questionnaire_key} sha256 {campaign.questionnaire_version.sha256}"
    )


@campaigns.command("plan")
@click.argument("slug")
@click.option("--strata", required=True, help="Comma-separated strata variables ('' for none).")
@click.option("--margin", required=True, type=float)
@click.option("--confidence", default=0.95, show_default=True, type=float)
@click.option("--response-rate", required=True, type=float)
@click.option(
    "--allocation",
    default="proportional",
    show_default=True,
    type=click.Choice(["proportional", "neyman", "equal"]),
)
@click.option("--min-per-stratum", default=0, show_default=True, type=int)
@click.option(
    "--prior-sd",
    "prior_sd",
    multiple=True,
    metavar="STRATUM=SD",
    help="Prior standard deviation of a stratum, for the Neyman allocation.",
)
@click.option(
    "--recent-months",
    default=12,
    show_default=True,
    type=int,
    help="Exclude customers invited by this programme less than this many months ago.",
)
@click.option(
    "--exclude",
    "exclude_file",
    type=click.Path(dir_okay=False),
    help="File of external ids to exclude, one per line.",
)
@click.option(
    "--calibrate",
    metavar="poststratify:VAR | rake:VAR,VAR",
    help="Weight the respondents to the frame's margins on these customer variables.",
)
@click.option(
    "--margins",
    "margins_file",
    type=click.Path(dir_okay=False),
    help="JSON {variable: {level: count}}: known population figures instead of the frame's.",
)
@click.option("--margins-source", help="Where the figures of --margins come from.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def campaigns_plan(slug: str, **options: Any) -> None:
    """Size the sample from a target precision."""
    from pathlib import Path

    from flask import current_app

    from survey.campaigns.operations import CampaignError, get_campaign
    from survey.extensions import db as database
    from survey.frame.sampling import SamplingError, plan_campaign

    prior_sd: dict[str, float] = {}
    for item in options["prior_sd"]:
        stratum, equals, value = item.rpartition("=")
        try:
            prior_sd[stratum.strip()] = float(value)
        except ValueError:
            raise BadInput(f"--prior-sd {item!r}: write STRATUM=SD, e.g. pro=0.4") from None
        if not equals:
            raise BadInput(f"--prior-sd {item!r}: write STRATUM=SD, e.g. pro=0.4")
    excluded: list[str] = []
    if options["exclude_file"]:
        try:
            lines = Path(options["exclude_file"]).read_text(encoding="utf-8-sig").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise BadInput(f"{options['exclude_file']}: cannot be read ({exc})") from exc
        excluded = [line.strip() for line in lines if line.strip()]
    calibration, margins = _calibration_options(
        options["calibrate"], options["margins_file"], options["margins_source"]
    )
    try:
        campaign = get_campaign(database.session, slug)
        plan = plan_campaign(
            database.session,
            campaign,
            strata_variables=options["strata"].split(","),
            margin=options["margin"],
            confidence=options["confidence"],
            response_rate=options["response_rate"],
            allocation=options["allocation"],
            min_per_stratum=options["min_per_stratum"],
            prior_sd=prior_sd or None,
            recent_months=options["recent_months"],
            excluded_external_ids=excluded,
            calibration=calibration,
            calibration_margins=margins,
            calibration_reference=options["margins_source"],
            secret_key=current_app.config["SECRET_KEY"],
            actor="cli",
        )
    except (CampaignError, SamplingError) as exc:
        raise BadInput(str(exc)) from exc
    database.session.commit()
    if options["as_json"]:
        click.echo(json.dumps(plan, ensure_ascii=False))
        return
    from survey.frame.sampling import plan_lines

    for line in plan_lines(plan):
        click.echo(line)


def _calibration_options(
    calibrate: str | None, margins_file: str | None, margins_source: str | None
) -> tuple[Any, Any]:
    """(method, variables) or None, and the margins given by hand or None; BadInput if wrong."""
    from pathlib import Path

    from survey.weighting.operations import CalibrationError, parse_calibrate

    try:
        calibration = parse_calibrate(calibrate)
    except CalibrationError as exc:
        raise BadInput(f"--calibrate: {exc}") from exc
    if margins_file is None:
        if margins_source:
            raise BadInput("--margins-source: give the figures too, with --margins FILE.json")
        return calibration, None
    if calibration is None:
        raise BadInput("--margins: say what to calibrate on, with --calibrate")
    if not (margins_source or "").strip():
        raise BadInput("--margins: say where the figures come from, with --margins-source")
    try:
        margins = json.loads(Path(margins_file).read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{margins_file}: cannot be read ({exc})") from exc
    except json.JSONDecodeError as exc:
        raise BadInput(f"{margins_file}: line {exc.lineno}: malformed JSON ({exc.msg})") from exc
    if not isinstance(margins, dict) or not all(isinstance(v, dict) for v in margins.values()):
        raise BadInput(f"{margins_file}: write {{variable: {{level: count}}}}")
    return calibration, margins


@campaigns.command("calibrate")
@click.argument("slug")
@click.argument("choice", metavar="poststratify:VAR | rake:VAR,VAR | none")
@click.option(
    "--margins",
    "margins_file",
    type=click.Path(dir_okay=False),
    help="JSON {variable: {level: count}}: known population figures instead of the frame's.",
)
@click.option("--margins-source", help="Where the figures of --margins come from.")
@with_appcontext
def campaigns_calibrate(
    slug: str, choice: str, margins_file: str | None, margins_source: str | None
) -> None:
    """Change how a drawn campaign's respondents are weighted (report, export, dashboard)."""
    from survey.campaigns.operations import CampaignError, get_campaign
    from survey.extensions import db as database
    from survey.weighting.operations import CalibrationError, choose_calibration, describe

    calibration, margins = _calibration_options(choice, margins_file, margins_source)
    try:
        campaign = get_campaign(database.session, slug)
        document = choose_calibration(
            database.session, campaign, calibration, actor="cli",
            manual_margins=margins, reference=margins_source,
        )  # fmt: skip
    except (CampaignError, CalibrationError) as exc:
        raise BadInput(str(exc)) from exc
    database.session.commit()
    click.echo(f"campaign {slug}: calibration {describe(document)}")
    for cell in (document or {}).get("cells", []):
        flag = "" if cell["enough"] else " (few respondents expected)"
        click.echo(
            f"  {cell['variable']} = {cell['level']}: population {cell['population']:g}, "
            f"{cell['expected_sampled']:.0f} sampled, "
            f"{cell['expected_respondents']:.1f} respondents expected{flag}"
        )


@campaigns.command("draw")
@click.argument("slug")
@click.option("--seed", required=True, type=int)
@with_appcontext
def campaigns_draw(slug: str, seed: int) -> None:
    """Draw the stratified sample with a recorded seed."""
    from flask import current_app

    from survey.campaigns.operations import CampaignError, get_campaign
    from survey.extensions import db as database
    from survey.frame.sampling import SamplingError, draw_sample

    try:
        campaign = get_campaign(database.session, slug)
        result = draw_sample(
            database.session,
            campaign,
            seed,
            secret_key=current_app.config["SECRET_KEY"],
            actor="cli",
        )
    except (CampaignError, SamplingError) as exc:
        raise BadInput(str(exc)) from exc
    database.session.commit()
    for stratum in result.strata:
        note = " (taken whole)" if stratum["taken_whole"] else ""
        click.echo(
            f"{stratum['stratum']}: {stratum['drawn']} of {stratum['population']}, "
            f"weight {stratum['design_weight']:.4f}{note}"
        )
    click.echo(
        f"drew {result.sample_size} customers from a frame of {result.frame_size} "
        f"with seed {seed}; campaign {slug} is sampled (frame sha256 {campaign.frame_sha256})"
    )


@campaigns.command("launch")
@click.argument("slug")
@click.option("--until", "until", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Last day of fieldwork (default: 28 days from today).")
@with_appcontext
def campaigns_launch(slug: str, until: Any) -> None:
    """Open fieldwork: one invitation and one message per sampled customer."""
    from flask import current_app

    from survey.campaigns.operations import CampaignError, get_campaign
    from survey.distribution.operations import launch_campaign
    from survey.extensions import db as database

    try:
        result = launch_campaign(
            database.session, get_campaign(database.session, slug),
            secret_key=current_app.config["SECRET_KEY"], actor="cli",
            until=until.date() if until else None, timezone=current_app.config["TIMEZONE"],
            window=current_app.config["SMS_WINDOW"])
    except CampaignError as exc:
        raise BadInput(str(exc)) from exc
    database.session.commit()
    click.echo(
        f"launched {slug}: {result.messages} messages queued ({result.email} email, "
        f"{result.sms} SMS), {result.suppressed} opted out since the draw, "
        f"{result.no_contact} without a contact; fieldwork {result.fieldwork_start} to "
        f"{result.fieldwork_end}. Run `barometre send` to deliver them."
    )


@campaigns.command("test-link")
@click.argument("slug")
@click.option("--language", default="fr", show_default=True, type=click.Choice(["fr", "en"]))
@with_appcontext
def campaigns_test_link(slug: str, language: str) -> None:
    """Print a link to a test invitation (never counted in statistics)."""
    from flask import current_app

    from survey.campaigns.operations import CampaignError, get_campaign
    from survey.extensions import db as database
    from survey.respond.operations import RespondError, create_test_invitation

    try:
        link = create_test_invitation(
            database.session,
            get_campaign(database.session, slug),
            current_app.config["SECRET_KEY"],
            current_app.config["BASE_URL"],
            language=language,
        )
    except (CampaignError, RespondError) as exc:
        raise BadInput(str(exc)) from exc
    database.session.commit()
    click.echo(link)


@campaigns.command("status")
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def campaigns_status(slug: str, as_json: bool) -> None:
    """Fieldwork figures: dispositions, messages, responses, response rate."""
    from survey.campaigns.operations import CampaignError, get_campaign
    from survey.distribution.status import campaign_status
    from survey.extensions import db as database

    try:
        status = campaign_status(database.session, get_campaign(database.session, slug))
    except CampaignError as exc:
        raise BadInput(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(status, sort_keys=True))
        return
    rr2 = "—" if status["rr2"] is None else f"{status['rr2']:.1%}"
    click.echo(f"{slug} ({status['status']}): {status['invitations']} invitations, "
               f"{status['completes']} complete, {status['partials']} partial, RR2 {rr2}")
    click.echo("dispositions: " + ", ".join(
        f"{name} {count}" for name, count in status["dispositions"].items() if count))
    for channel, states in status["messages"].items():
        click.echo(f"{channel} messages: " + ", ".join(
            f"{state} {count}" for state, count in sorted(states.items())))
    click.echo(f"reminders sent: {status['reminders_sent']}; possibly sent twice after a "
               f"worker stopped: {status['possibly_duplicated']}")
    loop = status["follow_ups"]["all"]
    share = "—" if loop["on_time_share"] is None else f"{loop['on_time_share']:.1%}"
    click.echo(f"follow-ups: {loop['total']} ({loop['closed']} closed, {loop['overdue']} "
               f"overdue), handled on time {share}")


@campaigns.command("close")
@click.argument("slug")
@with_appcontext
def campaigns_close(slug: str) -> None:
    """Close fieldwork."""
    from survey.campaigns.operations import CampaignError, get_campaign
    from survey.distribution.operations import close_campaign
    from survey.extensions import db as database

    try:
        cancelled = close_campaign(database.session, get_campaign(database.session, slug),
                                   actor="cli")
    except CampaignError as exc:
        raise BadInput(str(exc)) from exc
    database.session.commit()
    click.echo(f"closed {slug}; {cancelled} queued messages cancelled")


# Registered on `barometre` by `survey.cli`.
COMMANDS = (campaigns,)
