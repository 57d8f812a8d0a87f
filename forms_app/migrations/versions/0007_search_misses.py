"""search misses: searches that found nothing (words and day only), for the editors

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0007'
down_revision: Union[str, Sequence[str], None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'search_misses',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('query', sa.String(length=100), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_search_misses_query_day', 'search_misses', ['query', 'day'],
                    unique=True)
    op.create_index('ix_search_misses_day', 'search_misses', ['day'])


def downgrade() -> None:
    op.drop_index('ix_search_misses_day', table_name='search_misses')
    op.drop_index('ix_search_misses_query_day', table_name='search_misses')
    op.drop_table('search_misses')
