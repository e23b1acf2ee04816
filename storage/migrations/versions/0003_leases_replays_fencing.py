"""work item leases, seen requests (replay window), the leader's fencing token

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("workitem", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_until", storage.types.UTCDateTime(timezone=True), nullable=True))
    op.create_table(
        "seenrequest",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("seen_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_seenrequest")),
    )
    with op.batch_alter_table("seenrequest", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_seenrequest_seen_at"), ["seen_at"], unique=False)
    op.create_table(
        "leaderfence",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("token", sa.Integer(), nullable=False),
        sa.Column("holder", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("taken_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leaderfence")),
    )


def downgrade() -> None:
    op.drop_table("leaderfence")
    with op.batch_alter_table("seenrequest", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_seenrequest_seen_at"))
    op.drop_table("seenrequest")
    with op.batch_alter_table("workitem", schema=None) as batch_op:
        batch_op.drop_column("lease_until")
