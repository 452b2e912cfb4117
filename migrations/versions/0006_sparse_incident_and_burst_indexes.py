"""the incident and burst-key indexes hold only the rows that have one, so a new case without
them writes two pages fewer per commit

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 17:45:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SPARSE = (('cases', 'ix_cases_incident_id', 'incident_id'),
           ('messages', 'ix_messages_burst_key', 'burst_key'))


def upgrade() -> None:
    for table, name, column in _SPARSE:
        where = sa.text(f"{column} IS NOT NULL")
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
            batch_op.create_index(name, [column], unique=False, sqlite_where=where,
                                  postgresql_where=where)


def downgrade() -> None:
    for table, name, column in _SPARSE:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
            batch_op.create_index(name, [column], unique=False)
