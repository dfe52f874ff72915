"""A sending worker killed with SIGKILL mid-campaign and restarted: everyone invited once.

The worker runs as a real `barometre send` process against the fake SendGrid; the test kills
it at random moments (claiming, waiting for the provider, recording), restarts it, and finally
checks the provider's own record: every invitee accepted at least once, and only messages
flagged `possibly_duplicated` (at most one batch per kill) accepted twice.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from survey.distribution.operations import launch_campaign
from survey.distribution.status import campaign_status
from survey.extensions import db
from survey.models import Message
from tests.distribution.builders import sampled_campaign
from tests.distribution.fakes import Reply

PROJECT = Path(__file__).resolve().parents[2]
BATCH = 40


def sender_process(app, fake, *extra):
    env = {
        **os.environ,
        "BAROMETRE_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "BAROMETRE_INSTANCE_PATH": app.instance_path,
        "BAROMETRE_SECRET_KEY": app.config["SECRET_KEY"],
        "BAROMETRE_BASE_URL": app.config["BASE_URL"],
        "BAROMETRE_EMAIL_BACKEND": "sendgrid",
        "SENDGRID_API_KEY": "SG.test-key",
        "BAROMETRE_SENDGRID_HOST": fake.url,
        "BAROMETRE_SEND_TIMEOUT": "10",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "survey", "send", "--worker-id", "crashing-worker",
         "--batch-size", str(BATCH), *extra],
        cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_killed_worker_restarts_without_losing_or_resending(app, fake_sendgrid):
    with app.app_context():
        campaign = sampled_campaign(app, emails=400)
        launch_campaign(db.session, campaign, secret_key=app.config["SECRET_KEY"], actor="test")
        db.session.commit()
        campaign_id = campaign.id
    # Each request waits a little at the provider: kills land in flight as often as not.
    fake_sendgrid.default = Reply(202, hang=0.05)
    rng = random.Random(20260302)
    kills = 0
    for _round in range(4):
        process = sender_process(app, fake_sendgrid)
        target = len(fake_sendgrid.accepted) + rng.randint(BATCH // 2, 3 * BATCH)
        deadline = time.monotonic() + 60
        while len(fake_sendgrid.accepted) < target and process.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(rng.uniform(0.001, 0.03))
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        kills += 1
    final = sender_process(app, fake_sendgrid, "--once")
    out, err = final.communicate(timeout=120)
    assert final.returncode == 0, err

    counts = fake_sendgrid.accepted_counts()
    with app.app_context():
        db.session.expire_all()
        messages = db.session.scalars(
            select(Message).where(Message.campaign_id == campaign_id)).all()
        assert {m.state for m in messages} == {"sent"}
        assert all(counts[str(m.id)] >= 1 for m in messages)  # nobody left out
        twice = {m_id for m_id, n in counts.items() if n > 1}
        flagged = {str(m.id) for m in messages if m.possibly_duplicated}
        assert twice <= flagged  # every duplicate is marked ...
        assert len(flagged) <= kills * BATCH  # ... and at most one batch per crash
        assert max(counts.values()) <= 1 + kills
        status = campaign_status(db.session, db.session.get(type(messages[0].invitation.campaign),
                                                            campaign_id))
        assert status["possibly_duplicated"] == len(flagged)
        assert status["dispositions"]["sent"] == 400
        print(f"kills {kills}, flagged {len(flagged)}, accepted twice {len(twice)}")
    assert "re-queued after a stopped worker" in out
