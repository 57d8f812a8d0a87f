"""Creating submissions and moving them through the states of forms_app/states.py.

Every change is one conditional UPDATE (id, version and an allowed source state must all
still match) plus one audit row, in one transaction: of two editors acting on the same
item, the second changes nothing and gets Conflict.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from forms_app import audit, db, tracking_code
from forms_app.group_commit import GroupWriter
from forms_app.models import AuditEntry, Submission, utcnow
from forms_app.states import ACTIONS, DUE_KINDS, QUESTION, allowed
from forms_app.working_days import DAY, WorkCalendar, as_utc, beijing, from_db

log = logging.getLogger(__name__)


class Conflict(Exception):
    """The item changed since the editor loaded it; nothing was written."""


class NotAllowed(Exception):
    """The action does not apply to this kind of item in its current state."""


def calendar() -> WorkCalendar:
    """The working calendar now: create_app read and checked the overrides file; a change
    to it is picked up within seconds, a broken change keeps the last good calendar."""
    from forms_app.working_days import OverrideFile, override_path

    path = override_path(current_app.config.get("CALENDAR_OVERRIDES"),
                         current_app.instance_path)
    source = current_app.extensions.get("dx_calendar")
    if not isinstance(source, OverrideFile) or source.path != path:
        source = current_app.extensions["dx_calendar"] = OverrideFile(path)
    return source.current()


def answer_seconds() -> int:
    return int(current_app.config["ANSWER_WORKING_DAYS"]) * DAY


@dataclass(frozen=True)
class Created:
    id: int
    code: str


def writer() -> GroupWriter:
    return current_app.extensions["dx_writer"]


def init_app(app: Flask) -> None:
    app.extensions["dx_writer"] = GroupWriter(app.extensions["db_engine"], store_submissions)


_SUBMISSIONS = Submission.__table__
# Built once: group commit runs these for every batch, and building a statement per row
# cost more than the insert itself.
_FIND_BY_KEYS = select(_SUBMISSIONS.c.id, _SUBMISSIONS.c.code, _SUBMISSIONS.c.form_key).where(
    _SUBMISSIONS.c.form_key.in_(bindparam("keys", expanding=True)))
# One multi-row INSERT for the batch; rows come back in any order, matched by their code.
_INSERT_SUBMISSIONS = insert(_SUBMISSIONS).returning(_SUBMISSIONS.c.id, _SUBMISSIONS.c.code)
_INSERT_AUDIT = insert(AuditEntry.__table__)
# Every row of a batch names the same columns (one statement inserts them all).
_OPTIONAL = dict.fromkeys(("title", "category", "name", "branch", "contact", "author",
                           "form_key", "user_id", "destination", "months", "work",
                           "fixed_place", "instrument", "orglife_away"))


def store_submissions(conn: Connection, items: Sequence[tuple[dict[str, Any], str | None]]
                      ) -> list[Created]:
    """The group writer's batch: new submissions with fresh tracking codes and their audit
    rows. A form page (form_key) already stored, or twice in the batch (a double submit),
    gives the first submission back instead of a second one."""
    keys = [row["form_key"] for row, _ in items if row["form_key"]]
    known: dict[str, Created] = {}
    if keys:
        known = {key: Created(ident, code)
                 for ident, code, key in conn.execute(_FIND_BY_KEYS, {"keys": keys})}
    fresh: list[dict[str, Any]] = []
    audits: list[tuple[str, str | None, Any]] = []
    codes: list[str] = []
    code_of_key = {key: created.code for key, created in known.items()}
    ids = {created.code: created.id for created in known.values()}
    for row, ip in items:
        key = row["form_key"]
        if key in code_of_key:
            codes.append(code_of_key[key])
            continue
        code = tracking_code.new_code()
        if key:
            code_of_key[key] = code
        codes.append(code)
        fresh.append({**row, "code": code})
        audits.append((code, ip, row["created_at"]))
    if fresh:
        ids.update((code, ident) for ident, code in conn.execute(_INSERT_SUBMISSIONS, fresh))
        conn.execute(_INSERT_AUDIT, [
            {"at": at, "actor": "member", "ip": ip, "action": "submit",
             "submission_id": ids[code], "to_state": "received"} for code, ip, at in audits])
    return [Created(ids[code], code) for code in codes]


def create(kind: str, fields: dict[str, Any], ip: str | None) -> Created:
    """Store a new submission with a fresh tracking code and its audit row. Returns once
    the group transaction holding it is committed, so a code shown is on disk. A second
    POST of the same form page (same form_key) returns the first submission."""
    now = utcnow()
    due, uncertain = now, False
    if kind in DUE_KINDS:
        due_moment, certain = calendar().add(from_db(now), answer_seconds())
        due, uncertain = as_utc(due_moment), not certain
    row = {**_OPTIONAL, "kind": kind, "state": "received", "version": 1, "created_at": now,
           "updated_at": now, "due_at": due, "calendar_uncertain": uncertain,
           "allow_publish": False, "consent": False, **fields}
    db.end_request_transaction()
    for _ in range(5):
        try:
            return writer().run((row, ip))
        except IntegrityError:
            # A code drawn twice (practically impossible with 78 bits) or the same form
            # stored by a racing writer of another process: the item's work was rolled
            # back, and the next try draws a new code or finds the first submission.
            continue
    raise RuntimeError("could not draw a unique tracking code")


def apply(session: Session, item_id: int, action: str, version: int, actor: str,
          ip: str | None, text: str | None = None, detail: str | None = None,
          extra: dict[str, Any] | None = None) -> Submission:
    """Carry out one action on one item, or raise Conflict / NotAllowed."""
    act = ACTIONS[action]
    item = session.get(Submission, item_id)
    if item is None:
        raise NotAllowed(action)
    if item.version != version:
        raise Conflict(action)
    if not allowed(action, item.kind, item.state):
        raise NotAllowed(action)
    if action == "publish" and item.kind == QUESTION and not item.allow_publish:
        raise NotAllowed(action)
    from_state = item.state
    now = utcnow()
    values: dict[str, Any] = {"state": act.target, "version": version + 1, "updated_at": now,
                              **(extra or {})}
    if action == "answer" or (action == "acknowledge" and text):
        # An acknowledged report may carry the branch's short reply, which its member reads.
        values["answer"] = text
    elif action in ("reject", "request_changes"):
        values["reason"] = text
    elif action == "refer":
        # The clock stops: keep the working time left, resume counts it from the return.
        left = calendar().between(from_db(now), from_db(item.due_at))
        values["paused_remaining"] = left
    elif action == "reopen":
        due, certain = calendar().add(from_db(now), answer_seconds())
        values.update(due_at=as_utc(due), calendar_uncertain=not certain)
    elif action == "resume":
        left = item.paused_remaining if item.paused_remaining is not None else 0
        due, certain = calendar().add(from_db(now), left)
        values.update(due_at=as_utc(due), paused_remaining=None,
                      calendar_uncertain=not certain)
    result = session.execute(
        update(Submission)
        .where(Submission.id == item_id, Submission.version == version,
               Submission.state.in_(act.sources))
        .values(**values)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        session.rollback()
        raise Conflict(action)
    audit.record(session, actor, action, ip=ip, item=item, from_state=from_state,
                 to_state=act.target, detail=detail or audit.fixed_detail(text))
    session.commit()
    current_app.extensions.pop("dx_counts", None)  # this worker's queue counts are stale
    session.refresh(item)
    return item


def by_member(session: Session, item: Submission, action: str, ip: str | None) -> bool:
    """The holder's own action (撤回) on their item; False when the item's state changed
    meanwhile and nothing was done. An action that is not a member's raises NotAllowed."""
    if action not in ACTIONS or not ACTIONS[action].by_member:
        raise NotAllowed(action)
    try:
        apply(session, item.id, action, item.version, "member", ip)
    except (Conflict, NotAllowed):
        return False
    return True


def revise(session: Session, item: Submission, title: str, body: str, ip: str | None) -> None:
    """The author sends a changed article back after an editor asked for changes."""
    apply(session, item.id, "revise", item.version, "member", ip,
          extra={"title": title, "body": body})


def by_code(session: Session, kind: str, text: str) -> Submission | None:
    code = tracking_code.normalize(text)
    if code is None:
        return None
    return session.scalar(select(Submission).where(Submission.code == code,
                                                   Submission.kind == kind))


def due_status(item: Submission) -> str:
    """overdue / today / ok / paused / none, for the queue's colours."""
    if item.kind not in DUE_KINDS or item.state not in ("received", "referred"):
        return "none"
    if item.state == "referred":
        return "paused"
    now = utcnow()
    if item.due_at < now:
        return "overdue"
    if beijing(item.due_at).date() == beijing(now).date():
        return "today"
    return "ok"
