"""Group commit: many requests' writes in one transaction, each request answered after the commit.

A request thread hands its item to `GroupCommit.submit` and waits; one writer thread takes what
has queued (up to `max_batch`) and writes it with `write_batch` in one transaction. If the batch
fails as a whole (a constraint another process raced us to, a lost connection), each of its items
is written again alone with `write_one`, so one bad item cannot fail the others and every answer
is given only after its own row is committed. Costs per comment fall from a transaction, a lock on
the audit chain and a commit to a share of one (see bench/consultation.py).

The writer thread ends once nothing has come for `idle_s` seconds, and the next submission starts
another: an idle thread would hold the newsroom (and its database connections) for as long as the
process lives, whoever made the `GroupCommit` and then let it go.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class GroupCommit(Generic[Item, Result]):
    def __init__(
        self,
        write_batch: Callable[[Sequence[Item]], list[Result]],
        write_one: Callable[[Item], Result],
        max_batch: int = 64,
        idle_s: float = 5.0,
    ) -> None:
        self.write_batch = write_batch
        self.write_one = write_one
        self.max_batch = max_batch
        self.idle_s = idle_s
        self._queue: queue.SimpleQueue[tuple[Item, Future[Result]]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()

    def submit(self, item: Item) -> Result:
        """Write the item (with others) and return its result once committed; raises its error."""
        return self.submit_future(item).result()

    def submit_future(self, item: Item) -> Future[Result]:
        """Queue the item; the future resolves once it is committed (or holds its error)."""
        future: Future[Result] = Future()
        # Queued before the writer is looked for: a writer that is about to end sees the item
        # under the lock and stays, or has ended and this call starts the next one.
        self._queue.put((item, future))
        self._ensure_thread()
        return future

    @property
    def running(self) -> bool:
        return self._thread is not None

    def _ensure_thread(self) -> None:
        with self._start:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="consultation-writer", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=self.idle_s)
            except queue.Empty:
                with self._start:
                    if self._queue.empty():
                        self._thread = None
                        return
                continue
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._write(batch)

    def _write(self, batch: list[tuple[Item, Future[Result]]]) -> None:
        try:
            results = self.write_batch([item for item, _ in batch])
        except Exception:
            for item, future in batch:
                try:
                    future.set_result(self.write_one(item))
                except Exception as exc:  # the request thread raises it
                    future.set_exception(exc)
            return
        for (_, future), result in zip(batch, results, strict=True):
            future.set_result(result)
