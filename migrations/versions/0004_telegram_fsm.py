"""the bot's guided forms keep their state in the database

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 21:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import workflow.models

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'telegram_fsm',
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('state', sa.String(length=200), nullable=True),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('updated_at', workflow.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_telegram_fsm')),
    )


def downgrade() -> None:
    op.drop_table('telegram_fsm')
