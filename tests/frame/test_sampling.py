"""Exclusions, the frame, the plan and the reproducible stratified draw."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import func, select

from analysis.sample_size import expected_margin, expected_stratified_margin
from survey.frame.sampling import (
    SamplingError,
    build_frame,
    draw_sample,
    draw_stratified,
    frame_sha256,
    plan_campaign,
)
from survey.frame.suppressions import add_suppression, contact_hash
from survey.models import AuditEvent, CampaignStatus, Invitation, Message, utcnow
from survey.tokens import hash_token, token_for
from tests.survey.factories import make_campaign, make_customer, make_invitation

SECRET = "test-secret-key-that-is-long-enough-0123456789"

# The auditor's reference: these lists were computed once by the documented algorithm and are
# stored here so that a change of algorithm, library or database cannot go unnoticed.
MEMBERS = {
    "a": [f"K{i:02d}" for i in range(1, 21)],
    "b": [f"K{i:02d}" for i in range(21, 31)],
    "c": ["K31", "K32"],
}
EXPECTED_SEED_42 = {
    "a": ["K05", "K09", "K11", "K16", "K18"],
    "b": ["K26", "K28", "K29"],
    "c": ["K31", "K32"],
}


def test_draw_matches_the_stored_expected_list() -> None:
    assert draw_stratified(MEMBERS, {"a": 5, "b": 3, "c": 4}, 42) == EXPECTED_SEED_42
    # Member order in the input does not matter: units are sorted by external id first.
    shuffled = {key: list(reversed(ids)) for key, ids in MEMBERS.items()}
    assert draw_stratified(shuffled, {"a": 5, "b": 3, "c": 4}, 42) == EXPECTED_SEED_42
    assert draw_stratified(MEMBERS, {"a": 5, "b": 3, "c": 4}, 43) != EXPECTED_SEED_42


def test_draw_follows_the_documented_algorithm_from_raw_pcg64_output() -> None:
    """An independent re-implementation: PCG64 raw words → doubles → smallest keys."""
    bit_generator = np.random.PCG64(42)
    expected = {}
    for stratum in sorted(MEMBERS):
        ids = sorted(MEMBERS[stratum])
        raw = bit_generator.random_raw(len(ids))
        keys = (raw >> np.uint64(11)).astype(np.float64) * 2.0**-53
        wanted = min({"a": 5, "b": 3, "c": 4}[stratum], len(ids))
        expected[stratum] = sorted(ids[i] for i in np.argsort(keys, kind="stable")[:wanted])
    assert expected == EXPECTED_SEED_42


def fixture_frame(**campaign_fields):
    campaign = make_campaign(channels=campaign_fields.pop("channels", ["email"]),
                             **campaign_fields)
    for number in range(1, 33):
        segment = "a" if number <= 20 else "b" if number <= 30 else "c"
        make_customer(external_id=f"K{number:02d}", email=f"k{number}@exemple.fr",
                      attributes={"segment": segment, "site": "Lyon"})
    return campaign


def plan_fixture(session, campaign, **options):
    values = {"strata_variables": ["segment"], "margin": 0.2, "confidence": 0.95,
              "response_rate": 1.0, "secret_key": SECRET, "actor": "test"}
    values.update(options)
    return plan_campaign(session, campaign, **values)


def test_exclusion_rules_are_counted_once_each_in_order(session) -> None:
    campaign = make_campaign(channels=["email", "sms"])
    make_customer(external_id="ok", email="ok@exemple.fr", attributes={"segment": "a"})
    make_customer(external_id="sms-only", phone="+33612345678", attributes={"segment": "a"})
    make_customer(external_id="landline-only", phone="+33142685300")
    make_customer(external_id="nothing")
    make_customer(external_id="erased", email="e@exemple.fr", erased_at=utcnow())
    make_customer(external_id="listed", email="l@exemple.fr")
    make_customer(external_id="opted-out", email="o@exemple.fr", phone="+33612345679")
    make_customer(external_id="no-consent", email="n@exemple.fr", consent=False)
    recent = make_customer(external_id="recent", email="r@exemple.fr")
    old = make_customer(external_id="old", email="old@exemple.fr")
    earlier = make_campaign(programme=campaign.programme, year=2025,
                            launched_at=utcnow() - timedelta(days=100))
    make_invitation(earlier, customer=recent)
    much_earlier = make_campaign(programme=campaign.programme, year=2024,
                                 launched_at=utcnow() - timedelta(days=500))
    make_invitation(much_earlier, customer=old)
    add_suppression(session, "phone", "06 12 34 56 79", "unsubscribe", "sms", SECRET)

    frame = build_frame(session, campaign, ["segment"], secret_key=SECRET,
                        excluded_external_ids=["listed", "unknown"])
    assert frame.exclusions == {
        "erased": 1, "excluded_list": 1, "suppressed": 1, "no_consent": 1,
        "recently_invited": 1, "no_contact": 2,
    }
    assert frame.external_ids == ["old", "ok", "sms-only"]  # by stratum, then id
    assert frame.counts == {"(none)": 1, "a": 2}
    assert frame.strata == ["(none)", "a", "a"]
    assert frame.sha256 == frame_sha256(frame.strata, frame.external_ids)
    expected = hashlib.sha256(b"(none)\told\na\tok\na\tsms-only\n").hexdigest()
    assert frame.sha256 == expected
    # The same base for an email-only campaign: the SMS-only customer has no usable contact.
    email_only = make_campaign(programme=campaign.programme, channels=["email"])
    frame = build_frame(session, email_only, [], secret_key=SECRET, recent_months=0)
    # ok, listed (no list this time), old, and recent (recent_months=0 keeps it).
    assert frame.counts == {"all": 4}
    assert frame.exclusions["no_contact"] == 3


def test_suppression_is_a_keyed_hash_and_idempotent(session) -> None:
    first = add_suppression(session, "email", "Jean@Exemple.fr", "unsubscribe", "email", SECRET)
    again = add_suppression(session, "email", "jean@exemple.fr ", "unsubscribe", "web", SECRET)
    assert first.id == again.id
    assert first.contact_hash == contact_hash(SECRET, "email", "jean@exemple.fr")
    assert first.contact_hash != contact_hash("another key", "email", "jean@exemple.fr")
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "suppression.add"))
    assert ["jean" not in str(event.summary).lower() for event in events] == [True]


def test_plan_agrees_with_the_engine_formulas_and_is_stored(session) -> None:
    campaign = fixture_frame()
    plan = plan_fixture(session, campaign, response_rate=0.5, min_per_stratum=2)
    session.commit()
    assert campaign.status == CampaignStatus.DRAFT.value
    assert campaign.plan == plan
    strata = {stratum["stratum"]: stratum for stratum in plan["strata"]}
    assert {key: value["population"] for key, value in strata.items()} == {
        "a": 20, "b": 10, "c": 2}
    respondents = {key: value["respondents"] for key, value in strata.items()}
    population = {key: value["population"] for key, value in strata.items()}
    assert plan["expected_margin"] == pytest.approx(
        expected_stratified_margin(respondents, population, confidence=0.95), rel=1e-12)
    assert plan["expected_margin"] <= 0.2
    for key, stratum in strata.items():
        assert stratum["invitations"] == min(2 * stratum["respondents"], stratum["population"])
        if stratum["respondents"] < stratum["population"]:
            assert stratum["expected_margin"] == pytest.approx(
                expected_margin(stratum["respondents"], stratum["population"]), rel=1e-12)
    assert plan["exclusions"]["no_contact"] == 0 and plan["frame_size"] == 32
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "campaign.plan")).one()
    assert event.summary["frame_sha256"] == plan["frame_sha256"]


def test_plan_inputs_out_of_range_are_refused(session) -> None:
    campaign = fixture_frame()
    with pytest.raises(SamplingError, match="margin"):
        plan_fixture(session, campaign, margin=1.5)
    with pytest.raises(SamplingError, match="allocation"):
        plan_fixture(session, campaign, allocation="random")
    with pytest.raises(SamplingError, match="frame is empty"):
        plan_fixture(session, campaign, excluded_external_ids=[f"K{i:02d}" for i in range(33)])


def test_draw_is_reproducible_weighted_and_recorded(session) -> None:
    campaign = fixture_frame()
    plan = plan_fixture(session, campaign)
    sizes = {stratum["stratum"]: stratum["invitations"] for stratum in plan["strata"]}
    result = draw_sample(session, campaign, 42, secret_key=SECRET, actor="test")
    session.commit()
    invitations = session.scalars(select(Invitation).where(
        Invitation.campaign_id == campaign.id)).all()
    drawn = {}
    for invitation in invitations:
        drawn.setdefault(invitation.stratum, []).append(invitation.customer.external_id)
    assert {k: sorted(v) for k, v in drawn.items()} == draw_stratified(MEMBERS, sizes, 42)
    for stratum, population in campaign.frame_counts.items():
        weights = [i.design_weight for i in invitations if i.stratum == stratum]
        assert sum(weights) == pytest.approx(population)
    assert campaign.status == CampaignStatus.SAMPLED.value and campaign.seed == 42
    assert campaign.frame_sha256 == plan["frame_sha256"]
    assert campaign.exclusions == plan["exclusions"] and campaign.drawn_at is not None
    assert "c" in result.taken_whole  # two customers, at least two respondents planned
    some = invitations[0]
    assert some.channel == "email" and some.language == "fr"
    assert some.attributes == {"segment": some.stratum, "site": "Lyon", "language": "fr"}
    assert some.token_hash == hash_token(token_for(SECRET, some.token_salt))
    assert abs(some.created_at - campaign.drawn_at) < timedelta(seconds=1)
    assert some.is_test is False and some.disposition == "pending"


def test_the_stored_sample_of_a_fixture_plan_is_the_same_on_every_database(session) -> None:
    campaign = fixture_frame()
    plan_fixture(session, campaign, strata_variables=["segment"], margin=0.25,
                 allocation="equal")
    draw_sample(session, campaign, 20260101, secret_key=SECRET, actor="test")
    session.commit()
    sample = sorted(
        (i.stratum, i.customer.external_id)
        for i in session.scalars(select(Invitation).where(Invitation.campaign_id == campaign.id))
    )
    planned = {s["stratum"]: s["invitations"] for s in campaign.plan["strata"]}
    assert sample == sorted(
        (stratum, external_id)
        for stratum, ids in draw_stratified(MEMBERS, planned, 20260101).items()
        for external_id in ids
    )
    assert planned == STORED_EQUAL_PLAN
    assert sample == STORED_EQUAL_SAMPLE


STORED_EQUAL_PLAN = {"a": 7, "b": 6, "c": 2}
STORED_EQUAL_SAMPLE = [
    ("a", "K01"), ("a", "K05"), ("a", "K08"), ("a", "K11"), ("a", "K14"), ("a", "K18"),
    ("a", "K20"), ("b", "K21"), ("b", "K22"), ("b", "K24"), ("b", "K25"), ("b", "K26"),
    ("b", "K27"), ("c", "K31"), ("c", "K32"),
]


def test_redraw_replaces_the_sample_until_a_message_is_queued(session) -> None:
    campaign = fixture_frame()
    plan_fixture(session, campaign)
    draw_sample(session, campaign, 1, secret_key=SECRET, actor="test")
    first = {i.customer_id for i in session.scalars(select(Invitation))}
    draw_sample(session, campaign, 2, secret_key=SECRET, actor="test")
    second = {i.customer_id for i in session.scalars(select(Invitation))}
    assert first != second and len(first) == len(second)
    assert session.scalar(select(func.count()).select_from(Invitation)) == len(second)
    invitation = session.scalars(select(Invitation)).first()
    session.add(Message(invitation_id=invitation.id, campaign_id=campaign.id, channel="email"))
    session.flush()
    with pytest.raises(SamplingError, match="before any message"):
        draw_sample(session, campaign, 3, secret_key=SECRET, actor="test")
    campaign.status = CampaignStatus.OPEN.value
    with pytest.raises(SamplingError, match="is open"):
        plan_fixture(session, campaign)


def test_draw_refuses_without_plan_bad_seed_or_changed_frame(session) -> None:
    campaign = fixture_frame()
    with pytest.raises(SamplingError, match="no plan"):
        draw_sample(session, campaign, 1, secret_key=SECRET, actor="test")
    plan_fixture(session, campaign)
    with pytest.raises(SamplingError, match="seed"):
        draw_sample(session, campaign, -1, secret_key=SECRET, actor="test")
    with pytest.raises(SamplingError, match="seed"):
        draw_sample(session, campaign, 2**31, secret_key=SECRET, actor="test")
    make_customer(external_id="K99", email="new@exemple.fr", attributes={"segment": "a"})
    with pytest.raises(SamplingError, match="frame changed since the plan"):
        draw_sample(session, campaign, 1, secret_key=SECRET, actor="test")


def test_sms_channel_when_no_email(session) -> None:
    campaign = make_campaign(channels=["email", "sms"])
    make_customer(external_id="A", phone="+33612345678")
    make_customer(external_id="B", email="b@exemple.fr", phone="+33612345679")
    plan_fixture(session, campaign, strata_variables=[], margin=0.5)
    draw_sample(session, campaign, 7, secret_key=SECRET, actor="test")
    channels = {i.customer.external_id: i.channel for i in session.scalars(select(Invitation))}
    assert channels == {"A": "sms", "B": "email"}


def test_cli_plan_and_draw(runner, app) -> None:
    from survey.extensions import db

    with app.app_context():
        fixture_frame(slug="barometre-2026")
        db.session.commit()
    result = runner.invoke(["campaigns", "plan", "barometre-2026", "--strata", "segment",
                            "--margin", "0.2", "--response-rate", "0.5"])
    assert result.exit_code == 0, result.output
    assert "total" in result.output and "taken whole" in result.output
    result = runner.invoke(["campaigns", "draw", "barometre-2026", "--seed", "42"])
    assert result.exit_code == 0, result.output
    assert "c: 2 of 2, weight 1.0000 (taken whole)" in result.output
    result = runner.invoke(["campaigns", "draw", "nope", "--seed", "42"])
    assert result.exit_code == 2
    result = runner.invoke(["campaigns", "plan", "barometre-2026", "--strata", "segment",
                            "--margin", "2", "--response-rate", "0.5"])
    assert result.exit_code == 2 and "margin" in result.output


def test_strata_variables_are_attribute_names_known_to_the_frame(session) -> None:
    campaign = fixture_frame()
    with pytest.raises(SamplingError, match="no customer of the frame has a value for segmen:"):
        plan_fixture(session, campaign, strata_variables=["segmen", "site"])
    with pytest.raises(SamplingError, match="repeated"):
        plan_fixture(session, campaign, strata_variables=["segment", "Segment"])
    plan = plan_fixture(session, campaign, strata_variables=["Segment", " Site "])
    assert plan["strata_variables"] == ["segment", "site"]
    assert [s["stratum"] for s in plan["strata"]] == ["a / Lyon", "b / Lyon", "c / Lyon"]


def test_neyman_allocation_follows_the_prior_standard_deviations(runner, app) -> None:
    with app.app_context():
        from survey.extensions import db

        fixture_frame(slug="neyman-2026")
        db.session.commit()
    result = runner.invoke(["campaigns", "plan", "neyman-2026", "--strata", "segment",
                            "--margin", "0.2", "--response-rate", "1", "--allocation", "neyman",
                            "--prior-sd", "a=0.1", "--prior-sd", "b=0.5", "--prior-sd", "c=0.5",
                            "--json"])
    assert result.exit_code == 0, result.output
    import json

    plan = json.loads(result.output)
    sizes = {s["stratum"]: s["respondents"] for s in plan["strata"]}
    # Stratum a is twice as large as b but four times less dispersed: it gets fewer.
    assert sizes["a"] < sizes["b"]
    assert plan["prior_sd"] == {"a": 0.1, "b": 0.5, "c": 0.5}
    result = runner.invoke(["campaigns", "plan", "neyman-2026", "--strata", "segment",
                            "--margin", "0.2", "--response-rate", "1", "--prior-sd", "oops"])
    assert result.exit_code == 2


def test_the_draw_over_the_frame_order_is_the_reference_algorithm() -> None:
    from survey.frame.sampling import Frame, _draw_positions

    rng = np.random.default_rng(3)
    members = {
        f"s{k}": sorted({f"id{rng.integers(0, 10**6)}" for _ in range(rng.integers(1, 300))})
        for k in range(8)
    }
    sizes = {key: int(rng.integers(1, 120)) for key in members}
    strata = [key for key in sorted(members) for _ in members[key]]
    external = [e for key in sorted(members) for e in members[key]]
    frame = Frame([], np.arange(len(external)), external, strata, {},
                  {key: len(members[key]) for key in sorted(members)}, "")
    for seed in (0, 1, 2**31 - 1):
        positions = _draw_positions(frame, sizes, seed)
        assert {key: [external[i] for i in p] for key, p in positions.items()} == \
            draw_stratified(frame.members(), sizes, seed)
