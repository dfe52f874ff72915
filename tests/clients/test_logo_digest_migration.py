"""The logo digest migration (0015) writes the hash of a logo already stored, and goes down and
up again, on both databases."""

from __future__ import annotations

import hashlib

from alembic import command
from sqlalchemy import text

from survey import create_app
from survey.database import alembic_config, upgrade_database
from survey.extensions import db
from tests.scratch_database import scratch_database_url

LOGO = b"\x89PNG pixels"


def test_a_stored_logo_gets_its_hash_and_the_migration_goes_down_and_up(tmp_path) -> None:
    with scratch_database_url(tmp_path, "logo_digest_migration") as url:
        app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "TESTING": True,
                          "SQLALCHEMY_DATABASE_URI": url})
        upgrade_database(app, "client_viewer_role")
        with app.app_context(), db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO client (id, slug, name, logo, logo_mime, created_at) VALUES "
                "(2, 'acme', 'Acme', :logo, 'image/png', '2026-01-01')"), {"logo": LOGO})
        upgrade_database(app, "client_logo_digest")
        with app.app_context(), db.engine.connect() as connection:
            digests = dict(connection.execute(text("SELECT slug, logo_sha256 FROM client")).all())
        assert digests == {"default": None, "acme": hashlib.sha256(LOGO).hexdigest()}

        config = alembic_config()
        with app.app_context(), db.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "client_viewer_role")
        upgrade_database(app, "client_logo_digest")
        with app.app_context(), db.engine.connect() as connection:
            assert connection.execute(text(
                "SELECT logo_sha256 FROM client WHERE slug = 'acme'")).scalar() \
                == hashlib.sha256(LOGO).hexdigest()
        with app.app_context():
            db.engine.dispose()
