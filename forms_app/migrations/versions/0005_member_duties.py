"""member duties: reports to the branch, 三个必访 help requests, organisational life records
and what a member declares for their 我的 page

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def submission_columns() -> tuple[sa.Column, ...]:
    return (
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('destination', sa.String(length=40), nullable=True),
        sa.Column('months', sa.Integer(), nullable=True),
        sa.Column('work', sa.String(length=40), nullable=True),
        sa.Column('fixed_place', sa.Boolean(), nullable=True),
        sa.Column('instrument', sa.String(length=60), nullable=True),
        sa.Column('orglife_away', sa.Text(), nullable=True),
        sa.Column('visit_on', sa.Date(), nullable=True),
        sa.Column('visit_by', sa.String(length=40), nullable=True),
        sa.Column('visit_outcome', sa.Text(), nullable=True),
    )


def user_columns() -> tuple[sa.Column, ...]:
    return (
        sa.Column('dues_paid_until', sa.Date(), nullable=True),
        sa.Column('card_issued_on', sa.Date(), nullable=True),
        sa.Column('thought_every_months', sa.Integer(), nullable=False, server_default='12'),
    )


def upgrade() -> None:
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        for column in submission_columns():
            batch_op.add_column(column)
        batch_op.create_index('ix_submissions_user_id', ['user_id'], unique=False)
        batch_op.create_foreign_key('fk_submissions_user_id', 'users', ['user_id'], ['id'],
                                    ondelete='CASCADE')
    with op.batch_alter_table('users', schema=None) as batch_op:
        for column in user_columns():
            batch_op.add_column(column)
    op.create_table(
        'org_life',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('organisation', sa.String(length=100), nullable=False),
        sa.Column('kind', sa.String(length=12), nullable=False),
        sa.Column('form_key', sa.String(length=32), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
        sa.Column('confirmed_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['confirmed_by_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('form_key'),
    )
    op.create_index('ix_org_life_user_day', 'org_life', ['user_id', 'day'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_org_life_user_day', table_name='org_life')
    op.drop_table('org_life')
    with op.batch_alter_table('users', schema=None) as batch_op:
        for column in reversed(user_columns()):
            batch_op.drop_column(column.name)
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_constraint('fk_submissions_user_id', type_='foreignkey')
        batch_op.drop_index('ix_submissions_user_id')
        for column in reversed(submission_columns()):
            batch_op.drop_column(column.name)
