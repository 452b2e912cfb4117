"""a building-wide report finds its incident peer by received time; the hourly limit's count is
answered from its index alone

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 15:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_building_category_stage')
        batch_op.create_index('ix_cases_incident_peer', ['building_id', 'category', 'received_at'],
                              unique=False)
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_recipient_created')
        batch_op.create_index('ix_outbox_rate_limit',
                              ['recipient', 'created_at', 'automatic', 'state'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_rate_limit')
        batch_op.create_index('ix_outbox_recipient_created', ['recipient', 'created_at'],
                              unique=False)
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_incident_peer')
        batch_op.create_index('ix_cases_building_category_stage',
                              ['building_id', 'category', 'stage'], unique=False)
