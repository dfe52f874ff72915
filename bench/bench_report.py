"""Benchmark: the yearly report of 100,000 respondents, without a database.

    python bench/bench_report.py [--quick] [--respondents N]

Prints the time of each step and the size of the HTML. The targets (issue #7): under 30
seconds and under 8 MB for 100,000 respondents.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis import analyze, parse_design  # noqa: E402
from questionnaires import get_bundled  # noqa: E402
from questionnaires.loader import definition_sha256  # noqa: E402
from survey.reporting.builder import (  # noqa: E402
    CampaignFacts,
    PastCampaign,
    ReportInputs,
    compute_report,
)
from survey.reporting.dataset import dataset_from_records  # noqa: E402
from survey.reporting.render import render_report  # noqa: E402
from survey.reporting.synthetic import (  # noqa: E402
    CHANNEL_SHARES,
    CONTACT_CHANNELS,
    SITES,
    synthetic_records,
)

TIME_LIMIT_S = 30.0
SIZE_LIMIT_MB = 8.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 respondents instead")
    parser.add_argument("--respondents", type=int, default=None)
    arguments = parser.parse_args()
    n = arguments.respondents or (10_000 if arguments.quick else 100_000)
    questionnaire = get_bundled("nf-relation-client")
    population = {"particulier": 7 * n, "professionnel": 3 * n}

    started = time.perf_counter()
    records = synthetic_records(questionnaire, n, rng_seed=2026)
    previous_records = synthetic_records(questionnaire, max(n // 10, 200), 2025, shift=-0.2)
    generated = time.perf_counter()

    # From here on: what `barometre report` does once the answers are read.
    # Raked on segment and contact channel, as a centre weighting to its base's margins would.
    channel_counts = np.floor(np.array(CHANNEL_SHARES) * 10 * n).astype(int)
    channel_counts[0] += 10 * n - channel_counts.sum()
    calibration = {
        "method": "rake",
        "margins": {
            "segment": population,
            "channel": dict(zip(CONTACT_CHANNELS, channel_counts.tolist(), strict=True)),
        },
    }
    dataset = dataset_from_records(
        records, questionnaire, frame_counts=population, plan={"margin": 0.03},
        calibration=calibration,
    )
    previous = dataset_from_records(
        previous_records, questionnaire, frame_counts=population, plan={}
    )
    past = analyze(previous.frame, parse_design({**previous.design, "by": []}))
    rng = np.random.default_rng(1)
    invited = int(n / 0.35)
    invitations = pd.DataFrame(
        {
            "stratum": rng.choice(list(population), size=invited, p=[0.7, 0.3]),
            "channel": rng.choice(["email", "sms"], size=invited, p=[0.8, 0.2]),
            "disposition": ["complete"] * n
            + list(rng.choice(["delivered", "sent", "bounced", "opted_out"], size=invited - n)),
        }
    )
    # Every sampled customer's frame variables, for the representativeness section.
    invitations["responded"] = (invitations["disposition"] == "complete").astype(int)
    invitations["segment"] = invitations["stratum"]
    invitations["attr_channel"] = rng.choice(CONTACT_CHANNELS, size=invited, p=CHANNEL_SHARES)
    invitations["site"] = rng.choice(SITES, size=invited)
    invitations.attrs["frame_variables"] = ["segment", "attr_channel", "site"]
    created = pd.Timestamp("2026-03-02", tz="UTC") + pd.to_timedelta(
        rng.integers(0, 28 * 24, size=n // 20), unit="h"
    )
    follow_ups = pd.DataFrame(
        {
            "kind": rng.choice(["callback", "detractor"], size=len(created)),
            "status": "closed",
            "created_at": created,
            "closed_at": created + pd.to_timedelta(rng.gamma(2, 20, size=len(created)), unit="h"),
            "due_at": created + pd.Timedelta(days=2),
        }
    )
    inputs = ReportInputs(
        campaign=CampaignFacts(
            slug="bench-2026", programme="Benchmark", year=2026, status="closed",
            questionnaire_key=questionnaire.id, questionnaire_version=questionnaire.version,
            questionnaire_sha256=definition_sha256(questionnaire),
            fieldwork_start=date(2026, 3, 2), fieldwork_end=date(2026, 3, 29),
            channels=("email",), reminder_days=(7, 14),
            plan={"strata_variables": ["segment"], "allocation": "proportional", "margin": 0.03,
                  "response_rate": 0.35},
            seed=2026, frame_counts=population, frame_sha256="0" * 64,
            drawn_at=datetime(2026, 2, 20, tzinfo=UTC),
        ),
        dataset=dataset,
        invitations=invitations,
        follow_ups=follow_ups,
        history=[PastCampaign(2025, "bench-2025", [e.to_dict() for e in past.estimates])],
        data_sha256=dataset.data_sha256,
        software_version="bench",
        generated_at=datetime.now(UTC),
    )  # fmt: skip
    prepared = time.perf_counter()
    data = compute_report(inputs)
    computed = time.perf_counter()
    representativeness = data["representativeness"]["r_indicator"]
    html = render_report(data, "fr")
    rendered = time.perf_counter()

    size_mb = len(html.encode("utf-8")) / 1e6
    total = rendered - generated
    print(f"respondents            {n:>10,}")
    print(f"synthetic answers      {generated - started:>9.2f} s  (not counted)")
    print(f"table, design, hash    {prepared - generated:>9.2f} s")
    print(f"estimates and tests    {computed - prepared:>9.2f} s")
    print(f"HTML with charts       {rendered - computed:>9.2f} s")
    print(f"sampled customers      {invited:>10,}  (R-indicator {representativeness['r']:.3f}, "
          f"raking in {data['weighting']['summary']['calibration']['iterations']} iterations)")
    print(f"report built in        {total:>9.2f} s  (limit {TIME_LIMIT_S:.0f} s)")
    print(f"report size            {size_mb:>9.2f} MB (limit {SIZE_LIMIT_MB:.0f} MB)")
    ok = total < TIME_LIMIT_S and size_mb < SIZE_LIMIT_MB
    print("OK" if ok else "OVER LIMIT")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
