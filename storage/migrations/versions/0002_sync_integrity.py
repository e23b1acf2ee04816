"""sync integrity: pending creates, records uncoupled by a person, one run per mapping

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("coupling") as batch:
        batch.add_column(sa.Column("pending", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.create_index(batch.f("ix_coupling_pending"), ["pending"], unique=False)
    op.create_table(
        "uncoupledrecord",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mapping", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column(
            "system",
            sa.Enum("business_central", "dataverse", name="system", native_enum=False, length=40),
            nullable=False,
        ),
        sa.Column("table_name", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("record_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uncoupledrecord")),
        sa.UniqueConstraint("system", "table_name", "record_id", name="uq_uncoupled_record"),
    )
    op.create_index(op.f("ix_uncoupledrecord_mapping"), "uncoupledrecord", ["mapping"], unique=False)
    op.create_table(
        "synclease",
        sa.Column("mapping", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("holder", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column(
            "trigger",
            sa.Enum("schedule", "user", "cli", name="trigger", native_enum=False, length=40),
            nullable=False,
        ),
        sa.Column("started_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("mapping", name=op.f("pk_synclease")),
    )


def downgrade() -> None:
    op.drop_table("synclease")
    op.drop_index(op.f("ix_uncoupledrecord_mapping"), table_name="uncoupledrecord")
    op.drop_table("uncoupledrecord")
    with op.batch_alter_table("coupling") as batch:
        batch.drop_index(batch.f("ix_coupling_pending"))
        batch.drop_column("pending")
