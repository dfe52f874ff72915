"""The frame, the plan and the draw of a campaign.

**Frame.** The customers a campaign may invite: the whole base minus, in this order (a customer
is counted under the first rule that removes them, so the counts add up):

1. ``erased`` — personal data purged;
2. ``excluded_list`` — external id on the campaign's explicit exclusion list;
3. ``suppressed`` — the email or the phone is suppressed (an opt-out of either contact removes
   the customer, since the person asked not to be surveyed);
4. ``no_consent`` — consent withdrawn;
5. ``recently_invited`` — invited by another campaign of the same programme launched less than
   ``recent_months`` months (default 12) before now; test invitations do not count;
6. ``no_contact`` — no usable contact for the campaign's channels: an email for the email
   channel, a mobile number (as `phonenumbers` types it) for SMS.

**Strata.** Strata variables are customer attribute names (``segment``, ``canal``…) or
``language``. A customer's *stratum key* is their values of the strata variables, in the order
the plan gives them, joined by ``" / "``; a blank or missing value is written ``(none)``. With
no strata variables every customer is in stratum ``all``.

**Frame fingerprint.** SHA-256 of the UTF-8 lines ``<stratum key>\\t<external id>\\n`` sorted
by stratum key then external id (Unicode code-point order), concatenated.

**Draw.** Stratified simple random sampling without replacement, reproducible from the seed:

1. ``rng = numpy.random.Generator(numpy.random.PCG64(seed))``, created once;
2. for each stratum in code-point order of its key: sort its ``N_h`` customers by external id
   (code-point order), draw ``u = rng.random(N_h)`` (one double per customer, in that order),
   and take the ``n_h`` customers with the smallest ``u`` (ties, which have probability zero,
   to the smaller external id). Every stratum consumes its ``N_h`` doubles, even one taken
   whole, so a stratum's draw depends only on the seed and the strata before it;
3. ``n_h`` is the plan's invitations for the stratum; a stratum with ``N_h <= n_h`` is taken
   whole; each invitation's design weight is ``N_h / n_h`` with ``n_h`` the number drawn.

``rng.random`` is PCG64's 64-bit output shifted right by 11 bits times 2⁻⁵³, which any
implementation of PCG64 (NumPy, R's `dqrng`, the reference C code) reproduces.

An invitation's channel is email when the campaign has the email channel and the customer an
email; otherwise SMS.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from analysis.design import AnalysisInputError
from analysis.sample_size import ALLOCATIONS, plan_sample
from survey.audit import record_event
from survey.frame.bulk import bulk_insert, timestamp_text
from survey.frame.contacts import is_mobile
from survey.frame.reading import header_key
from survey.models import (
    Campaign,
    CampaignStatus,
    Channel,
    Customer,
    Disposition,
    Invitation,
    Message,
    Suppression,
    utcnow,
)
from survey.tokens import issue_token
from survey.weighting.margins import frame_margins
from survey.weighting.operations import CalibrationError, plan_calibration
from survey.weighting.operations import describe as describe_calibration

STRATUM_SEPARATOR = " / "
MISSING_VALUE = "(none)"
WHOLE_FRAME = "all"
EXCLUSION_RULES = (
    "erased", "excluded_list", "suppressed", "no_consent", "recently_invited", "no_contact",
)
DEFAULT_RECENT_MONTHS = 12
MAX_SEED = 2**31 - 1
# Attribute names as the import writes them (`survey.frame.reading.header_key`).
VARIABLE_NAME = re.compile(r"[a-z0-9_]{1,100}")  # Campaign.seed is a 32-bit integer on PostgreSQL


class SamplingError(ValueError):
    """A plan or draw the campaign's state or the inputs do not allow; the message says why
    (English, the command line's), ``reason`` and ``params`` let a page word it in its reader's
    language (`survey.frame.problems`)."""

    def __init__(self, message: str, reason: str = "sampling_refused", **params: Any) -> None:
        super().__init__(message)
        self.reason = reason
        self.params = params

    @classmethod
    def wrapping(cls, error: Exception) -> SamplingError:
        """A refusal of the analysis or the calibration, keeping its reason and values."""
        reason = getattr(error, "reason", None)
        params = getattr(error, "params", None)
        if isinstance(reason, str) and isinstance(params, dict):
            return cls(str(error), reason, **params)
        return cls(str(error))


@dataclass
class Frame:
    """The units of a frame sorted by stratum key then external id, and what was excluded."""

    strata_variables: list[str]
    customer_ids: np.ndarray  # int64
    external_ids: list[str]
    strata: list[str]  # each unit's stratum key
    exclusions: dict[str, int]
    counts: dict[str, int]  # stratum key → N_h, in key order
    sha256: str
    # (stratum key, attributes JSON text, language) → units: the frame variables' source,
    # from which `survey.weighting` counts the margins without reading the base again.
    profiles: dict[tuple[str, str | None, str], int] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.external_ids)

    def members(self) -> dict[str, list[str]]:
        """Stratum key → external ids of its units, sorted."""
        members: dict[str, list[str]] = {}
        for stratum, external_id in zip(self.strata, self.external_ids, strict=True):
            members.setdefault(stratum, []).append(external_id)
        return members


# --- the frame ------------------------------------------------------------------------------


def stratum_key(values: Sequence[Any]) -> str:
    """One unit's stratum key from its strata values (see the module's documentation)."""
    return STRATUM_SEPARATOR.join(
        str(value).strip() if value is not None and str(value).strip() else MISSING_VALUE
        for value in values
    )


def frame_sha256(strata: Iterable[str], external_ids: Iterable[str]) -> str:
    """The frame's fingerprint (see the module's documentation)."""
    lines = sorted(zip(strata, external_ids, strict=True))
    return hashlib.sha256("".join(f"{s}\t{e}\n" for s, e in lines).encode()).hexdigest()


def _months_before(moment: datetime, months: int) -> datetime:
    return (pd.Timestamp(moment) - pd.DateOffset(months=months)).to_pydatetime()


def _suppressed(
    emails: Sequence[str | None], phones: Sequence[str | None], session: Session, secret_key: str,
    client_id: int,
) -> np.ndarray:
    # The campaign's client's opt-outs only: another client's do not silence this one's survey.
    hashes = set(session.scalars(
        select(Suppression.contact_hash).where(Suppression.client_id == client_id)))
    if not hashes:
        return np.zeros(len(emails), dtype=bool)
    key = secret_key.encode("utf-8")

    def hashed(kind: str, value: str | None) -> bool:
        if value is None:
            return False
        return hmac.digest(key, f"{kind}:{value}".encode(), "sha256").hex() in hashes

    return np.array(
        [hashed("email", e) or hashed("phone", p) for e, p in zip(emails, phones, strict=True)],
        dtype=bool,
    )


def _frame_rows(session: Session, client_id: int) -> list[tuple[Any, ...]]:
    """(id, external_id, email, phone, consent, erased, language, attributes JSON text).

    Read through the driver's own cursor: building a million ORM rows, or parsing a million
    JSON documents, would cost more than everything else the frame does. Attributes stay text
    here; the import writes them canonically, so a base has few distinct texts to parse.
    """
    connection = session.connection()
    cursor = connection.connection.driver_connection.cursor()
    try:
        # The driver's own placeholder: a constant, never input.
        placeholder = "%s" if connection.dialect.name == "postgresql" else "?"
        statement = ("SELECT id, external_id, email, phone, consent, erased_at IS NOT NULL, "
                     "language, CAST(attributes AS TEXT) FROM customer WHERE client_id = ")
        cursor.execute(statement + placeholder, (client_id,))
        return cursor.fetchall()
    finally:
        cursor.close()


def _strata_values(
    attributes_text: str | None, language: str, strata_variables: Sequence[str]
) -> list[Any]:
    attributes = (json.loads(attributes_text) if attributes_text else None) or {}
    return [
        language if variable == "language" else attributes.get(variable)
        for variable in strata_variables
    ]


def build_frame(
    session: Session,
    campaign: Campaign,
    strata_variables: Sequence[str],
    *,
    secret_key: str,
    recent_months: int = DEFAULT_RECENT_MONTHS,
    excluded_external_ids: Iterable[str] = (),
    now: datetime | None = None,
) -> Frame:
    """The campaign's frame today, with the count each exclusion rule removed."""
    strata_variables = parse_strata(strata_variables)
    now = now or utcnow()
    if recent_months < 0:
        raise SamplingError("the months since the last invitation must be 0 or more",
                            "negative_months")
    rows = _frame_rows(session, campaign.client_id)
    columns = list(zip(*rows, strict=True)) if rows else [()] * 8
    ids, external_ids, emails, phones, consent, erased, languages, attribute_texts = columns
    del rows, columns

    excluded_ids = {str(external_id).strip() for external_id in excluded_external_ids}
    cutoff = _months_before(now, recent_months)
    recently = (
        select(Invitation.customer_id)
        .join(Campaign, Invitation.campaign_id == Campaign.id)
        .where(
            Campaign.programme_id == campaign.programme_id,
            Campaign.id != campaign.id,
            Campaign.launched_at.is_not(None),
            Campaign.launched_at >= cutoff,
            Invitation.is_test.is_(False),
            Invitation.customer_id.is_not(None),
        )
        .distinct()
    )
    recently_invited = set(session.scalars(recently))
    has_email = np.array([email is not None for email in emails], dtype=bool)
    usable = has_email if Channel.EMAIL.value in campaign.channels else np.zeros_like(has_email)
    if Channel.SMS.value in campaign.channels:
        usable = usable | np.array(
            [u or (p is not None and is_mobile(p)) for u, p in zip(usable, phones, strict=True)],
            dtype=bool,
        )
    rules = {
        "erased": np.array(erased, dtype=bool),
        "excluded_list": np.array([e in excluded_ids for e in external_ids], dtype=bool),
        "suppressed": _suppressed(emails, phones, session, secret_key, campaign.client_id),
        "no_consent": ~np.array(consent, dtype=bool),
        "recently_invited": np.array([i in recently_invited for i in ids], dtype=bool),
        "no_contact": ~usable,
    }
    remaining = np.ones(len(ids), dtype=bool)
    exclusions: dict[str, int] = {}
    for rule in EXCLUSION_RULES:
        removed = remaining & rules[rule]
        exclusions[rule] = int(removed.sum())
        remaining &= ~removed

    # Group the remaining units by stratum key, computed once per distinct (attributes,
    # language): a base has few such combinations.
    keys: dict[tuple[str | None, str], str] = {}
    groups: dict[str, list[tuple[str, int]]] = {}
    profiles: dict[tuple[str, str | None, str], int] = {}
    variables_seen: set[str] = set()
    for keep, external_id, customer_id, language, attributes_text in zip(
        remaining.tolist(), external_ids, ids, languages, attribute_texts, strict=True
    ):
        if not keep:
            continue
        key = keys.get((attributes_text, language))
        if key is None:
            values = _strata_values(attributes_text, language, strata_variables)
            variables_seen.update(
                variable for variable, value in zip(strata_variables, values, strict=True)
                if value not in (None, "")
            )
            key = stratum_key(values) if strata_variables else WHOLE_FRAME
            keys[(attributes_text, language)] = key
        groups.setdefault(key, []).append((external_id, customer_id))
        profile = (key, attributes_text, language)
        profiles[profile] = profiles.get(profile, 0) + 1
    unknown = [variable for variable in strata_variables if variable not in variables_seen]
    if unknown and groups:
        raise SamplingError(
            f"no customer of the frame has a value for {', '.join(unknown)}: strata variables "
            f"are attributes of the customer file (known: {', '.join(known_variables(session))})",
            "strata_variable_unknown", variables=", ".join(unknown),
            known=", ".join(known_variables(session)),
        )
    too_long = [key for key in groups if len(key) > 200]
    if too_long:
        raise SamplingError(f"stratum key {too_long[0][:60]!r}… is longer than 200 characters",
                            "stratum_key_too_long", key=too_long[0][:60], maximum=200)

    counts: dict[str, int] = {}
    strata: list[str] = []
    external: list[str] = []
    customer_ids: list[int] = []
    digest = hashlib.sha256()
    for key in sorted(groups):  # code-point order of keys, then of external ids
        members = sorted(groups.pop(key))
        counts[key] = len(members)
        strata += [key] * len(members)
        sorted_ids = [external_id for external_id, _ in members]
        external += sorted_ids
        customer_ids += [customer_id for _, customer_id in members]
        prefix = f"{key}\t"
        digest.update((prefix + f"\n{prefix}".join(sorted_ids) + "\n").encode())
    return Frame(
        strata_variables=list(strata_variables),
        customer_ids=np.array(customer_ids, dtype=np.int64),
        external_ids=external,
        strata=strata,
        exclusions=exclusions,
        counts=counts,
        sha256=digest.hexdigest(),
        profiles=profiles,
    )


def parse_strata(text: str | Sequence[str]) -> list[str]:
    """``"Segment, Canal"`` → ``["segment", "canal"]`` (as the import names attributes)."""
    names = text.split(",") if isinstance(text, str) else list(text)
    variables = [header_key(name) for name in names if header_key(name)]
    if len(set(variables)) != len(variables):
        raise SamplingError(f"a strata variable is repeated in {variables}",
                            "strata_variable_repeated", variables=", ".join(variables))
    for variable in variables:
        if not VARIABLE_NAME.fullmatch(variable):
            raise SamplingError(
                f"strata variable {variable!r} is not an attribute name: attributes are named "
                "in lowercase letters, digits and underscores (segment, canal, site…)",
                "strata_variable_name", variable=variable,
            )
    return variables


def known_variables(session: Session, limit: int = 10000) -> list[str]:
    """Attribute names seen on (a sample of) the customers, and ``language``."""
    names: set[str] = set()
    for attributes in session.scalars(select(Customer.attributes).limit(limit)):
        names.update(attributes or {})
    return ["language", *sorted(names)]


# --- the plan -------------------------------------------------------------------------------


def _check_can_sample(session: Session, campaign: Campaign) -> None:
    if campaign.status == CampaignStatus.DRAFT.value:
        return
    if campaign.status == CampaignStatus.SAMPLED.value:
        sent = session.scalar(select(exists().where(Message.campaign_id == campaign.id)))
        if not sent:
            return
    raise SamplingError(
        f"campaign {campaign.slug} is {campaign.status}: the sample can only be planned or "
        "drawn in draft, or again while sampled before any message is queued",
        "campaign_not_samplable", status=campaign.status,
    )


def plan_document(
    sample_plan: Any,
    *,
    variables: Sequence[str],
    margin: float,
    confidence: float,
    response_rate: float,
    allocation: str,
    min_per_stratum: int,
    prior_sd: Mapping[str, float] | None,
    recent_months: int,
    excluded: Sequence[str],
    exclusions: Mapping[str, int],
    frame_size: int,
    frame_sha256: str,
) -> dict[str, Any]:
    """The plan as stored in `Campaign.plan` (what the plan page and the report read)."""
    return {
        "strata_variables": list(variables),
        "margin": margin,
        "confidence": confidence,
        "response_rate": response_rate,
        "allocation": allocation,
        "min_per_stratum": min_per_stratum,
        "prior_sd": dict(prior_sd) if prior_sd and allocation == "neyman" else None,
        "recent_months": recent_months,
        "excluded_external_ids": list(excluded),
        "exclusions": dict(exclusions),
        "frame_size": frame_size,
        "frame_sha256": frame_sha256,
        "expected_margin": sample_plan.expected_margin,
        "cochran_respondents": sample_plan.cochran_respondents,
        "respondents": sample_plan.respondents,
        "invitations": sample_plan.invitations,
        "strata": [
            {
                "stratum": stratum.stratum,
                "population": stratum.population,
                "respondents": stratum.respondents,
                "invitations": stratum.invitations,
                "invitations_capped": stratum.invitations_capped,
                "taken_whole": stratum.invitations >= stratum.population,
                "expected_margin": stratum.expected_margin,
            }
            for stratum in sample_plan.strata
        ],
        "planned_at": utcnow().isoformat(timespec="seconds"),
    }


def plan_campaign(
    session: Session,
    campaign: Campaign,
    *,
    strata_variables: Sequence[str],
    margin: float,
    confidence: float,
    response_rate: float,
    allocation: str = "proportional",
    min_per_stratum: int = 0,
    prior_sd: Mapping[str, float] | None = None,
    recent_months: int = DEFAULT_RECENT_MONTHS,
    excluded_external_ids: Iterable[str] = (),
    calibration: tuple[str, Sequence[str]] | None = None,
    calibration_margins: Mapping[str, Mapping[str, Any]] | None = None,
    calibration_reference: str | None = None,
    secret_key: str,
    actor: str,
    actor_id: int | None = None,
    save: bool = True,
) -> dict[str, Any]:
    """Build the frame, size the sample with `analysis.plan_sample`, store it in `campaign.plan`.

    Returns the plan. With `save=False` nothing is stored (a preview). Planning again a
    sampled campaign (no message queued yet) discards its sample and puts it back in draft.
    `calibration` (method, variables) is checked against the frame and the allocation
    (`survey.weighting.operations.plan_calibration`), on the frame's margins or on
    `calibration_margins` given by hand with their `calibration_reference`.
    """
    _check_can_sample(session, campaign)
    if allocation not in ALLOCATIONS:
        raise SamplingError(f"allocation must be one of {', '.join(ALLOCATIONS)}",
                            "unknown_allocation", value=allocation)
    excluded = sorted({str(i).strip() for i in excluded_external_ids if str(i).strip()})
    variables = parse_strata(strata_variables)
    frame = build_frame(
        session, campaign, variables, secret_key=secret_key, recent_months=recent_months,
        excluded_external_ids=excluded,
    )
    if frame.size == 0:
        raise SamplingError(
            f"the frame is empty after exclusions ({_describe(frame.exclusions)}): import "
            "customers or review the exclusions", "empty_frame",
            excluded=sum(frame.exclusions.values()),
        )
    try:
        sample_plan = plan_sample(
            frame.counts, margin, confidence, response_rate, allocation=allocation,
            min_per_stratum=min_per_stratum, prior_sd=prior_sd if allocation == "neyman" else None,
        )
    except AnalysisInputError as exc:
        raise SamplingError.wrapping(exc) from exc
    plan = plan_document(
        sample_plan, variables=variables, margin=margin, confidence=confidence,
        response_rate=response_rate, allocation=allocation, min_per_stratum=min_per_stratum,
        prior_sd=prior_sd, recent_months=recent_months, excluded=excluded,
        exclusions=frame.exclusions, frame_size=frame.size, frame_sha256=frame.sha256,
    )
    try:
        plan["calibration"] = plan_calibration(
            calibration, frame.profiles, plan, manual_margins=calibration_margins,
            reference=calibration_reference,
        )
    except CalibrationError as exc:
        raise SamplingError.wrapping(exc) from exc
    if not save:
        return plan
    if campaign.status == CampaignStatus.SAMPLED.value:
        _discard_sample(session, campaign)
        campaign.status = CampaignStatus.DRAFT.value
    campaign.plan = plan
    session.flush()
    record_event(
        session,
        "campaign.plan",
        actor=actor,
        actor_id=actor_id,
        object_type="campaign",
        object_id=campaign.id,
        campaign_id=campaign.id,
        summary={
            key: plan[key]
            for key in ("strata_variables", "margin", "confidence", "response_rate",
                        "allocation", "min_per_stratum", "recent_months", "exclusions",
                        "frame_size", "frame_sha256", "respondents", "invitations")
        } | {
            "excluded_list_size": len(excluded),
            "calibration": describe_calibration(plan["calibration"]),
        },
    )
    return plan


def plan_lines(plan: Mapping[str, Any]) -> list[str]:
    """The plan as the command line prints it: one line per stratum, then the totals."""
    lines = [
        f"frame: {plan['frame_size']} customers (sha256 {plan['frame_sha256']}); excluded: "
        f"{_describe(plan['exclusions'])}",
        f"{'stratum':<30} {'N':>9} {'respondents':>11} {'invitations':>11} {'margin':>8}",
    ]
    for stratum in plan["strata"]:
        note = " taken whole" if stratum["taken_whole"] else ""
        note += " (capped: expected respondents short)" if stratum["invitations_capped"] else ""
        lines.append(
            f"{stratum['stratum'][:30]:<30} {stratum['population']:>9} "
            f"{stratum['respondents']:>11} {stratum['invitations']:>11} "
            f"{stratum['expected_margin'] * 100:>7.2f}%{note}"
        )
    lines.append(
        f"{'total':<30} {plan['frame_size']:>9} {plan['respondents']:>11} "
        f"{plan['invitations']:>11} {plan['expected_margin'] * 100:>7.2f}%"
    )
    lines.append(
        f"target ±{plan['margin'] * 100:.2f} points at {plan['confidence']:.0%} confidence, "
        f"response rate {plan['response_rate']:.0%}, {plan['allocation']} allocation"
    )
    calibration = plan.get("calibration")
    if calibration:
        source = (
            "margins of the frame at the draw"
            if calibration["source"] == "frame"
            else f"margins given by hand ({calibration.get('reference') or 'no source given'})"
        )
        lines.append(f"calibration: {describe_calibration(calibration)} on {source}")
        lines.append(f"{'cell':<30} {'N':>9} {'sampled':>11} {'respondents':>11}")
        for cell in calibration["cells"]:
            flag = "" if cell["enough"] else " few respondents expected"
            name = f"{cell['variable']} = {cell['level']}"
            lines.append(
                f"{name[:30]:<30} {cell['population']:>9.0f} {cell['expected_sampled']:>11.1f} "
                f"{cell['expected_respondents']:>11.1f}{flag}"
            )
    return lines


def _describe(exclusions: Mapping[str, int]) -> str:
    return ", ".join(f"{rule} {count}" for rule, count in exclusions.items() if count) or "none"


# --- the draw -------------------------------------------------------------------------------


def draw_stratified(
    members: Mapping[str, Sequence[str]], sizes: Mapping[str, int], seed: int
) -> dict[str, list[str]]:
    """The external ids drawn in each stratum (see the module's documentation), sorted.

    `members` maps each stratum key to its customers' external ids; `sizes` the number to
    draw. Pure and deterministic: the auditor's reference.
    """
    rng = np.random.Generator(np.random.PCG64(seed))
    drawn: dict[str, list[str]] = {}
    for stratum in sorted(members):
        ids = np.array(sorted(members[stratum]), dtype=object)
        keys = rng.random(len(ids))
        wanted = min(int(sizes[stratum]), len(ids))
        order = np.argsort(keys, kind="stable")[:wanted]
        drawn[stratum] = sorted(ids[order].tolist())
    return drawn


def _draw_positions(frame: Frame, sizes: Mapping[str, int], seed: int) -> dict[str, np.ndarray]:
    """`draw_stratified` over the frame's own order, as positions in the frame.

    The frame is sorted by stratum key then external id, so each stratum is a slice already in
    the order the algorithm wants; `tests/frame` checks both give the same sample.
    """
    rng = np.random.Generator(np.random.PCG64(seed))
    drawn: dict[str, np.ndarray] = {}
    start = 0
    for stratum in sorted(frame.counts):
        count = frame.counts[stratum]
        keys = rng.random(count)
        wanted = min(int(sizes[stratum]), count)
        drawn[stratum] = np.sort(np.argsort(keys, kind="stable")[:wanted]) + start
        start += count
    return drawn


@dataclass
class DrawResult:
    seed: int
    frame_size: int
    sample_size: int
    strata: list[dict[str, Any]] = field(default_factory=list)

    @property
    def taken_whole(self) -> list[str]:
        return [stratum["stratum"] for stratum in self.strata if stratum["taken_whole"]]


def _sampled_customers(
    session: Session, customer_ids: Sequence[int]
) -> dict[int, tuple[bool, str, dict[str, Any]]]:
    """customer id → (has an email, language, attributes) for the sampled customers."""
    details: dict[int, tuple[bool, str, dict[str, Any]]] = {}
    for start in range(0, len(customer_ids), 5000):
        chunk = customer_ids[start : start + 5000]
        for customer_id, email, language, attributes in session.execute(
            select(Customer.id, Customer.email, Customer.language, Customer.attributes).where(
                Customer.id.in_(chunk)
            )
        ):
            details[customer_id] = (email is not None, language, attributes or {})
    return details


def _discard_sample(session: Session, campaign: Campaign) -> int:
    result = session.execute(
        delete(Invitation).where(
            Invitation.campaign_id == campaign.id, Invitation.is_test.is_(False)
        )
    )
    return result.rowcount or 0


def draw_sample(
    session: Session,
    campaign: Campaign,
    seed: int,
    *,
    secret_key: str,
    actor: str,
    actor_id: int | None = None,
) -> DrawResult:
    """Draw the planned sample: one Invitation per sampled customer; campaign → sampled.

    Refused when there is no plan, when the base changed since the plan (its frame
    fingerprint differs: plan again), after a message was queued, or with a seed outside
    0…2³¹−1. Drawing again while sampled replaces the sample.
    """
    _check_can_sample(session, campaign)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise SamplingError(f"the seed must be a whole number from 0 to {MAX_SEED}",
                            "bad_seed", maximum=MAX_SEED)
    plan = campaign.plan
    if not plan:
        raise SamplingError(f"campaign {campaign.slug} has no plan: run `campaigns plan` first",
                            "no_plan")
    frame = build_frame(
        session, campaign, plan["strata_variables"], secret_key=secret_key,
        recent_months=plan["recent_months"],
        excluded_external_ids=plan["excluded_external_ids"],
    )
    if frame.sha256 != plan["frame_sha256"]:
        raise SamplingError(
            "the frame changed since the plan (customers imported, suppressed or invited "
            "since): plan the campaign again before drawing", "frame_changed",
        )
    sizes = {stratum["stratum"]: stratum["invitations"] for stratum in plan["strata"]}
    drawn = _draw_positions(frame, sizes, seed)

    if campaign.status == CampaignStatus.SAMPLED.value:
        _discard_sample(session, campaign)
    chosen = {
        customer_id: stratum
        for stratum, positions in drawn.items()
        for customer_id in frame.customer_ids[positions].tolist()
    }
    details = _sampled_customers(session, list(chosen))
    now = utcnow()
    result = DrawResult(seed=seed, frame_size=frame.size, sample_size=0)
    weights: dict[str, float] = {}
    for stratum, positions in drawn.items():
        population = frame.counts[stratum]
        weights[stratum] = population / len(positions)
        result.strata.append(
            {
                "stratum": stratum,
                "population": population,
                "planned": sizes[stratum],
                "drawn": len(positions),
                "taken_whole": len(positions) == population,
                "design_weight": weights[stratum],
            }
        )
    has_email_channel = Channel.EMAIL.value in campaign.channels
    created_at = timestamp_text(now)
    rows = []
    for customer_id, stratum in chosen.items():
        has_email, language, attributes = details[customer_id]
        salt, _token, token_hash = issue_token(secret_key)
        channel = Channel.EMAIL if has_email_channel and has_email else Channel.SMS
        snapshot = json.dumps({**attributes, "language": language}, ensure_ascii=False)
        rows.append(
            (campaign.client_id, campaign.id, customer_id, stratum, weights[stratum], snapshot,
             salt, token_hash, language, channel.value, Disposition.PENDING.value, False,
             created_at)
        )
    bulk_insert(
        session,
        "invitation",
        ("client_id", "campaign_id", "customer_id", "stratum", "design_weight", "attributes",
         "token_salt",
         "token_hash", "language", "channel", "disposition", "is_test", "created_at"),
        rows,
    )
    result.sample_size = len(rows)
    campaign.seed = seed
    campaign.frame_counts = frame.counts
    campaign.frame_margins = frame_margins(frame.profiles)
    campaign.frame_sha256 = frame.sha256
    campaign.exclusions = frame.exclusions
    campaign.drawn_at = now
    campaign.status = CampaignStatus.SAMPLED.value
    session.flush()
    record_event(
        session,
        "campaign.draw",
        actor=actor,
        actor_id=actor_id,
        object_type="campaign",
        object_id=campaign.id,
        campaign_id=campaign.id,
        summary={
            "seed": seed,
            "frame_size": frame.size,
            "frame_sha256": frame.sha256,
            "sample_size": result.sample_size,
            "taken_whole": result.taken_whole,
        },
    )
    return result
