"""Analyst: one background thread for what panels derive from a long trace (the model view's
thumbnails and head statistics), so that the GUI thread never computes N × N matrices.

Each job has a slot (one per panel): a new job replaces the one waiting in its slot, and a
result whose job was replaced meanwhile is dropped, so the newest request wins as it does for
the model runs. Panels get results through `done` on the GUI thread.

A long job (the Corpus tab's UMAP) runs on a thread of its own (`analyst(name)`), so that the
panels' quick jobs do not wait behind it, and is given a `Task`: it reports its progress
through it and stops, at its next `check()`, once a newer job of its slot was asked or the
panel cancelled it.
"""
from __future__ import annotations

import itertools
import threading
import traceback
import weakref
from collections.abc import Callable
from typing import Any

from PySide6 import QtCore


class Cancelled(Exception):
    """Raised by `Task.check` in a job that is no longer wanted: nothing is drawn."""


class Analyst(QtCore.QObject):
    done = QtCore.Signal(str, object, object)  # slot, ticket, result
    failed = QtCore.Signal(str, object, str)  # slot, ticket, message
    progress = QtCore.Signal(str, object, object)  # slot, ticket, fraction (None: unknown)

    def __init__(self, name: str = "analyst") -> None:
        super().__init__()
        self._jobs: dict[str, tuple[Any, Callable[[], Any]]] = {}
        self._newest: dict[str, Any] = {}
        self._wake = threading.Condition()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def submit(self, slot: str, ticket: Any, job: Callable[[], Any]) -> None:
        with self._wake:
            self._jobs[slot] = (ticket, job)
            self._newest[slot] = ticket
            self._wake.notify()

    def is_newest(self, slot: str, ticket: Any) -> bool:
        with self._wake:
            return self._newest.get(slot) == ticket

    def withdraw(self, slot: str) -> None:
        """No job of `slot` is wanted: a waiting one is dropped, a running one is no longer
        the newest (it stops at its next check, and its result is not drawn)."""
        with self._wake:
            self._jobs.pop(slot, None)
            self._newest[slot] = object()

    def _loop(self) -> None:
        while True:
            with self._wake:
                while not self._jobs:
                    self._wake.wait()
                slot = next(iter(self._jobs))
                ticket, job = self._jobs.pop(slot)
            try:
                result = job()
            except Cancelled:
                continue  # (its panel knows: it withdrew it, or asked for a newer one)
            except Exception as error:  # a panel says so; the app goes on
                traceback.print_exc()
                self.failed.emit(slot, ticket, f"{type(error).__name__}: {error}")
                continue
            if self.is_newest(slot, ticket):
                self.done.emit(slot, ticket, result)


_ANALYSTS: dict[str, Analyst] = {}
_serial = itertools.count()


def analyst(name: str = "analyst") -> Analyst:
    """The analyst thread of that name (created on first use, in the GUI thread): the one
    every panel shares, or one for long jobs ("corpus": the Corpus tab's embeddings)."""
    found = _ANALYSTS.get(name)
    if found is None:
        found = _ANALYSTS[name] = Analyst(name)
        # one connection for every panel's requests, found by slot: a connection per request
        # held the request, its panel and the panel's state for as long as the app ran
        found.done.connect(_done)
        found.failed.connect(_failed)
        found.progress.connect(_progress)
    return found


class Task:
    """What a long job is given: `report(fraction)` its progress (from 0 to 1; None: busy,
    how far not known), `cancelled()` whether it is still wanted, `check()` raises
    Cancelled if not."""

    def __init__(self, worker: Analyst, slot: str, ticket: Any) -> None:
        self.worker, self.slot, self.ticket = worker, slot, ticket

    def cancelled(self) -> bool:
        return not self.worker.is_newest(self.slot, self.ticket)

    def check(self) -> None:
        if self.cancelled():
            raise Cancelled

    def report(self, fraction: float | None) -> None:
        self.worker.progress.emit(self.slot, self.ticket, fraction)


class Request:
    """What one panel asks the analyst for: `ask(trace, key, job, draw, ready)` draws
    `draw(job())` at once when `ready` (the matrices are at hand), else runs `job` on the
    analyst thread and draws its result on the GUI thread when it arrives, only if the
    same trace is still shown and `key` (e.g. site and head) is still the one last asked:
    a newer ask replaces one still waiting."""

    open_requests: weakref.WeakSet = weakref.WeakSet()  # (Explorer.wait: until none computes)

    def __init__(self, slot: str, trace_now: Callable[[], Any], thread: str = "analyst") -> None:
        self.slot, self.trace_now = f"{slot}-{id(self)}", trace_now  # one per panel
        self.ticket: tuple | None = None
        self._draw: Callable[[Any], None] | None = None
        self._progress: Callable[[Any], None] | None = None
        self.worker = analyst(thread)
        Request.open_requests.add(self)

    def ask(self, trace: Any, key: Any, job: Callable[..., Any],
            draw: Callable[[Any], None], ready: bool,
            progress: Callable[[Any], None] | None = None,
            elsewhere: Callable[[str, Callable, Callable], bool] | None = None) -> None:
        """`progress`: the job is a long one, called with its Task; what it reports is
        given to `progress(fraction)` on the GUI thread while it is the newest.
        `elsewhere(slot, job, deliver)`: run `job` there (the model's worker thread)
        instead of the analyst's, `deliver(result)` on the GUI thread; False: not asked."""
        if ready:
            self.ticket = None
            draw(job())
            return
        self.ticket, self._draw, self._progress = (id(trace), key), draw, progress
        if elsewhere is not None:
            ticket = self.ticket
            if not elsewhere(self.slot, job,
                             lambda result: self._done(self.slot, ticket, result)):
                self.ticket = None
        elif progress is not None:
            # each long job its own ticket: one cancelled and asked again is not the newest
            self.ticket = (id(trace), key, next(_serial))
            task = Task(self.worker, self.slot, self.ticket)
            self.worker.submit(self.slot, self.ticket, lambda: job(task))
        else:
            self.worker.submit(self.slot, self.ticket, job)

    def cancel(self) -> None:
        """The job asked last is not wanted: it is dropped, or stops at its next check."""
        if self.ticket is not None:
            self.ticket = None
            self.worker.withdraw(self.slot)

    def computing(self) -> bool:
        return self.ticket is not None

    def _progressed(self, slot: str, ticket, payload) -> None:
        if slot == self.slot and ticket == self.ticket and self._progress is not None:
            self._progress(payload)

    def _done(self, slot: str, ticket, result) -> None:
        if slot == self.slot and ticket == self.ticket:
            self.ticket = None
            if id(self.trace_now()) == ticket[0]:
                self._draw(result)

    def _failed(self, slot: str, ticket, message: str) -> None:
        if slot == self.slot and ticket == self.ticket:
            self.ticket = None


def _done(slot: str, ticket, result) -> None:
    for request in list(Request.open_requests):
        request._done(slot, ticket, result)


def _failed(slot: str, ticket, message: str) -> None:
    for request in list(Request.open_requests):
        request._failed(slot, ticket, message)


def _progress(slot: str, ticket, payload) -> None:
    for request in list(Request.open_requests):
        request._progressed(slot, ticket, payload)


def computing() -> bool:
    """Some panel's matrices are still on the analyst thread."""
    return any(request.computing() for request in Request.open_requests)
