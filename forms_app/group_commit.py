"""Group commit: the inserts of concurrent requests share one transaction and one fsync.

A member's request waits until the transaction holding its row is committed, so a tracking
code is shown only once it is on disk; but thirty requests arriving together cost one commit
instead of thirty, and threads of one process no longer queue on SQLite's write lock.

There is no writer thread: the request that finds nobody writing becomes the leader, takes
every item waiting (its own first), commits them in one transaction and wakes their
requests; if more arrived meanwhile, it hands the lead to the oldest of them. A request
alone in its process (a sync worker, a quiet hour) therefore commits its own row without
waking any other thread.

The writer is given one function, write(connection, items) -> results, that stores a whole
batch with a few statements (an INSERT of many rows costs little more than an INSERT of
one). If it raises (a duplicate key), the transaction is rolled back and the batch runs
again one item at a time, each inside a SAVEPOINT, so one failing request gets its error
and does not undo the others. write must therefore be safe to run twice.

With SQLite and several worker processes, the leaders of the processes take turns through
a blocking file lock beside the database: the next one wakes the moment the lock is free,
instead of SQLite's busy handler sleeping 1 to 100 ms between tries while the other
process's members wait.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)
MAX_BATCH = 256
WAIT_SECONDS = 30

Write = Callable[[Connection, Sequence[Any]], Sequence[Any]]


class _Slot:
    """One request's item; its lock is held until the item is done or the lead handed over."""

    __slots__ = ("item", "value", "error", "lead", "_signal")

    def __init__(self, item: Any) -> None:
        self.item = item
        self.value: Any = None
        self.error: BaseException | None = None
        self.lead = False
        self._signal = threading.Lock()
        self._signal.acquire()

    def finish(self, value: Any = None, error: BaseException | None = None) -> None:
        self.value, self.error = value, error
        self._signal.release()

    def promote(self) -> None:
        self.lead = True
        self._signal.release()

    def wait(self, seconds: float) -> bool:
        return self._signal.acquire(timeout=seconds)

    def result(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.value


class _Held:
    """The connection and lock file a process's leaders share between batches."""

    __slots__ = ("conn", "lock_file")

    def __init__(self) -> None:
        self.conn: Connection | None = None
        self.lock_file: Any = None

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        if self.lock_file is not None:
            self.lock_file.close()
        self.conn = self.lock_file = None


class GroupWriter:
    def __init__(self, engine: Engine, write: Write) -> None:
        self.engine = engine
        self.write = write
        database = engine.url.database if engine.url.get_backend_name() == "sqlite" else None
        if database and database.startswith("file:"):  # a URI filename: file:PATH?mode=ro
            database = database[5:].split("?")[0]
        self._lock_path = (Path(f"{database}.writelock")
                           if database and database != ":memory:" else None)
        self._start()

    def _start(self) -> None:
        # Per process: gunicorn may fork after the app was built (--preload). A connection
        # inherited from the parent is forgotten, never closed here: SQLite must not
        # close in a child what the parent still uses.
        inherited = getattr(self, "_held", None)
        if inherited is not None:
            inherited.conn = inherited.lock_file = None
        self._pid = os.getpid()
        self._mutex = threading.Lock()
        self._waiting: list[_Slot] = []
        self._leading = False
        self._held = _Held()
        # Closed with the writer, also when an app is dropped without close() (tests).
        weakref.finalize(self, self._held.close)

    def run(self, item: Any) -> Any:
        """Store item in the next group transaction; return its result once committed."""
        if self._pid != os.getpid():
            self._start()
        slot = _Slot(item)
        with self._mutex:
            self._waiting.append(slot)
            lead = not self._leading
            self._leading = True
        if not lead and not self._follow(slot):
            return slot.result()
        self._lead()
        return slot.result()

    def _follow(self, slot: _Slot) -> bool:
        """Wait until a leader has stored the item (False) or handed us the lead (True)."""
        while not slot.wait(WAIT_SECONDS):
            with self._mutex:
                if slot in self._waiting and not slot.lead:
                    self._waiting.remove(slot)  # never taken: nothing was stored
                    raise TimeoutError("the database did not take the submission in time")
            # Taken by a leader that is still writing: its commit ends with an answer.
        return slot.lead

    def _lead(self) -> None:
        with self._mutex:
            batch = self._waiting[:MAX_BATCH]
            del self._waiting[:MAX_BATCH]
        try:
            self._commit(batch)
        finally:
            with self._mutex:
                if self._waiting:
                    self._waiting[0].promote()  # the oldest waiting request writes next
                else:
                    self._leading = False

    def close(self) -> None:
        """Close the connection and lock file of this process (the app is going away)."""
        with self._mutex:
            self._held.close()

    @contextlib.contextmanager
    def _turn(self):
        """Hold the writers' file lock (SQLite) for one group transaction."""
        if self._lock_path is not None and self._held.lock_file is None:
            try:
                self._held.lock_file = open(self._lock_path, "a")  # noqa: SIM115 - kept open
            except OSError:  # a read-only folder: SQLite's busy handler alone then
                self._lock_path = None
        if self._held.lock_file is None:
            yield
            return
        fcntl.flock(self._held.lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._held.lock_file, fcntl.LOCK_UN)

    def _commit(self, batch: list[_Slot]) -> None:
        items = [slot.item for slot in batch]
        try:
            with self._turn():
                try:
                    outcomes = self._transaction(items)
                except DBAPIError as exc:
                    if not exc.connection_invalidated:
                        raise
                    # The server dropped a connection kept since the last batch (a
                    # restart): nothing was stored, so the batch runs once more on a new one.
                    self._held.conn = None
                    outcomes = self._transaction(items)
        except BaseException as exc:  # the commit itself failed: nobody's row is stored
            log.error("group commit of %d requests failed: %s", len(batch), exc)
            if self._held.conn is not None:
                self._held.conn.invalidate()  # a connection that failed a commit is not reused
                self._held.conn = None
            for slot in batch:
                slot.finish(error=exc)
            return
        for slot, (value, error) in zip(batch, outcomes, strict=True):
            slot.finish(value, error)

    def _transaction(self, items: list[Any]) -> list[tuple[Any, BaseException | None]]:
        if self._held.conn is None:
            self._held.conn = self.engine.connect()
        conn = self._held.conn
        try:
            with conn.begin():
                return [(value, None) for value in self.write(conn, items)]
        except DBAPIError as exc:
            if exc.connection_invalidated:
                raise
        except Exception:  # noqa: BLE001, S110 - one item failed: each on its own below
            pass
        outcomes: list[tuple[Any, BaseException | None]] = []
        with conn.begin():
            for item in items:
                try:
                    with conn.begin_nested():
                        outcomes.append((self.write(conn, [item])[0], None))
                except Exception as exc:  # noqa: BLE001 - handed to the request
                    outcomes.append((None, exc))
        return outcomes
