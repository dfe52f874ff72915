"""declared survey variables; undeclared customer attributes dropped

Revision ID: survey_variables
Revises: 0001

Customer columns used to be kept whole as attributes, personal ones included. From now on only
declared survey variables are stored. An existing installation keeps, as declared variables,
the attributes that a campaign's plan uses (strata, calibration margins); every other attribute
is treated as an ignored column and removed from customers and invitations.
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "survey_variables"
down_revision = "0001"
branch_labels = None
depends_on = None


def _plan_variables(connection) -> list[str]:
    names: set[str] = set()
    for (plan,) in connection.execute(sa.text("SELECT plan FROM campaign WHERE plan IS NOT NULL")):
        plan = json.loads(plan) if isinstance(plan, str) else plan
        if not isinstance(plan, dict):
            continue
        names.update(str(name) for name in plan.get("strata_variables") or ())
        calibration = plan.get("calibration")
        if isinstance(calibration, dict):
            names.update(str(name) for name in (calibration.get("margins") or {}))
    names.discard("language")
    return sorted(name for name in names if name)


def _strip(connection, table: str, keep: set[str]) -> None:
    rows = connection.execute(sa.text(f"SELECT id, CAST(attributes AS TEXT) FROM {table}"))  # noqa: S608
    changed = []
    for row_id, text in rows:
        attributes = json.loads(text) if text else {}
        if not isinstance(attributes, dict):
            attributes = {}
        kept = {name: value for name, value in attributes.items() if name in keep}
        if kept != attributes:
            changed.append({"id": row_id, "attributes": json.dumps(kept, sort_keys=True,
                                                                   ensure_ascii=False)})
    if changed:
        connection.execute(
            sa.text(f"UPDATE {table} SET attributes = :attributes WHERE id = :id"),  # noqa: S608
            changed,
        )


def upgrade() -> None:
    table = op.create_table(
        "survey_variable",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("allowed_values", sa.JSON(), nullable=True),
        sa.Column("max_levels", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("max_levels > 0", name=op.f("ck_survey_variable_max_levels")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_variable")),
        sa.UniqueConstraint("name", name=op.f("uq_survey_variable_name")),
    )
    connection = op.get_bind()
    variables = _plan_variables(connection)
    if variables:
        now = sa.func.current_timestamp()
        for name in variables:
            connection.execute(
                sa.insert(table).values(name=name, label=name, allowed_values=None,
                                        max_levels=50, created_at=now)
            )
    _strip(connection, "customer", set(variables))
    _strip(connection, "invitation", {*variables, "language"})


def downgrade() -> None:
    # The removed attributes are gone for good: downgrading only drops the declarations.
    op.drop_table("survey_variable")
