"""public basis: the clauses of content/basis/ an answer published from the mailbox rests on

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-08

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

def columns() -> tuple[sa.Column, ...]:
    return (
        # JSON [{"doc": ..., "clause": ...}, ...], picked by the editor with the public text
        # (forms_app/basis_pick.py). Items confirmed before this revision keep NULL: they
        # are not published until an editor picks their basis and confirms again.
        sa.Column('public_basis', sa.Text(), nullable=True),
    )


def upgrade() -> None:
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        for column in columns():
            batch_op.add_column(column)


def downgrade() -> None:
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        for column in reversed(columns()):
            batch_op.drop_column(column.name)
