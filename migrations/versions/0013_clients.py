"""clients: the client company as the boundary of every customer base, campaign and result (#16)

An installation's existing data becomes its one client's (slug `default`): a centre working for
itself never sees the word. Customer external ids, survey variables, suppressions, programme
names and questionnaire keys become unique per client; campaign slugs stay unique in the
installation.

Revision ID: clients
Revises: programme_method
"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "clients"
down_revision = "programme_method"
branch_labels = None
depends_on = None

# Every table of a client's data, parents before children (the order they are filled in).
OWNED = ("programme", "questionnaire_draft", "questionnaire_version", "customer_import",
         "customer", "survey_variable", "suppression", "campaign", "invitation", "message",
         "response", "follow_up", "report", "publication", "performance_criterion",
         "improvement_action")
# A client's row or the installation's (client_id null).
TAGGED = ("job", "job_output", "audit_event")

# table → [(old unique name, old columns, new unique name, new columns)]
UNIQUES = {
    "programme": [("uq_programme_name", ["name"], "uq_programme_client_id_name",
                   ["client_id", "name"])],
    "questionnaire_draft": [("uq_questionnaire_draft_key", ["key"],
                             "uq_questionnaire_draft_client_id_key", ["client_id", "key"])],
    "questionnaire_version": [("uq_questionnaire_version_key_sha256", ["key", "sha256"],
                               "uq_questionnaire_version_client_id_key_sha256",
                               ["client_id", "key", "sha256"])],
    "customer": [("uq_customer_external_id", ["external_id"],
                  "uq_customer_client_id_external_id", ["client_id", "external_id"])],
    "survey_variable": [("uq_survey_variable_name", ["name"],
                         "uq_survey_variable_client_id_name", ["client_id", "name"])],
    "suppression": [("uq_suppression_contact_hash", ["contact_hash"],
                     "uq_suppression_client_id_contact_hash", ["client_id", "contact_hash"])],
}

# Object types of audit events about a client's data (the others are the installation's).
CLIENT_OBJECTS = ("campaign", "customer", "customer_import", "programme", "questionnaire",
                  "questionnaire_draft", "questionnaire_version", "follow_up", "report",
                  "invitation", "suppression", "survey_variable", "publication",
                  "performance_criterion", "improvement_action", "response")


def _foreign_keys(on: bool) -> None:
    """SQLite copies a table to change it: with foreign keys enforced, dropping the old copy of
    a table that others reference fails. They are off during the copies (a pragma that only
    takes effect outside a transaction) and checked before they are on again."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    if on:
        broken = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"foreign keys broken by the migration: {broken[:5]}")
    bind.exec_driver_sql("COMMIT")
    bind.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    bind.exec_driver_sql("BEGIN IMMEDIATE")


def upgrade() -> None:
    op.create_table(
        "client",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("logo", sa.LargeBinary(), nullable=True),
        sa.Column("logo_mime", sa.String(length=20), nullable=True),
        sa.Column("primary_colour", sa.String(length=7), nullable=True),
        sa.Column("sender_name", sa.String(length=100), nullable=True),
        sa.Column("sender_email", sa.String(length=254), nullable=True),
        sa.Column("reply_to", sa.String(length=254), nullable=True),
        sa.Column("privacy_notice", sa.Text(), nullable=True),
        sa.Column("dpo_contact", sa.String(length=300), nullable=True),
        sa.Column("retention_days", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("length(slug) >= 2", name=op.f("ck_client_slug_length")),
        sa.CheckConstraint("retention_days IS NULL OR retention_days > 0",
                           name=op.f("ck_client_retention_days")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client")),
        sa.UniqueConstraint("slug", name=op.f("uq_client_slug")),
    )
    op.create_table(
        "user_client",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["client.id"],
                                name=op.f("fk_user_client_client_id_client"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"],
                                name=op.f("fk_user_client_user_id_user"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "client_id", name=op.f("pk_user_client")),
    )
    op.create_index(op.f("ix_user_client_client_id"), "user_client", ["client_id"])

    bind = op.get_bind()
    client = sa.table("client", sa.column("id", sa.Integer), sa.column("slug", sa.String),
                      sa.column("name", sa.String), sa.column("created_at", sa.DateTime))
    bind.execute(client.insert().values(
        slug="default", name="Default", created_at=datetime.now(UTC).replace(tzinfo=None)))
    client_id = bind.execute(sa.select(client.c.id).where(client.c.slug == "default")).scalar()

    for table in OWNED + TAGGED:
        op.add_column(table, sa.Column("client_id", sa.Integer(), nullable=True))
    # One client: every row of a client's data is its own.
    for table in OWNED:
        bind.execute(sa.text(f"UPDATE {table} SET client_id = :client_id"),  # noqa: S608
                     {"client_id": client_id})
    bind.execute(sa.text("UPDATE job SET client_id = :client_id "
                         "WHERE campaign_id IS NOT NULL OR kind IN ('customer_import', 'report', "
                         "'audit_pack', 'poster')"), {"client_id": client_id})
    bind.execute(sa.text("UPDATE job_output SET client_id = (SELECT job.client_id FROM job "
                         "WHERE job.id = job_output.job_id)"))
    bind.execute(sa.text("UPDATE job_output SET client_id = :client_id "
                         "WHERE name LIKE 'posters/%' OR name LIKE 'packs/%'"),
                 {"client_id": client_id})
    bind.execute(
        sa.text("UPDATE audit_event SET client_id = :client_id WHERE campaign_id IS NOT NULL "
                "OR object_type IN :objects").bindparams(sa.bindparam("objects", expanding=True)),
        {"client_id": client_id, "objects": list(CLIENT_OBJECTS)},
    )

    _foreign_keys(False)
    for table in OWNED + TAGGED:
        if table == "questionnaire_version":
            op.drop_index("uq_questionnaire_version_key_number", table_name=table)
        with op.batch_alter_table(table) as batch:
            if table in OWNED:
                batch.alter_column("client_id", existing_type=sa.Integer(), nullable=False)
            batch.create_foreign_key(op.f(f"fk_{table}_client_id_client"), "client",
                                     ["client_id"], ["id"])
            for old, _old_columns, new, columns in UNIQUES.get(table, ()):
                batch.drop_constraint(old, type_="unique")
                batch.create_unique_constraint(new, columns)
        op.create_index(op.f(f"ix_{table}_client_id"), table, ["client_id"])
    op.create_index("uq_questionnaire_version_client_id_key_number", "questionnaire_version",
                    ["client_id", "key", "number"], unique=True)
    _foreign_keys(True)


def downgrade() -> None:
    bind = op.get_bind()
    several = bind.execute(sa.text("SELECT COUNT(*) FROM client")).scalar()
    if several and several > 1:
        raise RuntimeError("cannot go below the clients revision with more than one client: "
                           "their customer bases would merge")
    _foreign_keys(False)
    op.drop_index("uq_questionnaire_version_client_id_key_number",
                  table_name="questionnaire_version")
    for table in reversed(OWNED + TAGGED):
        op.drop_index(op.f(f"ix_{table}_client_id"), table_name=table)
        with op.batch_alter_table(table) as batch:
            for old, old_columns, new, _columns in UNIQUES.get(table, ()):
                batch.drop_constraint(new, type_="unique")
                batch.create_unique_constraint(old, old_columns)
            batch.drop_constraint(op.f(f"fk_{table}_client_id_client"), type_="foreignkey")
            batch.drop_column("client_id")
    op.create_index("uq_questionnaire_version_key_number", "questionnaire_version",
                    ["key", "number"], unique=True)
    _foreign_keys(True)
    op.drop_index(op.f("ix_user_client_client_id"), table_name="user_client")
    op.drop_table("user_client")
    op.drop_table("client")
