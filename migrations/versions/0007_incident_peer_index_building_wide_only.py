"""the incident-peer index holds building-wide cases only, so a flat's case writes one page
fewer per commit

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 19:10:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ['building_id', 'category', 'received_at']


def upgrade() -> None:
    where = sa.text("scope = 'building'")
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_incident_peer')
        batch_op.create_index('ix_cases_incident_peer', _COLUMNS, unique=False,
                              sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_incident_peer')
        batch_op.create_index('ix_cases_incident_peer', _COLUMNS, unique=False)
