"""Group commit: one writer thread per process gathers the inserts of concurrent requests
into one transaction and one fsync, then wakes every request.

A member's request waits until the transaction holding its row is committed, so a tracking
code is shown only once it is on disk; but thirty requests arriving together cost one commit
instead of thirty, and threads of one process no longer queue on SQLite's write lock.
Each request's statements run inside a SAVEPOINT, so one failing request (a duplicate key)
does not undo the others in its batch.

With SQLite and several worker processes, the writers of the processes take turns through
a blocking file lock beside the database: the next one wakes the moment the lock is free,
instead of SQLite's busy handler sleeping 1 to 100 ms between tries while the other
process's members wait.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_BATCH = 256
WAIT_SECONDS = 30


class GroupWriter:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._queue: queue.Queue[tuple[Callable[[Connection], Any], Future]] = queue.Queue()
        self._lock = threading.Lock()
        self._pid: int | None = None
        database = engine.url.database if engine.url.get_backend_name() == "sqlite" else None
        if database and database.startswith("file:"):  # a URI filename: file:PATH?mode=ro
            database = database[5:].split("?")[0]
        self._lock_path = (Path(f"{database}.writelock")
                           if database and database != ":memory:" else None)

    def _ensure_thread(self) -> None:
        # Started on first use in each process: gunicorn forks workers after import.
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid != os.getpid():
                self._queue = queue.Queue()
                threading.Thread(target=self._run, name="dangxiao-group-commit",
                                 daemon=True).start()
                self._pid = os.getpid()

    def run(self, work: Callable[[Connection], T]) -> T:
        """Run work(connection) in the next group transaction; return once committed."""
        self._ensure_thread()
        future: Future = Future()
        self._queue.put((work, future))
        return future.result(timeout=WAIT_SECONDS)

    def _run(self) -> None:
        # The writers' lock file, opened once for this process's writer thread.
        try:
            lock = open(self._lock_path, "a") if self._lock_path else None  # noqa: SIM115
        except OSError:  # a read-only folder: SQLite's busy handler alone then
            lock = None
        while True:
            batch = [self._queue.get()]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._commit(batch, lock)

    @staticmethod
    @contextlib.contextmanager
    def _turn(lock):
        """Hold the writers' file lock (SQLite) for one group transaction."""
        if lock is None:
            yield
            return
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)

    def _commit(self, batch: list[tuple[Callable[[Connection], Any], Future]],
                lock=None) -> None:
        results: list[tuple[Future, Any, BaseException | None]] = []
        try:
            with self._turn(lock), self.engine.connect() as conn, conn.begin():
                for work, future in batch:
                    try:
                        with conn.begin_nested():
                            results.append((future, work(conn), None))
                    except Exception as exc:  # noqa: BLE001 - handed to the request
                        results.append((future, None, exc))
        except BaseException as exc:  # the commit itself failed: nobody's row is stored
            log.error("group commit of %d requests failed: %s", len(batch), exc)
            for _, future in batch:
                future.set_exception(exc)
            return
        for future, value, error in results:
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(value)
