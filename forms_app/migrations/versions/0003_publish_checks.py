"""publish checks: the text an editor confirmed for the public FAQ, refusals, removals

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0003'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

def columns() -> tuple[sa.Column, ...]:
    return (
        # What an answered question will show on the public FAQ, as the editor confirmed it
        # after personal data was removed (forms_app/pii.py), and when.
        sa.Column('public_title', sa.String(length=100), nullable=True),
        sa.Column('public_question', sa.Text(), nullable=True),
        sa.Column('public_answer', sa.Text(), nullable=True),
        sa.Column('public_confirmed_at', sa.DateTime(), nullable=True),
        # Why the last Publish could not export the item (it stays in the queue).
        sa.Column('publish_error', sa.Text(), nullable=True),
        # The member erased an item already on the site: the next Publish takes its file out.
        sa.Column('remove_from_site', sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def upgrade() -> None:
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        for column in columns():
            batch_op.add_column(column)


def downgrade() -> None:
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        for column in reversed(columns()):
            batch_op.drop_column(column.name)
