"""a staff group upgraded to a supergroup is followed to its new id after a restart too

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 10:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import workflow.models

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'telegram_chat_moves',
        sa.Column('old_chat_id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('new_chat_id', sa.BigInteger(), nullable=False),
        sa.Column('moved_at', workflow.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('old_chat_id', name=op.f('pk_telegram_chat_moves')),
    )


def downgrade() -> None:
    op.drop_table('telegram_chat_moves')
