"""Group commit: many requests in one transaction, and what happens when one of them fails.

Runs on the real databases (SQLite file and PostgreSQL) with real threads."""

from __future__ import annotations

import threading
import time

from conftest import ask, code_of
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, select

from forms_app import db, moderation, tracking_code
from forms_app.db import make_engine
from forms_app.group_commit import GroupWriter
from forms_app.models import Submission, utcnow

WORDS = Table("words", MetaData(), Column("id", Integer, primary_key=True),
              Column("word", String(20), unique=True))


def test_a_failing_request_does_not_undo_the_others_of_its_batch(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'w.sqlite3'}")
    WORDS.metadata.create_all(engine)
    first_batch_may_finish = threading.Event()
    batches: list[list[str]] = []

    def write(conn, words):
        batches.append(list(words))
        if len(batches) == 1:
            first_batch_may_finish.wait(10)  # the others queue meanwhile: one batch
        conn.execute(WORDS.insert(), [{"word": w} for w in words])
        return [f"stored {w}" for w in words]

    writer = GroupWriter(engine, write)
    results: dict[str, object] = {}

    def submit(word: str) -> None:
        try:
            results[word] = writer.run(word)
        except Exception as exc:  # noqa: BLE001 - the test looks at it
            results[word] = exc

    leader = threading.Thread(target=submit, args=("甲",))
    leader.start()
    while not batches:
        time.sleep(0.01)
    followers = [threading.Thread(target=submit, args=(w,)) for w in ("乙", "甲", "丙")]
    for t in followers:
        t.start()
    time.sleep(0.2)  # all three wait behind the leader
    first_batch_may_finish.set()
    for t in (leader, *followers):
        t.join(10)
    writer.close()

    # The second 甲 breaks the unique key: the batch of three ran again one by one.
    assert batches[0] == ["甲"] and sorted(batches[1]) == ["丙", "乙", "甲"]
    assert results["乙"] == "stored 乙" and results["丙"] == "stored 丙"
    with engine.connect() as conn:
        assert sorted(conn.scalars(select(WORDS.c.word))) == ["丙", "乙", "甲"]
    engine.dispose()


def _row(form_key: str | None) -> dict:
    now = utcnow()
    return {**moderation._OPTIONAL, "kind": "question", "state": "received", "version": 1,
            "created_at": now, "updated_at": now, "due_at": now,
            "calendar_uncertain": False, "allow_publish": False, "consent": False,
            "body": "外出期间怎样参加组织生活？", "category": "组织生活", "form_key": form_key}


def _batch(app, items):
    """One batch through the app's own writer function, in one transaction."""
    writer = app.extensions["dx_writer"]
    with app.app_context(), db.engine().begin() as conn:
        return writer.write(conn, items)


def test_one_form_page_sent_twice_in_one_batch_is_one_submission(app):
    first, again, other = _batch(app, [(_row("page-1"), "1.2.3.4"),
                                       (_row("page-1"), "1.2.3.4"), (_row(None), "5.6.7.8")])
    later = _batch(app, [(_row("page-1"), "1.2.3.4")])[0]
    assert first == again == later and other.code != first.code
    with app.app_context():
        codes = db.session().scalars(select(Submission.code)).all()
    assert sorted(codes) == sorted([first.code, other.code])


def test_a_batch_stores_the_same_rows_on_every_database(app):
    """Each row as the model describes it (defaults for what a form does not name) and one
    audit row each, with the sender's address."""
    from forms_app.models import AuditEntry

    row = _row("page-2") | {"name": "李四", "contact": "13800001111"}
    made = _batch(app, [(row, "10.0.0.7"), (_row(None), None)])
    with app.app_context():
        s = db.session()
        item = s.get(Submission, made[0].id)
        assert (item.code, item.name, item.contact, item.body) == (
            made[0].code, "李四", "13800001111", "外出期间怎样参加组织生活？")
        assert item.remove_from_site is False and item.answer is None
        assert item.created_at == row["created_at"]
        other_at = s.get(Submission, made[1].id).created_at
        audits = s.execute(select(AuditEntry.submission_id, AuditEntry.ip, AuditEntry.actor,
                                  AuditEntry.to_state, AuditEntry.at)).all()
    assert sorted(audits, key=lambda a: a[0]) == [
        (made[0].id, "10.0.0.7", "member", "received", row["created_at"]),
        (made[1].id, None, "member", "received", other_at)]


def test_a_tracking_code_drawn_twice_gets_a_new_one(app, client, monkeypatch):
    drawn = iter(["AAAABBBBCCCCDDDD", "AAAABBBBCCCCDDDD", "EEEEFFFFGGGGHHHH"])
    monkeypatch.setattr(tracking_code, "new_code", lambda: next(drawn))
    first, second = code_of(ask(client)), code_of(ask(client))
    assert (first, second) == ("AAAABBBBCCCCDDDD", "EEEEFFFFGGGGHHHH")
    with app.app_context():
        assert len(db.session().scalars(select(Submission.id)).all()) == 2


def test_a_dropped_database_connection_is_replaced(app, database_url, client):
    """The leader keeps its connection between batches; after the server closes it (a
    PostgreSQL restart), the next submission is stored on a new connection."""
    code_of(ask(client))
    held = app.extensions["dx_writer"]._held.conn
    assert held is not None
    if database_url.startswith("postgresql"):
        pid = held.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        held.rollback()
        killer = create_engine(database_url)
        with killer.connect() as conn:
            conn.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
        killer.dispose()
    else:
        held.connection.dbapi_connection.close()  # a closed handle: "cannot operate"
    second = code_of(ask(client))
    assert second
    with app.app_context():
        assert len(db.session().scalars(select(Submission.id)).all()) == 2


def test_concurrent_submissions_are_all_stored_with_their_audit_rows(app):
    n = 40
    from forms_app.models import AuditEntry

    codes: list[str] = []

    def one(i: int) -> None:
        client = app.test_client()
        codes.append(code_of(ask(client, question=f"第 {i} 个问题：党费标准是多少？")))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(set(codes)) == n
    with app.app_context():
        s = db.session()
        stored = dict(s.execute(select(Submission.code, Submission.id)).all())
        audited = set(s.scalars(select(AuditEntry.submission_id)
                                .where(AuditEntry.action == "submit")))
    assert set(codes) == set(stored) and audited == set(stored.values())


def test_rate_limit_counters_need_no_timer_thread_and_are_swept(app, client):
    """The limiter's memory storage drops expired counters inline: a stream of limited
    submissions starts no thread, and a counter past its window is gone after a sweep."""
    from forms_app.extensions import SweptMemoryStorage

    storage = app.extensions["dx_limiter"].storage
    assert isinstance(storage, SweptMemoryStorage)
    before = threading.active_count()
    for i in range(5):
        code_of(ask(client, question=f"第 {i} 次提问：组织关系怎么转？"))
    time.sleep(0.05)
    assert threading.active_count() == before

    storage.incr("expired-key", expiry=0.01)
    time.sleep(0.02)
    storage._next_sweep = 0.0
    storage.incr("fresh-key", expiry=60)
    assert "expired-key" not in storage.storage and storage.get("fresh-key") == 1
