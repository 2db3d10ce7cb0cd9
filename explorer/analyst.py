"""Analyst: one background thread for what panels derive from a long trace (the model view's
thumbnails and head statistics), so that the GUI thread never computes N × N matrices.

Each job has a slot (one per panel): a new job replaces the one waiting in its slot, and a
result whose job was replaced meanwhile is dropped, so the newest request wins as it does for
the model runs. Panels get results through `done` on the GUI thread.
"""
from __future__ import annotations

import threading
import traceback
import weakref
from collections.abc import Callable
from typing import Any

from PySide6 import QtCore


class Analyst(QtCore.QObject):
    done = QtCore.Signal(str, object, object)  # slot, ticket, result
    failed = QtCore.Signal(str, object, str)  # slot, ticket, message

    def __init__(self) -> None:
        super().__init__()
        self._jobs: dict[str, tuple[Any, Callable[[], Any]]] = {}
        self._newest: dict[str, Any] = {}
        self._wake = threading.Condition()
        self._thread = threading.Thread(target=self._loop, name="analyst", daemon=True)
        self._thread.start()

    def submit(self, slot: str, ticket: Any, job: Callable[[], Any]) -> None:
        with self._wake:
            self._jobs[slot] = (ticket, job)
            self._newest[slot] = ticket
            self._wake.notify()

    def is_newest(self, slot: str, ticket: Any) -> bool:
        with self._wake:
            return self._newest.get(slot) == ticket

    def _loop(self) -> None:
        while True:
            with self._wake:
                while not self._jobs:
                    self._wake.wait()
                slot = next(iter(self._jobs))
                ticket, job = self._jobs.pop(slot)
            try:
                result = job()
            except Exception as error:  # a panel says so; the app goes on
                traceback.print_exc()
                self.failed.emit(slot, ticket, f"{type(error).__name__}: {error}")
                continue
            if self.is_newest(slot, ticket):
                self.done.emit(slot, ticket, result)


_ANALYST: Analyst | None = None


def analyst() -> Analyst:
    """The one analyst thread (created on first use, in the GUI thread)."""
    global _ANALYST
    if _ANALYST is None:
        _ANALYST = Analyst()
        # one connection for every panel's requests, found by slot: a connection per request
        # held the request, its panel and the panel's state for as long as the app ran
        _ANALYST.done.connect(_done)
        _ANALYST.failed.connect(_failed)
    return _ANALYST


class Request:
    """What one panel asks the analyst for: `ask(trace, key, job, draw, ready)` draws
    `draw(job())` at once when `ready` (the matrices are at hand), else runs `job` on the
    analyst thread and draws its result on the GUI thread when it arrives, only if the
    same trace is still shown and `key` (e.g. site and head) is still the one last asked:
    a newer ask replaces one still waiting."""

    open_requests: weakref.WeakSet = weakref.WeakSet()  # (Explorer.wait: until none computes)

    def __init__(self, slot: str, trace_now: Callable[[], Any]) -> None:
        self.slot, self.trace_now = f"{slot}-{id(self)}", trace_now  # one per panel
        self.ticket: tuple | None = None
        self._draw: Callable[[Any], None] | None = None
        analyst()
        Request.open_requests.add(self)

    def ask(self, trace: Any, key: Any, job: Callable[..., Any],
            draw: Callable[[Any], None], ready: bool,
            elsewhere: Callable[[str, Callable, Callable], bool] | None = None) -> None:
        """`elsewhere(slot, job, deliver)`: run `job` there (the model's worker thread)
        instead of the analyst's, `deliver(result)` on the GUI thread; False: not asked."""
        if ready:
            self.ticket = None
            draw(job())
            return
        self.ticket, self._draw = (id(trace), key), draw
        if elsewhere is None:
            analyst().submit(self.slot, self.ticket, job)
            return
        ticket = self.ticket
        if not elsewhere(self.slot, job, lambda result: self._done(self.slot, ticket, result)):
            self.ticket = None

    def computing(self) -> bool:
        return self.ticket is not None

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


def computing() -> bool:
    """Some panel's matrices are still on the analyst thread."""
    return any(request.computing() for request in Request.open_requests)
