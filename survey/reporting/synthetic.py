"""Plausible synthetic respondents, for the demo, the tests and the benchmark.

Each respondent has a latent satisfaction drawn around their stratum's level; every rating,
the NPS and the comments follow from it, so the report's sections (drivers, domains,
reliability, follow-ups) all have something to show. Everything is seeded: the same seed gives
the same answers.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.sample_size import plan_sample
from questionnaires import NOT_APPLICABLE, Questionnaire
from questionnaires.questions import (
    CallbackQuestion,
    MultipleChoiceQuestion,
    NpsQuestion,
    RatingQuestion,
    SingleChoiceQuestion,
    TextQuestion,
    YesNoQuestion,
)
from survey.followups.operations import (
    current_calendar,
    new_follow_up_rows,
    programme_service_days,
)
from survey.frame.sampling import DEFAULT_RECENT_MONTHS, EXCLUSION_RULES, plan_document
from survey.models import (
    Campaign,
    Disposition,
    FollowUp,
    FollowUpNote,
    FollowUpOutcome,
    FollowUpStatus,
    Invitation,
    Response,
    ResponseStatus,
)
from survey.reporting.dataset import RespondentRecord, load_questionnaire
from survey.respond.operations import follow_ups_for

# The values of `survey.frame.synthetic`'s customer base, so that a demo campaign drawn from it
# and one filled here look alike; each segment has its own satisfaction level.
SEGMENTS = {"particulier": 0.25, "professionnel": -0.15}
SEGMENT_SHARES = (0.7, 0.3)
CONTACT_CHANNELS = ("téléphone", "email", "chat", "courrier")
CHANNEL_SHARES = (0.5, 0.3, 0.15, 0.05)
SITES = ("Lyon", "Nantes", "Lille")
COMMENTS = {
    "positive": (
        "Conseiller très aimable et efficace, merci.",
        "Réponse rapide et claire, rien à redire.",
        "Very helpful adviser, problem solved at the first call.",
    ),
    "neutral": (
        "Correct dans l'ensemble, mais il faut parfois rappeler.",
        "Les horaires d'ouverture pourraient être plus larges.",
    ),
    "negative": (
        "Attente beaucoup trop longue au téléphone, personne ne rappelle.",
        "Trois courriers sans réponse. Rappelez-moi au 06 12 34 56 78 svp.",
        "Still waiting for an answer, write to me at jane.doe@example.org",
        '=HYPERLINK("http://example.invalid") réponse inexacte sur ma facture',
    ),
}


def synthetic_answers(
    questionnaire: Questionnaire, rng: np.random.Generator, level: float
) -> dict[str, Any]:
    """One respondent's stored answers (the `Response.answers` shape) around `level`."""
    satisfaction = level + rng.normal(0.0, 0.9)
    answers: dict[str, Any] = {}
    for _, question in questionnaire.questions():
        if not questionnaire.is_shown(question, answers):
            continue
        code = question.code
        if isinstance(question, RatingQuestion):
            if question.not_applicable and rng.random() < 0.12:
                answers[code] = NOT_APPLICABLE
                continue
            loading, offset = _item_profile(code)
            middle = (question.min + question.max) / 2 + 1.2 + offset
            point = middle + loading * satisfaction + rng.normal(0.0, 0.7)
            answers[code] = int(np.clip(round(point), question.min, question.max))
        elif isinstance(question, NpsQuestion):
            answers[code] = int(
                np.clip(round(8.0 + 1.8 * satisfaction + rng.normal(0, 1.2)), 0, 10)
            )
        elif isinstance(question, MultipleChoiceQuestion):
            values = question.choice_values()
            chosen = [value for value in values if rng.random() < 0.45] or [values[0]]
            answers[code] = chosen
        elif isinstance(question, SingleChoiceQuestion):
            answers[code] = str(rng.choice(question.choice_values()))
        elif isinstance(question, YesNoQuestion):
            answers[code] = bool(rng.random() < 0.2)
        elif isinstance(question, TextQuestion):
            if rng.random() < 0.3:
                mood = (
                    "positive"
                    if satisfaction > 0.4
                    else "negative"
                    if satisfaction < -0.6
                    else "neutral"
                )
                answers[code] = str(rng.choice(COMMENTS[mood]))
        elif isinstance(question, CallbackQuestion):
            wants = rng.random() < (0.25 if satisfaction < -0.5 else 0.03)
            answers[code] = (
                {"requested": True, "channel": str(rng.choice(question.channels)), "consent": True}
                if wants
                else {"requested": False}
            )
    return answers


def _item_profile(code: str) -> tuple[float, float]:
    """How strongly an item follows overall satisfaction, and how well it does on its own:
    fixed per item (from its code) so that the key-drivers grid has something to show."""
    digest = hashlib.sha256(code.encode()).digest()
    return 0.4 + 0.9 * digest[0] / 255, -0.5 + 0.9 * digest[1] / 255


def synthetic_attributes(rng: np.random.Generator) -> dict[str, str]:
    return {
        "segment": str(rng.choice(list(SEGMENTS), p=SEGMENT_SHARES)),
        "channel": str(rng.choice(CONTACT_CHANNELS, p=CHANNEL_SHARES)),
        "site": str(rng.choice(SITES)),
    }


def synthetic_records(
    questionnaire: Questionnaire, n_respondents: int, rng_seed: int, *, shift: float = 0.0
) -> list[RespondentRecord]:
    """Respondents without a database (the benchmark's input), stratified by segment."""
    rng = np.random.default_rng(rng_seed)
    records = []
    for _ in range(n_respondents):
        attributes = synthetic_attributes(rng)
        level = SEGMENTS[attributes["segment"]] + shift
        records.append(
            RespondentRecord(
                stratum=attributes["segment"],
                invitation_channel=str(rng.choice(["email", "sms"], p=[0.8, 0.2])),
                attributes=attributes,
                design_weight=1.0,
                answers=synthetic_answers(questionnaire, rng, level),
            )
        )
    return records


def seed_synthetic_responses(
    session: Session,
    campaign: Campaign,
    rng_seed: int,
    n_respondents: int,
    *,
    response_rate: float = 0.35,
    shift: float = 0.0,
    frame_size: int | None = None,
) -> dict[str, int]:
    """Fill `campaign` with invitations, dispositions, complete responses and follow-ups.

    When the campaign already has (drawn) invitations, a share of them answers; otherwise a
    stratified sample of ``n_respondents / response_rate`` invitations is created first, with
    frame counts, plan, seed and fieldwork dates set if missing. ``shift`` moves the whole
    satisfaction level (last year's campaign a little lower, for instance). Flushes; the
    caller commits. Returns counts.
    """
    rng = np.random.default_rng(rng_seed)
    questionnaire = load_questionnaire(campaign)
    invitations = list(
        session.scalars(
            select(Invitation)
            .where(Invitation.campaign_id == campaign.id, Invitation.is_test.is_(False))
            .order_by(Invitation.id)
        )
    )
    if not invitations:
        invitations = _create_invitations(
            session, campaign, rng, round(n_respondents / response_rate), frame_size
        )
    start = campaign.fieldwork_start or date(campaign.year, 3, 1)
    end = campaign.fieldwork_end or start + timedelta(days=27)
    campaign.fieldwork_start, campaign.fieldwork_end = start, end
    days = max((end - start).days, 1)
    respondents = set(
        rng.choice(len(invitations), size=min(n_respondents, len(invitations)), replace=False)
    )
    counts = {"invitations": len(invitations), "responses": 0, "follow_ups": 0}
    for position, invitation in enumerate(invitations):
        if position not in respondents:
            invitation.disposition = str(
                rng.choice(
                    [Disposition.DELIVERED, Disposition.SENT, Disposition.BOUNCED,
                     Disposition.OPTED_OUT, Disposition.PARTIAL],
                    p=[0.62, 0.18, 0.08, 0.07, 0.05],
                )
            )  # fmt: skip
            continue
        level = SEGMENTS.get(str((invitation.attributes or {}).get("segment")), 0.0) + shift
        answers = synthetic_answers(questionnaire, rng, level)
        # Answers arrive mostly in the first days after each mailing (invitation, reminders).
        day = min(int(rng.exponential(days / 4)), days)
        completed = datetime.combine(start + timedelta(days=day), time(9), UTC) + timedelta(
            minutes=int(rng.integers(0, 12 * 60))
        )
        response = Response(
            invitation_id=invitation.id,
            questionnaire_version_id=campaign.questionnaire_version_id,
            answers=answers,
            status=ResponseStatus.COMPLETE.value,
            language=invitation.language,
            started_at=completed - timedelta(minutes=4),
            completed_at=completed,
            current_page=len(questionnaire.pages) - 1,
        )
        session.add(response)
        invitation.disposition = Disposition.COMPLETE.value
        invitation.first_opened_at = response.started_at
        invitation.completed_at = completed
        counts["responses"] += 1
        session.flush()
        counts["follow_ups"] += _follow_ups(
            session, campaign, response, answers, questionnaire, rng
        )
    session.flush()
    return counts


def _create_invitations(
    session: Session,
    campaign: Campaign,
    rng: np.random.Generator,
    size: int,
    frame_size: int | None,
) -> list[Invitation]:
    drawn = [synthetic_attributes(rng) for _ in range(size)]
    sampled = {segment: sum(a["segment"] == segment for a in drawn) for segment in SEGMENTS}
    frame_size = frame_size or size * 8
    if not campaign.frame_counts:
        campaign.frame_counts = {
            segment: max(round(frame_size * share), sampled[segment])
            for segment, share in zip(SEGMENTS, SEGMENT_SHARES, strict=True)
        }
        campaign.frame_sha256 = hashlib.sha256(
            f"synthetic frame {campaign.slug}".encode()
        ).hexdigest()
        # The frame's own rules (survey.frame.sampling.EXCLUSION_RULES), with made-up counts.
        campaign.exclusions = dict.fromkeys(EXCLUSION_RULES, 0) | {
            "suppressed": 42, "recently_invited": 130, "no_contact": 17,
        }
        campaign.seed = campaign.seed or 20260101 + campaign.year
        campaign.drawn_at = campaign.drawn_at or datetime(campaign.year, 2, 20, 10, tzinfo=UTC)
    if not campaign.plan:
        # The same document a real plan stores, so that every page reading it works.
        margin, confidence, response_rate = 0.03, 0.95, 0.35
        campaign.plan = plan_document(
            plan_sample(campaign.frame_counts, margin, confidence, response_rate),
            variables=["segment"], margin=margin, confidence=confidence,
            response_rate=response_rate, allocation="proportional", min_per_stratum=0,
            prior_sd=None, recent_months=DEFAULT_RECENT_MONTHS, excluded=(),
            exclusions=campaign.exclusions or {}, frame_size=sum(campaign.frame_counts.values()),
            frame_sha256=campaign.frame_sha256 or "",
        )
    invitations = []
    for attributes in drawn:
        invitation = Invitation(
            campaign_id=campaign.id,
            customer_id=None,
            stratum=attributes["segment"],
            design_weight=campaign.frame_counts[attributes["segment"]]
            / max(sampled[attributes["segment"]], 1),
            attributes=attributes,
            token_salt=secrets.token_hex(16),
            token_hash=hashlib.sha256(secrets.token_bytes(32)).hexdigest(),
            language="fr" if rng.random() < 0.9 else "en",
            channel=str(rng.choice(campaign.channels or ["email"])),
            disposition=Disposition.SENT.value,
        )
        session.add(invitation)
        invitations.append(invitation)
    session.flush()
    return invitations


def _follow_ups(
    session: Session,
    campaign: Campaign,
    response: Response,
    answers: Mapping[str, Any],
    questionnaire: Questionnaire,
    rng: np.random.Generator,
) -> int:
    """The response's follow-ups, with the due dates a live one would get; four in five are
    handled (a first call, then closed with an outcome and a note), the rest still open."""
    found = follow_ups_for(questionnaire, answers)
    if not found:
        return 0
    created = response.completed_at
    callback_days, detractor_days = programme_service_days(session, campaign.id)
    rows = new_follow_up_rows(
        questionnaire, answers, found, campaign_id=campaign.id, response_id=response.id,
        created=created, callback_days=callback_days, detractor_days=detractor_days,
        calendar=current_calendar(),
    )  # fmt: skip
    for row in rows:
        item = FollowUp(**row)
        if rng.random() < 0.8:
            contact = created + timedelta(hours=float(rng.gamma(2.0, 10.0)))
            closed = contact + timedelta(hours=float(rng.gamma(1.5, 12.0)))
            outcome = str(rng.choice([o.value for o in FollowUpOutcome],
                                     p=[0.55, 0.2, 0.1, 0.1, 0.05]))
            item.status = FollowUpStatus.CLOSED.value
            item.first_contact_at = None if outcome == "unreachable" else contact
            item.contact_attempts = 3 if outcome == "unreachable" else 1
            item.closed_at = closed
            item.outcome = outcome
            item.outcome_reference = f"REC-{campaign.year}-{response.id:05d}" if (
                outcome == "complaint") else None
            item.notes.append(FollowUpNote(body="Rappel effectué, solution proposée.",
                                           contact_attempt=True, created_at=contact))
        session.add(item)
    return len(rows)
