"""audit log hardening: refuse REPLACE / upsert / TRUNCATE, pseudonymise members, drop text

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0002'
down_revision: Union[str, Sequence[str], None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# The fixed reasons of forms_app/states.py REJECT_REASONS when this revision was written,
# copied so that the one-time rewrite below does not change if the list changes later.
# Such a phrase names no one and may stay in an audit row's detail; any other answer or
# reason text may quote a member's personal data and is removed.
REJECT_REASONS = (
    "与流动党员之声栏目主题无关",
    "内容与已发表文章重复",
    "涉及他人个人信息，不宜公开",
    "事实或政策表述有误，请核实后再投",
    "问题已在政策问答中解答，请查阅相关条目",
)
# Actors that are no account (a tracking-code user, a failed login): a member who
# registered one of these names cannot be told apart from them, so they stay as they are.
GENERIC_ACTORS = ("member", "anonymous")

SQLITE_NO_CHANGE = ("UPDATE", "DELETE")
# REPLACE and INSERT OR REPLACE delete the row they collide with without firing DELETE
# triggers (unless PRAGMA recursive_triggers is on), so an insert is refused before that
# happens when its id is taken. An upsert's DO UPDATE is refused by the UPDATE trigger
# too. In a BEFORE INSERT trigger an id the database will assign reads as -1; the app
# never writes an id itself, so only a row someone forged with id -1 could make this
# refuse ordinary inserts, and then the log fails closed.
SQLITE_NO_REPLACE = (
    "CREATE TRIGGER audit_log_no_replace BEFORE INSERT ON audit_log "
    "WHEN EXISTS (SELECT 1 FROM audit_log WHERE id = NEW.id) "
    "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END")
PG_NO_CHANGE = ("CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
                "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()")
PG_NO_TRUNCATE = ("CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
                  "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()")


def _sqlite_no_change(event: str) -> str:
    return (f"CREATE TRIGGER audit_log_no_{event.lower()} BEFORE {event} ON audit_log "
            "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END")


def _rewrite_existing_rows() -> None:
    """Members by pseudonym (member:<user id>) instead of username, and no answer or
    reason text, in the rows written before this revision."""
    op.execute(sa.text(
        "UPDATE audit_log SET actor = (SELECT 'member:' || CAST(users.id AS VARCHAR) "
        "FROM users WHERE users.username = audit_log.actor AND users.role = 'member') "
        "WHERE actor IN (SELECT username FROM users WHERE role = 'member') "
        "AND actor NOT IN :generic"
    ).bindparams(sa.bindparam("generic", GENERIC_ACTORS, expanding=True)))
    op.execute(sa.text(
        "UPDATE audit_log SET detail = NULL "
        "WHERE action IN ('answer', 'reject', 'request_changes') AND detail IS NOT NULL "
        "AND detail NOT IN :reasons"
    ).bindparams(sa.bindparam("reasons", REJECT_REASONS, expanding=True)))


def upgrade() -> None:
    """Upgrade schema."""
    # The rows written so far must be rewritten once, and the triggers that keep the log
    # append-only would refuse exactly that: they are dropped, the rows rewritten and the
    # triggers created again. All of it runs in the migration's one transaction (SQLite:
    # BEGIN IMMEDIATE, so no other writer can act between the drop and the re-creation;
    # PostgreSQL: transactional DDL), so the log is never open to changes from outside.
    # A later batch_alter_table on audit_log (SQLite's copy-and-move) drops its triggers
    # with the old table: such a revision must create them again.
    if op.get_bind().dialect.name == "sqlite":
        for event in SQLITE_NO_CHANGE:
            op.execute(f"DROP TRIGGER audit_log_no_{event.lower()}")
        _rewrite_existing_rows()
        for event in SQLITE_NO_CHANGE:
            op.execute(_sqlite_no_change(event))
        op.execute(SQLITE_NO_REPLACE)
    else:
        op.execute("DROP TRIGGER audit_log_no_change ON audit_log")
        _rewrite_existing_rows()
        op.execute(PG_NO_CHANGE)
        # An upsert's DO UPDATE already meets the row trigger; TRUNCATE fires no row
        # trigger and needs a statement trigger of its own.
        op.execute(PG_NO_TRUNCATE)


def downgrade() -> None:
    """Downgrade schema. The rewritten rows stay rewritten: usernames and the removed
    text are not kept anywhere to bring back."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER audit_log_no_replace")
    else:
        op.execute("DROP TRIGGER audit_log_no_truncate ON audit_log")
