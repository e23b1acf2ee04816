"""scheduled jobs as the scheduler reports them, with a pause switch

Revision ID: 0006
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.types

revision: str = "0006"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scheduledjob",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("every_seconds", sa.Integer(), nullable=True),
        sa.Column("cron", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("last_run_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_result", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("next_run_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reported_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduledjob")),
    )


def downgrade() -> None:
    op.drop_table("scheduledjob")
