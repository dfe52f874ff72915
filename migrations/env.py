"""Alembic environment: runs against the connection `survey.database` hands over."""

from alembic import context
from sqlalchemy import engine_from_config, pool

import survey.models  # noqa: F401  (registers every table on the metadata)
from survey.extensions import db

config = context.config
target_metadata = db.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = engine_from_config(config.get_section(config.config_ini_section) or {},
                                prefix="sqlalchemy.", poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("barometre runs its migrations online: use `barometre db upgrade`")
run_migrations()
