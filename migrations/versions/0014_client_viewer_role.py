"""client_viewer: a client's own staff, who read aggregated figures only (issue #16)

Revision ID: client_viewer_role
Revises: clients
"""
import sqlalchemy as sa
from alembic import op

revision = "client_viewer_role"
down_revision = "clients"
branch_labels = None
depends_on = None

BEFORE = "role IN ('admin', 'manager', 'auditor')"
AFTER = "role IN ('admin', 'manager', 'auditor', 'client_viewer')"


def upgrade() -> None:
    _replace_role_check(BEFORE, AFTER)


def downgrade() -> None:
    bind = op.get_bind()
    viewers = bind.execute(sa.text(
        "SELECT email FROM \"user\" WHERE role = 'client_viewer' ORDER BY email")).scalars().all()
    if viewers:
        # Their role would not exist below this revision, and any other role opens more.
        raise RuntimeError(
            "cannot go below client_viewer_role: delete or change the role of the client "
            f"viewer accounts first ({', '.join(viewers)})")
    _replace_role_check(AFTER, BEFORE)


def _replace_role_check(old: str, new: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        op.drop_constraint(op.f("ck_user_role"), "user", type_="check")
        op.create_check_constraint(op.f("ck_user_role"), "user", new)
        return
    # On SQLite a batch copy of `user` is not possible here: the migration runs with foreign
    # keys enforced inside a transaction (where they cannot be turned off), so dropping the old
    # table would cascade to the sessions and fail on every follow-up owner and note author.
    # A CHECK change rewrites no row, and SQLite documents editing the table's stored SQL for
    # exactly this case (https://www.sqlite.org/lang_altertable.html, "otherwise"): the rows
    # already satisfy the new condition (going down, `downgrade` made sure of it).
    sql = bind.execute(sa.text(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'user'")).scalar_one()
    if sql.count(old) != 1:
        raise RuntimeError(f"user table: expected its role check to read {old!r}")
    version = bind.execute(sa.text("PRAGMA schema_version")).scalar_one()
    bind.execute(sa.text("PRAGMA writable_schema = ON"))
    bind.execute(sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' "
                         "AND name = 'user'"), {"sql": sql.replace(old, new)})
    # A new schema version makes every connection read the table's new definition.
    bind.execute(sa.text(f"PRAGMA schema_version = {int(version) + 1}"))
    bind.execute(sa.text("PRAGMA writable_schema = OFF"))
    if bind.execute(sa.text("PRAGMA integrity_check")).scalar_one() != "ok":
        raise RuntimeError("user table: the integrity check failed after its role check change")
