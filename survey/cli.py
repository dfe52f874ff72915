"""The `barometre` command line (DESIGN.md, "Command line"): thin commands over service functions.

Exit status: 0 done; 1 failure of the system; 2 bad input, with a message that says what and
where.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
from flask import Flask

from survey.config import ConfigurationError

F = TypeVar("F", bound=Callable[..., Any])


class BadInput(click.ClickException):
    """Input the user can correct: exit status 2."""

    exit_code = 2


class SystemFailure(click.ClickException):
    exit_code = 1


def get_app() -> Flask:
    ctx = click.get_current_context()
    root = ctx.find_root()
    if root.obj is None:
        root.obj = {}
    if "app" not in root.obj:
        from survey import create_app

        try:
            root.obj["app"] = create_app()
        except ConfigurationError as exc:
            raise SystemFailure(str(exc)) from exc
    return root.obj["app"]


def with_appcontext(func: F) -> F:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with get_app().app_context():
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="barometre")
def main() -> None:
    """barometre: the annual customer-satisfaction survey of a customer-contact centre."""


# --- database -------------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Create or migrate the database."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create the database or bring it to the latest revision."""
    from survey.database import current_revision, upgrade_database

    app = get_app()
    upgrade_database(app)
    click.echo(f"database at revision {current_revision(app)}")


# --- demo and serving -----------------------------------------------------------------------


@main.command()
@click.option("--no-serve", is_flag=True, help="Seed the demo and stop, without serving it.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--customers", default=6000, show_default=True, type=click.IntRange(500, 200_000),
              help="Size of the demo's customer base.")
def demo(no_serve: bool, host: str, port: int, customers: int) -> None:
    """Create the database, seed the demo and serve it."""
    import os

    from survey.database import upgrade_database
    from survey.demo import seed_demo

    # The demo's links (test link, outbox messages) must point where it is served.
    os.environ.setdefault("BAROMETRE_BASE_URL", f"http://{host}:{port}")
    app = get_app()
    upgrade_database(app)
    with app.app_context():
        summary = seed_demo(customers=customers)
    for line in summary:
        click.echo(line)
    if not no_serve:
        _serve(app, host, port, workers=2)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--with-worker", is_flag=True, help="Also run the message sender.")
def serve(host: str, port: int, workers: int, with_worker: bool) -> None:
    """Serve the application with gunicorn."""
    if not with_worker:
        _serve(get_app(), host, port, workers)
        return
    import subprocess

    # The sender runs as its own process: a crash of one never takes the other down.
    sender = subprocess.Popen([sys.executable, "-m", "survey", "send"])
    try:
        _serve(get_app(), host, port, workers)
    finally:
        sender.terminate()
        try:
            sender.wait(timeout=30)
        except subprocess.TimeoutExpired:
            sender.kill()


def _serve(app: Flask, host: str, port: int, workers: int) -> None:
    from survey.server import run_gunicorn

    click.echo(f"serving on http://{host}:{port}/ (Ctrl-C to stop)")
    run_gunicorn(host=host, port=port, workers=workers)


# --- users ----------------------------------------------------------------------------------


@main.group()
def users() -> None:
    """Manage accounts."""


@users.command("create")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(["admin", "manager", "auditor"]))
@with_appcontext
def users_create(email: str, role: str) -> None:
    """Create an account; the password is read from stdin, or generated and printed once."""
    from survey.auth.operations import AccountError, create_user, generate_password
    from survey.extensions import db as database

    generated = sys.stdin is None or sys.stdin.isatty()
    password = generate_password() if generated else sys.stdin.readline().rstrip("\r\n")
    if not password:
        password, generated = generate_password(), True
    try:
        user = create_user(database.session, email, role, password, actor="cli")
    except AccountError as exc:
        raise BadInput(str(exc)) from exc
    database.session.commit()
    click.echo(f"created {user.role} {user.email}")
    if generated:
        click.echo(f"password (shown once): {password}")


@users.command("list")
@with_appcontext
def users_list() -> None:
    """List the accounts: email, role, state, last login."""
    from survey.auth.operations import list_users
    from survey.extensions import db as database

    for user in list_users(database.session):
        seen = user.last_login_at.strftime("%Y-%m-%d %H:%M") if user.last_login_at else "never"
        click.echo(f"{user.email}\t{user.role}\t{'active' if user.active else 'deactivated'}"
                   f"\tlast login {seen}")


@users.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice(["admin", "manager", "auditor"]))
@with_appcontext
def users_set_role(email: str, role: str) -> None:
    """Give an account another role."""
    from survey.auth.operations import AccountError, find_user, set_role
    from survey.extensions import db as database

    try:
        user = find_user(database.session, email)
        changed = set_role(database.session, user, role, actor="cli")
    except AccountError as exc:
        raise BadInput(str(exc)) from exc
    database.session.commit()
    click.echo(f"{user.email} is {'now' if changed else 'already'} {role}")


@users.command("deactivate")
@click.argument("email")
@with_appcontext
def users_deactivate(email: str) -> None:
    """Deactivate an account: its sessions stop working at once."""
    _users_set_active(email, active=False)


@users.command("reactivate")
@click.argument("email")
@with_appcontext
def users_reactivate(email: str) -> None:
    """Reactivate a deactivated account."""
    _users_set_active(email, active=True)


def _users_set_active(email: str, *, active: bool) -> None:
    from survey.auth.operations import AccountError, find_user, set_active
    from survey.extensions import db as database

    try:
        user = find_user(database.session, email)
        changed = set_active(database.session, user, active, actor="cli")
    except AccountError as exc:
        raise BadInput(str(exc)) from exc
    database.session.commit()
    state = "active" if active else "deactivated"
    click.echo(f"{user.email} is {'now' if changed else 'already'} {state}")


# --- questionnaires -------------------------------------------------------------------------


@main.group()
def questionnaires() -> None:
    """Questionnaire definitions."""


@questionnaires.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def questionnaires_validate(files: tuple[str, ...]) -> None:
    """Check definition files and report every error with its place."""
    from questionnaires import validate_file

    errors = [error for file in files for error in validate_file(file)]
    for error in errors:
        click.echo(str(error), err=True)
    if errors:
        raise SystemExit(2)
    for file in files:
        click.echo(f"{file}: valid")


@questionnaires.command("list")
def questionnaires_list() -> None:
    """List the bundled definitions."""
    from questionnaires import definition_sha256, get_bundled, list_bundled

    for bundled in list_bundled():
        sha256 = definition_sha256(get_bundled(bundled.key))
        click.echo(f"{bundled.key}\tversion {bundled.version}\t{'/'.join(bundled.languages)}\t"
                   f"sha256 {sha256[:12]}\t{bundled.title}")


# --- customers ------------------------------------------------------------------------------


@main.group()
def customers() -> None:
    """The customer base."""


@customers.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Validate and report without importing.")
@click.option("--accept-rejects", is_flag=True, help="Import the valid rows despite rejects.")
@click.option(
    "--column",
    "columns",
    multiple=True,
    metavar="FIELD=HEADER",
    help="Read a field (external_id, email, phone, name, language, last_contact_on) from the "
    "column with this header.",
)
@click.option(
    "--attributes", help="Comma-separated headers to keep as attributes (default: all others)."
)
@with_appcontext
def customers_import(
    file: str,
    dry_run: bool,
    accept_rejects: bool,
    columns: tuple[str, ...],
    attributes: str | None,
) -> None:
    """Import (or update) customers from CSV or XLSX, all or nothing."""
    from pathlib import Path

    from survey.extensions import db as database
    from survey.frame.importing import CustomerFileError, import_customers

    mapping: dict[str, str] = {}
    for item in columns:
        name, equals, header = item.partition("=")
        if not equals or not name.strip() or not header.strip():
            raise BadInput(f"--column {item!r}: write FIELD=HEADER, e.g. email=Courriel")
        mapping[name.strip()] = header.strip()
    try:
        data = Path(file).read_bytes()
    except OSError as exc:
        raise BadInput(f"{file}: cannot be read ({exc.strerror})") from exc
    try:
        report = import_customers(
            database.session,
            data,
            Path(file).name,
            actor="cli",
            columns=mapping,
            attributes=[h.strip() for h in attributes.split(",")] if attributes else None,
            dry_run=dry_run,
            accept_rejects=accept_rejects,
            progress=lambda message: click.echo(message, err=True),
        )
    except CustomerFileError as exc:
        raise BadInput(str(exc)) from exc
    for reject in report.rejects:
        click.echo(
            f"line {reject.line}: {reject.column or '(row)'}: {reject.reason}"
            + (f" [{reject.value}]" if reject.value else "")
        )
    click.echo(
        f"{report.filename}: sha256 {report.sha256}; {report.rows_total} rows, "
        f"{report.rows_valid} valid, {report.rows_rejected} rejected; "
        f"{report.rows_created} to create, {report.rows_updated} to update, "
        f"{report.rows_unchanged} unchanged"
    )
    if report.refused:
        database.session.rollback()
        raise BadInput(
            f"{report.rows_rejected} rows rejected: nothing imported. Correct the file, or "
            "import the valid rows with --accept-rejects"
        )
    if dry_run:
        database.session.rollback()
        click.echo("dry run: nothing imported")
        return
    database.session.commit()
    click.echo(f"imported (import {report.import_id})")


# --- campaigns ------------------------------------------------------------------------------


@customers.command("erase")
@click.option("--external-id")
@click.option("--email")
@click.option("--phone")
@with_appcontext
def customers_erase(external_id: str | None, email: str | None, phone: str | None) -> None:
    """Erase one customer wherever they appear (right to erasure)."""
    from flask import current_app

    from survey.extensions import db as database
    from survey.frame.suppressions import SuppressionError
    from survey.privacy.operations import ErasureError, erase_customer

    try:
        erased = erase_customer(database.session, secret_key=current_app.config["SECRET_KEY"],
                                external_id=external_id, email=email, phone=phone, actor="cli")
    except (ErasureError, SuppressionError) as exc:
        raise BadInput(str(exc)) from exc
    if not erased:
        raise BadInput("no customer matches")
    database.session.commit()
    click.echo(f"erased {erased} customer(s); their contacts are suppressed")


@main.group()
def campaigns() -> None:
    """One year's wave of the survey: plan, draw, launch, follow, close."""


@campaigns.command("create")
@click.argument("slug")
@click.option("--programme", required=True)
@click.option("--year", required=True, type=int)
@click.option("--questionnaire", "questionnaire_key", required=True)
@click.option("--channel", "channels", multiple=True, type=click.Choice(["email", "sms"]))
@with_appcontext
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


# --- sending, reports, exports --------------------------------------------------------------


@main.command()
@click.option("--once", is_flag=True, help="Send what is due, then stop.")
@click.option("--worker-id", help="Name of this worker (default host:pid); restarting under "
              "the same name re-queues at once what it had in flight.")
@click.option("--batch-size", type=click.IntRange(1, 1000), help="Messages per claim.")
@click.option("--stale-after", type=click.FloatRange(1), help="Seconds without a heartbeat "
              "after which another worker's claims are re-queued (default 120).")
@with_appcontext
def send(once: bool, worker_id: str | None, batch_size: int | None,
         stale_after: float | None) -> None:
    """Deliver queued invitations and reminders."""
    import signal

    from flask import current_app

    from survey.distribution.backends import BackendConfigurationError
    from survey.distribution.worker import Sender, SenderSettings

    settings = SenderSettings.from_config(current_app.config)
    if batch_size:
        settings.batch_size = batch_size
    if stale_after:
        settings.stale_after = stale_after
    sender = Sender(current_app._get_current_object(), worker_id=worker_id, settings=settings)
    # SIGTERM (serve --with-worker, systemd) finishes the batch in hand, then stops.
    signal.signal(signal.SIGTERM, lambda *_: sender.stop.set())
    click.echo(f"sender {sender.worker_id} started", err=True)
    try:
        stats = sender.run(once=once)
    except BackendConfigurationError as exc:
        raise BadInput(str(exc)) from exc
    except KeyboardInterrupt:
        return
    click.echo(
        f"sent {stats.sent}, retry later {stats.retried}, failed {stats.failed}, "
        f"cancelled {stats.cancelled}, reminders queued {stats.reminders}, re-queued after a "
        f"stopped worker {stats.requeued} (flagged possibly duplicated)"
    )


@main.command()
@click.argument("slug")
@click.option("--out", required=True, type=click.Path(dir_okay=False))
@click.option("--pdf", type=click.Path(dir_okay=False))
@click.option("--lang", default="fr", show_default=True, type=click.Choice(["fr", "en"]))
@with_appcontext
def report(slug: str, out: str, pdf: str | None, lang: str) -> None:
    """Generate the campaign's report (stored, and copied to --out; --pdf prints it too)."""
    import shutil as _shutil

    from flask import current_app

    from survey.campaigns.operations import CampaignError, get_campaign
    from survey.extensions import db as database
    from survey.reporting.operations import ReportError, generate_report, html_to_pdf

    try:
        campaign = get_campaign(database.session, slug)
        generated = generate_report(
            database.session, campaign, lang=lang,
            instance_path=current_app.instance_path, actor="cli",
        )  # fmt: skip
    except (CampaignError, ReportError) as exc:
        raise BadInput(str(exc)) from exc
    database.session.commit()
    try:
        _shutil.copyfile(generated.path, out)
    except OSError as exc:
        raise BadInput(f"{out}: cannot write the report: {exc.strerror or exc}") from exc
    click.echo(
        f"report {generated.report.id} of {slug} ({lang}) written to {out}; "
        f"data sha256 {generated.report.data_sha256}"
    )
    if pdf:
        try:
            html_to_pdf(out, pdf)
        except (ReportError, OSError) as exc:
            raise SystemFailure(str(exc)) from exc
        click.echo(f"PDF written to {pdf}")


@main.command()
@click.argument("slug")
@click.option("--format", "fmt", required=True, type=click.Choice(["csv", "xlsx", "sav"]))
@click.option("--out", required=True, type=click.Path(dir_okay=False))
@click.option(
    "--excel-france", is_flag=True, help="CSV in Windows-1252 with ';' and decimal commas."
)
@click.option("--lang", default="fr", show_default=True, type=click.Choice(["fr", "en"]))
@with_appcontext
def export(slug: str, fmt: str, out: str, excel_france: bool, lang: str) -> None:
    """Export the respondents' data without personal data, with its design file beside it."""
    from survey.campaigns.operations import CampaignError, get_campaign
    from survey.extensions import db as database
    from survey.reporting.operations import ReportError, export_campaign

    try:
        campaign = get_campaign(database.session, slug)
        done = export_campaign(
            database.session, campaign, fmt=fmt, out=out, actor="cli",
            excel_france=excel_france, lang=lang,
        )  # fmt: skip
    except (CampaignError, ReportError) as exc:
        raise BadInput(str(exc)) from exc
    database.session.commit()
    click.echo(f"{done.rows} respondents written to {done.data_path} (sha256 {done.data_sha256})")
    click.echo(f"design file: {done.design_path}")


@main.command()
@click.argument("responses", type=click.Path(dir_okay=False))
@click.option("--design", required=True, type=click.Path(dir_okay=False))
@click.option("--out", type=click.Path(dir_okay=False))
def analyze(responses: str, design: str, out: str | None) -> None:
    """Estimate the design's indicators from a respondents CSV (no database needed)."""
    from analysis.cli import run_analyze

    raise SystemExit(run_analyze(responses, design, out))


# --- trust ----------------------------------------------------------------------------------


@main.group()
def audit() -> None:
    """The audit trail."""


@audit.command("verify")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def audit_verify(as_json: bool) -> None:
    """Check the hash chain of the audit trail and name the first broken link."""
    from survey.audit import verify_chain
    from survey.extensions import db as database

    result = verify_chain(database.session)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "events": result.events,
                    "ok": result.ok,
                    "first_broken_id": result.first_broken_id,
                    "reason": result.reason,
                }
            )
        )
    elif result.ok:
        click.echo(f"audit trail intact: {result.events} events")
    else:
        click.echo(
            f"audit trail broken at event {result.first_broken_id}: {result.reason}", err=True
        )
    if not result.ok:
        raise SystemExit(2)


@main.command()
@click.option("--dry-run", is_flag=True, help="Say what would be erased, change nothing.")
@click.option("--retention-days", type=click.IntRange(min=0),
              help="Days after closing (default: BAROMETRE_RETENTION_DAYS, 90).")
@with_appcontext
def purge(dry_run: bool, retention_days: int | None) -> None:
    """Erase personal data of campaigns closed for longer than the retention period."""
    from flask import current_app

    from survey.extensions import db as database
    from survey.privacy.operations import purge_personal_data

    days = current_app.config["RETENTION_DAYS"] if retention_days is None else retention_days
    summary = purge_personal_data(database.session, retention_days=days, dry_run=dry_run,
                                  actor="cli")
    database.session.commit()
    verb = "would erase" if dry_run else "erased"
    campaigns = ", ".join(summary.campaigns) or "no campaign"
    click.echo(f"{verb}: {campaigns} (closed more than {days} days ago); "
               f"{summary.messages_blanked} message addresses, "
               f"{summary.invitations_unlinked} invitation links, "
               f"{summary.customers_erased} customers")
