"""The demo: what `barometre demo` puts in an empty (or an earlier demo's) database.

Everything goes through the same service functions as a real centre's year: the customer base
is imported from a Windows-1252 `;` CSV, this year's sample is planned, drawn and launched, and
its invitations are written by the outbox backend. Only the customers' answers are simulated
(`survey.reporting.synthetic`), so that every section of the report has something to show.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import func, select

from survey.auth.operations import create_user, generate_password, password_hasher
from survey.campaigns.operations import create_campaign, get_or_create_programme
from survey.extensions import db
from survey.models import Campaign, CampaignStatus, Customer, Report, Role, User
from survey.programmes.operations import update_method

DEMO_ADMIN = "admin@barometre.example"
DEMO_PROGRAMME = "Baromètre satisfaction Service Client"
DEMO_QUESTIONNAIRE = "nf-relation-client"  # last year's: the bundled template
DEMO_CENTRE_QUESTIONNAIRE = "service-client"  # this year's: written in the editor
DEMO_CUSTOMERS = 6000
DEMO_SEED = 2026


def seed_demo(today: date | None = None, *, customers: int = DEMO_CUSTOMERS) -> list[str]:
    """Seed the demo, idempotently, and return what to tell the person who started it.

    The admin's password is new at every run and printed once: it is never stored in clear.
    `customers` sizes the base (the answers follow: a tenth of it last year, less this year).
    """
    session = db.session
    today = today or date.today()
    year = today.year
    password = generate_password()
    admin = session.scalar(select(User).where(User.email == DEMO_ADMIN))
    if admin is None:
        admin = create_user(session, DEMO_ADMIN, Role.ADMIN.value, password, actor="demo")
    else:
        admin.password_hash = password_hasher.hash(password)
        admin.active = True
        admin.failed_logins = 0
        admin.locked_until = None
    programme = get_or_create_programme(session, DEMO_PROGRAMME, actor="demo")
    update_method(session, programme, DEMO_METHOD, actor="demo")
    session.commit()

    lines = ["demo ready:", f"  admin login: {DEMO_ADMIN}", f"  password (shown once): {password}"]
    lines += _customer_base(session, customers)
    lines += _last_year(session, year - 1, respondents=customers // 10)
    lines += _improvement_plan(session, f"barometre-{year - 1}", admin, today)
    lines += _this_year(session, year, today, respondents=customers * 3 // 40)
    lines += _published_results(session, today)
    return lines


#: What the demo's reports state about the survey itself (the programme's method page).
DEMO_METHOD = {
    "commissioned_by": "Direction de la relation client du centre de démonstration",
    "conducted_by": "Le service Qualité du centre, avec la plateforme barometre ; aucun "
                    "institut d’études",
    "objectives": "Mesurer chaque année la satisfaction des clients ayant contacté le centre, "
                  "à l’égard de ses engagements de service (accueil, délais, réclamations), "
                  "suivre les actions d’amélioration et répondre aux exigences de la marque "
                  "NF Service.",
    "incentives": "Aucune incitation : ni cadeau, ni tirage au sort.",
    "subcontracting": "Aucune sous-traitance de l’enquête ; les e-mails et SMS d’invitation "
                      "partent par les prestataires d’envoi du centre.",
    "validation": "Contrôles à la saisie (échelles bornées, questions obligatoires, conditions "
                  "d’affichage) ; seuls les questionnaires complets sont analysés ; invitations "
                  "de test exclues ; commentaires libres masqués (e-mails, téléphones) avant "
                  "export ; aucune imputation.",
    "limitations": "Seuls les clients joignables par e-mail ou SMS sont interrogés ; la "
                   "non-réponse n’est corrigée que par la pondération ; le terrain de cette "
                   "année n’a pas lieu à la même saison que celui de l’an dernier.",
}

#: The demo centre's commitments: code, French and English labels, unit, target (a share for a
#: rate), direction, and the questionnaire item on the same commitment.
DEMO_CRITERIA = (
    ("calls-60s", "Appels décrochés en moins de 60 s", "Calls answered within 60 s", "rate",
     0.80, "higher", "phone_wait"),
    ("written-reply-days", "Délai moyen de réponse écrite", "Average written reply time",
     "days", 2.0, "lower", "written_reply_time"),
    ("complaints-in-time", "Réclamations traitées dans le délai annoncé",
     "Complaints answered within the announced time", "rate", 0.90, "higher",
     "complaint_handling"),
)
DEMO_PUBLIC_SLUG = "service-client"


def demo_criteria_csv(today: date) -> bytes:
    """The twelve months before this one, as the centre's telephony and ticketing tools would
    export them (seeded: the same file at every run of the same month)."""
    import random

    rng = random.Random(DEMO_SEED)
    lines = ["month;criterion;value;numerator;denominator"]
    year, month = today.year, today.month
    months = []
    for _ in range(12):
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        months.append(f"{year:04d}-{month:02d}")
    for label in sorted(months):
        calls = rng.randint(9000, 12000)
        # Winter months miss the 80 % target: the table shows the months that did.
        share = rng.uniform(0.74, 0.79) if label[5:] in ("01", "02") else rng.uniform(0.8, 0.9)
        lines.append(f"{label};calls-60s;;{round(calls * share)};{calls}")
        lines.append(f"{label};written-reply-days;{rng.uniform(1.2, 2.4):.1f};;")
        complaints = rng.randint(60, 140)
        lines.append(f"{label};complaints-in-time;;{round(complaints * rng.uniform(0.86, 0.98))};"
                     f"{complaints}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def _published_results(session, today: date) -> list[str]:
    """The programme's performance criteria over the last year, and its results published
    (last year's closed campaign) at /p/service-client."""
    from survey.models import Programme
    from survey.publication.criteria import define_criterion, import_criteria_file
    from survey.publication.results import publish

    programme = session.scalar(select(Programme).where(Programme.name == DEMO_PROGRAMME))
    for code, label_fr, label_en, unit, target, direction, item in DEMO_CRITERIA:
        define_criterion(session, programme, code=code, label_fr=label_fr, label_en=label_en,
                         unit=unit, target=target, direction=direction, item=item, actor="demo")
    import_criteria_file(session, programme, demo_criteria_csv(today), "demo-criteria.csv",
                         actor="demo")
    publication = publish(session, programme, slug=DEMO_PUBLIC_SLUG, actor="demo")
    session.commit()
    return [f"  performance criteria: {len(DEMO_CRITERIA)} with 12 months of values; results "
            f"published at {current_app.config['BASE_URL'].rstrip('/')}/p/{publication.slug}"]


def _customer_base(session, customers: int) -> list[str]:
    from survey.frame.importing import import_customers
    from survey.frame.synthetic import synthetic_customer_csv

    if session.scalar(select(func.count()).select_from(Customer)):
        return []
    report = import_customers(
        session, synthetic_customer_csv(customers, seed=DEMO_SEED), "demo-customers.csv",
        actor="demo",
    )
    session.commit()
    return [f"  customer base: {report.rows_created} customers imported (demo-customers.csv)"]


def _campaign(session, year: int, questionnaire=lambda session: DEMO_QUESTIONNAIRE
              ) -> tuple[Campaign, bool]:
    slug = f"barometre-{year}"
    campaign = session.scalar(select(Campaign).where(Campaign.slug == slug))
    if campaign is not None:
        return campaign, False
    campaign = create_campaign(session, slug, programme=DEMO_PROGRAMME, year=year,
                               questionnaire_key=questionnaire(session),
                               channels=("email", "sms"), actor="demo")
    return campaign, True


def _centre_questionnaire(session) -> str:
    """This year's questionnaire, the centre's own: last year's template, written again in the
    editor with one item reworded. The comparability check flags that item (its trend breaks)
    and the report's trend section says so."""
    from survey.editor import edits
    from survey.editor.operations import (
        EditorError,
        apply_edit,
        draft_from_template,
        freeze_draft,
        get_draft,
    )

    try:
        draft = get_draft(session, DEMO_CENTRE_QUESTIONNAIRE)
    except EditorError:
        draft = draft_from_template(session, DEMO_QUESTIONNAIRE, DEMO_CENTRE_QUESTIONNAIRE,
                                    actor="demo")
        for page, page_data in enumerate(draft.data["pages"]):
            for index, question in enumerate(page_data["questions"]):
                if question["code"] == "next_steps":
                    reworded = {**question, "label": {
                        "fr": "Vous a-t-on bien expliqué la suite donnée à votre demande ?",
                        "en": "Were you told clearly what would happen next with your request?",
                    }}
                    apply_edit(session, draft, edits.replace_question, page, index, reworded,
                               label="next_steps reworded", actor="demo")
    return f"{freeze_draft(session, draft, actor='demo').key}"


def _last_year(session, year: int, respondents: int) -> list[str]:
    """Last year's wave, closed, with its answers: the report's trend needs it."""
    from survey.reporting.synthetic import seed_synthetic_responses

    campaign, created = _campaign(session, year)
    if created:
        seed_synthetic_responses(session, campaign, rng_seed=year, n_respondents=respondents,
                                 shift=-0.3)
        start = campaign.fieldwork_start or date(year, 3, 1)
        campaign.launched_at = datetime.combine(start, time(9), UTC)
        campaign.closed_at = datetime.combine(
            campaign.fieldwork_end or start + timedelta(days=28), time(18), UTC
        )
        campaign.status = CampaignStatus.CLOSED.value
        session.commit()
    _report(session, campaign)
    return [f"  campaign: {campaign.slug} ({campaign.status}) with its report"]


#: What the demo centre decides on an item its key drivers put first (title, what changes).
DEMO_ACTIONS = {
    "phone_wait": ("Rappel proposé quand l'attente dépasse 3 minutes",
                   "Le serveur vocal propose un rappel dès 3 minutes d'attente ; les conseillers "
                   "rappellent dans l'heure."),
    "written_reply_time": ("Délai de réponse annoncé à chaque courriel",
                           "Chaque courriel reçu a un accusé de réception qui annonce le délai "
                           "de réponse ; un tableau de bord suit les réponses en retard."),
    "courtesy": ("Formation à l'accueil des nouveaux conseillers",
                 "Une demi-journée d'écoute active et de reformulation pour chaque nouveau "
                 "conseiller, puis une écoute croisée par mois."),
    "professionalism": ("Base de connaissances mise à jour chaque semaine",
                        "Les réponses types sont relues chaque lundi par un référent métier."),
    "answer_reliability": ("Réponses types relues par les experts",
                           "Les 50 réponses les plus envoyées sont relues par le service "
                           "juridique et mises à jour."),
    "mutual_understanding": ("Reformulation systématique en fin d'appel",
                             "Le conseiller résume la demande et la suite donnée avant de "
                             "raccrocher."),
    "next_steps": ("Suite de la demande confirmée par écrit",
                   "Un message récapitule la suite donnée à la demande et son délai après "
                   "chaque contact."),
    "complaint_handling": ("Réclamations suivies par un référent",
                           "Chaque réclamation a un référent nommé qui rappelle le client à la "
                           "clôture."),
    "ease_of_reaching": ("Horaires élargis le samedi matin",
                         "Le centre répond au téléphone le samedi de 9 h à 12 h."),
    "cost_information": ("Coût de l'appel annoncé sur le site",
                         "Le site et le serveur vocal annoncent que l'appel est gratuit."),
    "confidentiality": ("Vérification d'identité en deux questions",
                        "Deux questions de sécurité avant tout échange sur le dossier."),
}


def _improvement_plan(session, slug: str, owner: User, today: date) -> list[str]:
    """Last year's improvement plan: an action on each of the items its key drivers put first
    to improve (at most three), and one on a commitment the questionnaire does not ask about,
    at every stage (done, in progress, abandoned, planned and overdue). This year's report
    follows them."""
    from analysis import analyze, parse_design
    from survey.improvement import operations as ops
    from survey.models import ImprovementAction
    from survey.reporting.builder import drivers_of
    from survey.reporting.dataset import build_dataset

    campaign = session.scalar(select(Campaign).where(Campaign.slug == slug))
    if campaign is None or session.scalar(select(func.count()).select_from(ImprovementAction)
                                          .where(ImprovementAction.campaign_id == campaign.id)):
        return []
    dataset = build_dataset(session, campaign)
    drivers = drivers_of(dataset) or {}
    grid = drivers.get("grid")
    ranked = sorted(grid.drivers, key=lambda d: -d.importance) if grid else []
    chosen = [d.item for d in ranked if d.quadrant == "priority to improve"][:3]
    chosen += [d.item for d in ranked if d.item not in chosen][: 3 - len(chosen)]
    estimates = {e.indicator: e.estimate for e in analyze(
        dataset.frame, parse_design({**dataset.design, "by": []})).estimates if e.domain is None}
    items = ops.campaign_items(campaign, "fr")
    stages = [("done", today - timedelta(days=60)), ("in_progress", today + timedelta(days=20)),
              ("abandoned", today + timedelta(days=90))]
    made = []
    for item, (status, due_on) in zip(chosen, stages, strict=False):
        title, change = DEMO_ACTIONS.get(item, (
            f"Plan d'action : {items.get(item, item)}",
            "Un groupe de conseillers analyse les verbatims sur ce point et propose trois "
            "changements à la direction."))
        indicator = f"{item}_satisfied"
        target = None
        if indicator in estimates:
            target = min(0.95, round(estimates[indicator] + 0.05, 2))
        action = ops.create_action(session, campaign, {
            "title": title, "item": item, "change": change,
            "owner_id": owner.id, "due_on": due_on,
            "indicator": indicator if target is not None else None, "target": target,
            "public": status == "done",
        }, actor="demo")
        if status != "planned":
            if status == "done":
                ops.change_status(session, action, "in_progress", actor="demo")
            ops.change_status(session, action, status, today=today - timedelta(days=45),
                              note="Budget reporté à l'an prochain."
                              if status == "abandoned" else None, actor="demo")
        made.append(action)
    made.append(ops.create_action(session, campaign, {
        "title": "Horaires d'ouverture affichés partout", "item": None,
        "commitment": "Informer les clients des horaires et délais du service",
        "change": "Les horaires et délais de réponse figurent sur le site, les courriels et "
                  "le serveur vocal.", "owner_id": owner.id,
        "due_on": today - timedelta(days=10), "indicator": "index",
        "target": min(100.0, round(estimates.get("index", 70.0) + 3, 0)), "public": False,
    }, actor="demo"))
    session.commit()
    return [f"  improvement plan: {len(made)} actions decided from the {campaign.year} results, "
            "followed in this year's report"]


def _this_year(session, year: int, today: date, respondents: int) -> list[str]:
    """This year's wave: planned, drawn, launched through the outbox, half answered."""
    from survey.distribution.operations import launch_campaign
    from survey.distribution.worker import Sender, SenderSettings
    from survey.frame.sampling import draw_sample, plan_campaign
    from survey.reporting.synthetic import seed_synthetic_responses
    from survey.respond.operations import create_test_invitation

    config = current_app.config
    campaign, created = _campaign(session, year, _centre_questionnaire)
    if created:
        # Raked on two variables of the customer file, to the margins counted at the draw.
        plan_campaign(session, campaign, strata_variables=["segment"], margin=0.04,
                      confidence=0.95, response_rate=0.35, min_per_stratum=50,
                      calibration=("rake", ["segment", "canal"]),
                      secret_key=config["SECRET_KEY"], actor="demo")
        draw_sample(session, campaign, DEMO_SEED, secret_key=config["SECRET_KEY"], actor="demo")
        # Fieldwork started two weeks ago, so that the answers so far have happened already.
        # The demo's outbox rings no phone: its SMS need not wait for the 9:00-20:00 window.
        started = datetime.combine(today - timedelta(days=14), time(9), UTC)
        launch_campaign(session, campaign, secret_key=config["SECRET_KEY"], actor="demo",
                        until=today + timedelta(days=14), timezone=config["TIMEZONE"],
                        now=started, sms_window=False)
        session.commit()
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        Sender(app, settings=SenderSettings(sms_window=False, idle_sleep=0)).run(once=True)
        closing = campaign.fieldwork_end
        campaign.fieldwork_end = today  # answers are simulated up to today only
        seed_synthetic_responses(session, campaign, rng_seed=year, n_respondents=respondents)
        campaign.fieldwork_end = closing
        session.commit()
    _report(session, campaign)
    link = create_test_invitation(session, campaign, config["SECRET_KEY"], config["BASE_URL"],
                                  actor="demo")
    session.commit()
    return [
        f"  campaign: {campaign.slug} ({campaign.status}): sample drawn, invitations written "
        f"to {config['INSTANCE_PATH']}/outbox, answers arriving",
        f"  test link (not counted in the statistics): {link}",
    ]


def _report(session, campaign: Campaign) -> None:
    from survey.reporting.operations import generate_report

    if session.scalar(select(func.count()).select_from(Report)
                      .where(Report.campaign_id == campaign.id)):
        return
    generate_report(session, campaign, lang="fr", instance_path=current_app.instance_path,
                    actor="demo")
    session.commit()
