"""Files of the instance folder are the service user's only; exports leave no copy (#23)."""

from __future__ import annotations

import stat
import tempfile
from pathlib import Path

from survey import create_app
from survey.campaigns.operations import create_campaign
from survey.database import upgrade_database
from survey.distribution.backends import OutboxBackend
from survey.distribution.rendering import MessageTemplate, Outgoing
from survey.extensions import db
from survey.reporting.operations import export_campaign, generate_report
from survey.reporting.synthetic import seed_synthetic_responses
from tests.reporting.test_views import login


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_instance_keeps_its_database_key_and_folder_private(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    app = create_app({"INSTANCE_PATH": str(instance), "TESTING": True,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'barometre.db'}"})
    upgrade_database(app)
    with app.app_context():
        db.engine.dispose()
    assert _mode(instance) == 0o700
    assert _mode(instance / "barometre.db") == 0o600
    assert _mode(instance / "secret_key") == 0o600
    for extra in instance.glob("barometre.db-*"):  # WAL and shared memory, when present
        assert _mode(extra) & 0o077 == 0


def test_outbox_messages_reports_and_exports_are_private(app, tmp_path: Path) -> None:
    outbox = OutboxBackend(Path(app.instance_path) / "outbox", "email", "from@example.org")
    template = MessageTemplate(channel="email", language="fr", wording="invitation",
                               text="Bonjour %%link%%", subject="Enquête")
    outbox.send([Outgoing(message_id=7, channel="email", to="jean@example.org",
                          template=template, values={"%%link%%": "http://x/r/abc",
                                                     "%%unsubscribe%%": "http://x/u"})])
    (sent,) = (Path(app.instance_path) / "outbox").glob("*.eml")
    assert _mode(sent) == 0o600
    with app.app_context():
        campaign = create_campaign(db.session, "files-2026", programme="F", year=2026,
                                   questionnaire_key="nf-relation-client", actor="test")
        seed_synthetic_responses(db.session, campaign, rng_seed=2, n_respondents=30)
        generated = generate_report(db.session, campaign, lang="fr",
                                    instance_path=app.instance_path, actor="test")
        done = export_campaign(db.session, campaign, fmt="xlsx", out=tmp_path / "d.xlsx",
                               actor="test")
        db.session.commit()
    assert _mode(generated.path) == 0o600
    assert _mode(done.data_path) == 0o600 and _mode(done.design_path) == 0o600


def test_a_downloaded_export_leaves_no_temporary_copy(app, client, monkeypatch,
                                                      tmp_path: Path) -> None:
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    with app.app_context():
        campaign = create_campaign(db.session, "stream-2026", programme="S", year=2026,
                                   questionnaire_key="nf-relation-client", actor="test")
        seed_synthetic_responses(db.session, campaign, rng_seed=5, n_respondents=30)
        db.session.commit()
    login(client, "auditor")
    for fmt in ("csv", "xlsx", "design.json"):
        response = client.get(f"/manage/campaigns/stream-2026/export.{fmt}")
        assert response.status_code == 200
        body = response.get_data()
        response.close()
        assert len(body) > 100
        assert response.headers["Cache-Control"] == "private, no-store"
    assert list(temporary.iterdir()) == []
