"""care and recovery: a buddy's contact notes and 通报, study logged for a member (代记),
a departure report's leaving date, recovery codes and one-time reset codes

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('study_logs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('logged_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_study_logs_logged_by_id', 'users', ['logged_by_id'],
                                    ['id'], ondelete='SET NULL')
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('leave_on', sa.Date(), nullable=True))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recovery_hash', sa.String(length=255), nullable=True))
    op.create_table(
        'contact_notes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('channel', sa.String(length=10), nullable=False),
        sa.Column('note', sa.String(length=500), nullable=False),
        sa.Column('form_key', sa.String(length=32), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['author_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('form_key'),
    )
    op.create_index('ix_contact_notes_user_day', 'contact_notes', ['user_id', 'day'],
                    unique=False)
    op.create_table(
        'buddy_notices',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('form_key', sa.String(length=32), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('read_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['author_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('form_key'),
    )
    op.create_index('ix_buddy_notices_user', 'buddy_notices', ['user_id', 'read_at'],
                    unique=False)
    op.create_table(
        'reset_codes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('issued_by_id', sa.Integer(), nullable=True),
        sa.Column('code_hash', sa.String(length=255), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('used_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['issued_by_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_reset_codes_user', 'reset_codes', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_reset_codes_user', table_name='reset_codes')
    op.drop_table('reset_codes')
    op.drop_index('ix_buddy_notices_user', table_name='buddy_notices')
    op.drop_table('buddy_notices')
    op.drop_index('ix_contact_notes_user_day', table_name='contact_notes')
    op.drop_table('contact_notes')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('recovery_hash')
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_column('leave_on')
    with op.batch_alter_table('study_logs', schema=None) as batch_op:
        batch_op.drop_constraint('fk_study_logs_logged_by_id', type_='foreignkey')
        batch_op.drop_column('logged_by_id')
