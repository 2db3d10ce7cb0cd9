"""The model's one worker thread: the newest request wins, stale ones are never run.

The GUI thread calls `submit`; the worker wakes, takes only the latest request, loads the
preset or moves it to another device when needed, runs it and emits `finished` or
`failed` (queued back to the GUI thread by Qt). No widget is touched here.

Jobs (`submit_job`: a patching sweep, a patched run, the logit lens, the head-role probe)
run on this thread too, on the session the window's last run left (its device, its
interventions): no second copy of the model, and no other thread ever touches its weights
or its switches. A job runs when no request waits; between two of its forwards (`check`), a
request for the same model, device and interventions is run at once (the window stays
live), and any other stops the job (its result would not belong to the window any more);
the jobs of other slots waiting then run there too (each with its own interventions), so
that a long sweep never holds the lens or a patched run back.

A language model's run tells how far it is (`progress`: each block of the forward pass, each
generated token) and can be stopped there: by `cancel` (the Stop button), or because a newer
request is waiting (its result would be dropped anyway); `cancelled` then says so.
"""
from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from PySide6 import QtCore

from models.errors import CheckpointError, InputError
from models.memory import give_back_freed
from models.presets import resolve_device
from models.session import Session, load_preset

from .i18n import said, say

# torch's own choice at start (one thread per core), before the worker sets its own.
ALL_CORES = torch.get_num_threads()
# A model this big gives each core enough work per operation to gain from it (GPT-2 small at
# 1,024 tokens: 3.8 s on one thread, 2.7 s on two); a smaller one only loses time to it.
MANY_THREADS_FROM = 10_000_000  # parameters


# After this long without work, the worker returns the pages its runs freed (the
# allocator's high water: a long run's temporaries, a dropped model's small tensors).
IDLE_TRIM_S = 1.0


def is_big(session: Session) -> bool:
    return sum(p.numel() for p in session.model.parameters()) >= MANY_THREADS_FROM


def threads_for(session: Session) -> int:
    """Intra-op threads for this session's runs on the CPU."""
    return ALL_CORES if is_big(session) else 1


@dataclass
class Request:
    id: int
    preset: str
    device: str
    input: Any
    submitted: float = 0.0
    interventions: dict | None = None  # Session.set_interventions keywords
    untrained: bool = False  # random weights, asked for with --untrained
    generate: int = 0  # a causal language model: greedy tokens after the input
    ready: Any = None  # an opened model's Session built (or folder read) while it was opened
    chat: bool = False  # a causal language model: the input as a turn of its chat template
    residual: bool = False  # record the residual stream (a panel that reads it is shown)
    input_b: Any = None  # compare mode: a second input, run after the first (trace B)
    dtype: str = "float32"  # what an opened folder's bf16/fp16 weights compute in (--dtype)


class Cancelled(Exception):
    """Raised in a run's progress callback: the run stops there."""


class JobStopped(Exception):
    """Raised by a job's `check`: a request that changes the model, its device or its
    interventions is waiting, a newer job took the slot, or the app closes."""


@dataclass
class Job:
    """Work on the window's model: `work(session, check)` on the worker thread, calling
    `check()` between forwards; `deliver(result)` gets the result on the GUI thread (a
    JobStopped when it stopped; a ModelMessage when the model refused the input)."""
    slot: str
    preset: str
    untrained: bool
    interventions: dict
    work: Callable[[Session, Callable[[], None]], Any]
    deliver: Callable[[Any], None]


class Runner(QtCore.QObject):
    finished = QtCore.Signal(object, object, dict)  # Request, Trace, timings
    failed = QtCore.Signal(object, object)  # Request, ModelMessage (a str) for the user
    progress = QtCore.Signal(object, str, int, int)  # Request, stage, done, total
    cancelled = QtCore.Signal(object)  # Request: stopped between two steps
    job_done = QtCore.Signal(object, object)  # Job, its result
    # what the model raised that is not a refusal (a defect, told as "the model failed"):
    # its type, message and where, for the soak to count
    crashed = QtCore.Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self._pending: Request | None = None
        self._wake = threading.Condition()
        self._stopping = False
        self.session: Session | None = None
        self._big = False  # the session is big enough for every core and a trim per run
        self._untrained = False  # how the session was loaded
        self._dtype: str | None = None  # the dtype the last request asked for
        self._cancel_id = -1  # the request to stop at its next step
        self._jobs: dict[str, Job] = {}  # waiting, one per slot (the newest)
        self._job: Job | None = None  # running
        self._trim_owed = False  # work was done since the heaps were last trimmed
        self._thread = threading.Thread(target=self._loop, name="model-worker", daemon=True)
        self._thread.start()

    def submit(self, request: Request) -> None:
        with self._wake:
            self._pending = request  # replaces any request not yet started
            self._wake.notify()

    def submit_job(self, job: Job) -> None:
        """Run `job` when no request waits; it replaces the job of its slot not yet started
        (and stops the one running at its next check)."""
        with self._wake:
            self._jobs[job.slot] = job
            self._wake.notify()

    def busy_with_jobs(self) -> bool:
        with self._wake:
            return bool(self._jobs) or self._job is not None

    def cancel(self, request_id: int) -> None:
        """Stop that request's run at its next step (a block, a token): `cancelled`."""
        self._cancel_id = request_id

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._pending = None
            self._wake.notify()
        self._thread.join(timeout=30)

    # -- worker thread -----------------------------------------------------------
    def _loop(self) -> None:
        # One intra-op thread for the small models: a second OpenMP team beside the main
        # thread's idle, spinning one made them 2-5× slower (bench: translate 39 ms -> 7 ms).
        # A big opened model gets every core (threads_for, set per loaded session).
        torch.set_num_threads(1)
        while True:
            with self._wake:
                while self._pending is None and not self._jobs and not self._stopping:
                    if not self._trim_owed:
                        self._wake.wait()
                    elif not self._wake.wait(timeout=IDLE_TRIM_S):
                        break  # idle for a while after work: give the freed pages back
                if self._stopping:
                    return
                idle = self._pending is None and not self._jobs
                self._trim_owed = not idle
                request, self._pending = self._pending, None
                job = None
                if not idle and request is None:
                    job = self._job = self._jobs.pop(next(iter(self._jobs)))
            if idle:
                give_back_freed()  # (outside the lock: a submit does not wait for it)
            elif request is not None:
                self._handle(request)
            else:
                try:
                    self._run_job(job)
                finally:
                    self._job = None

    def _run_job(self, job: Job, nested: bool = False) -> None:
        """`nested`: run from another job's `check` (it then runs no job of its own)."""
        session = self.session
        if session is None or session.preset.name != job.preset or \
                self._untrained != job.untrained:
            self.job_done.emit(job, JobStopped("the window runs another model now"))
            return
        device = session.device

        def ready() -> None:  # the session as the job needs it (a request may change it)
            session.progress, session.generate = None, 0
            session.set_interventions(**job.interventions)

        def check() -> None:
            with self._wake:
                newer = self._jobs.get(job.slot)
                pending = self._pending
                if self._stopping or newer is not None:
                    raise JobStopped("a newer job")
                if pending is not None and not self._compatible(pending, job):
                    raise JobStopped("a new run of the window")
                if pending is not None:
                    self._pending = None
                # other askers' jobs (the lens, a head-role probe, a patched run) waiting:
                # run between two forwards too, so that a long sweep does not hold them
                others = [] if nested else [self._jobs.pop(slot) for slot in list(self._jobs)]
            if pending is not None:  # the same model and settings: run it now, go on
                self._handle(pending)
            for other in others:
                self._run_job(other, nested=True)
            if pending is not None or others:
                if self.session is not session or session.device != device:
                    raise JobStopped("the model moved")
                ready()

        try:
            ready()
            result = job.work(session, check)
        except JobStopped as stopped:
            result = stopped
        except (InputError, CheckpointError) as error:
            result = said(error)
        except Exception as error:  # keep the app alive whatever the model does
            self._crashed(error)
            result = said(f"the model failed: {type(error).__name__}: {error}")
        self.job_done.emit(job, result)

    def _compatible(self, request: Request, job: Job) -> bool:
        """Whether `request` runs on the session as the job uses it."""
        try:
            device = resolve_device(request.device)
        except InputError:
            return False
        return request.preset == job.preset and request.untrained == job.untrained and \
            device == str(self.session.device) and (request.interventions or {}) == \
            (job.interventions or {}) and request.ready is None

    def _handle(self, request: Request) -> None:
        try:
            try:
                self._run(request, self._prepare(request))
            except torch.cuda.OutOfMemoryError:
                self._fall_back_to_cpu()  # the state follows: the result says "cpu"
                self._run(request, "the GPU ran out of memory: running on CPU")
        except Cancelled:
            self.cancelled.emit(request)
        except (InputError, CheckpointError) as error:
            self.failed.emit(request, said(error))  # with its template, to translate
        except Exception as error:  # keep the app alive whatever the model does
            self._crashed(error)
            self.failed.emit(request, said(f"the model failed: {type(error).__name__}: {error}"))

    def _crashed(self, error: Exception) -> None:
        traceback.print_exc()
        where = traceback.extract_tb(error.__traceback__)[-1]
        self.crashed.emit(f"{type(error).__name__}: {error} "
                          f"({Path(where.filename).name}:{where.lineno})")

    def _told(self, request: Request):
        """The session's progress callback for this request's run."""
        def progress(stage: str, done: int, total: int) -> None:
            if self._cancel_id == request.id or self._pending is not None or self._stopping:
                raise Cancelled
            self.progress.emit(request, stage, done, total)
        return progress

    def _run(self, request: Request, notice: str) -> None:
        try:
            self.session.progress = self._told(request)
            self._run_told(request, notice)
        finally:
            self.session.progress = None

    def _run_told(self, request: Request, notice: str) -> None:
        original = None
        self.session.generate = request.generate if self.session.preset.task_info.generates \
            else 0
        self.session.chat = request.chat and self.session.preset.task_info.generates
        if request.interventions:  # the unedited model's answer, to show beside
            self.session.set_interventions()
            original = self.session.run(request.input, trace=False).meta
        self.session.set_interventions(**(request.interventions or {}))
        if self._big:  # the last run's freed temporaries out before this run's peak
            give_back_freed()
        start = time.perf_counter()
        trace = self.session.run(request.input, residual=request.residual)
        if original is not None:
            trace.meta["original"] = {k: original.get(k) for k in ("prediction", "probs",
                                                                   "confidence")}
        if self.session.device.type == "cuda":
            torch.cuda.synchronize()
        forward_ms = (time.perf_counter() - start) * 1000
        timings = {"forward_ms": forward_ms, "device": str(self.session.device),
                   "submitted": request.submitted, "notice": notice}
        if request.input_b is not None:  # compare mode: B with the same model and settings
            try:
                timings["trace_b"] = self.session.run(request.input_b,
                                                      residual=request.residual)
            except InputError as error:  # A stays on screen; the state says why B is not
                timings["b_refused"] = said(error)
        self.finished.emit(request, trace, timings)

    def _prepare(self, request: Request) -> str:
        """Load the preset / move it to the device when they changed; returns a notice."""
        notice = ""
        try:
            device = resolve_device(request.device)
        except InputError as error:
            device, notice = "cpu", f"{error}: running on CPU"
        if self.session is None or self.session.preset.name != request.preset or \
                self._untrained != request.untrained:
            session = load_preset(request.preset, "cpu", untrained=request.untrained,
                                  ready=request.ready, keep=request.dtype)
            # (a Session built while its folder was opened may predate the choice: cast
            # here, or refused before it replaces the worker's)
            session.recast(request.dtype)
            self.session = session
            self._untrained = request.untrained
            torch.set_num_threads(threads_for(self.session))
            self._big = is_big(self.session)
        else:  # the Device menu's dtype: the weights cast on this thread, never the GUI's
            self.session.recast(request.dtype)
        if self._dtype not in (None, request.dtype):  # a new choice this model does not take
            notice = notice or self._dtype_notice(request)
        self._dtype = request.dtype
        if not self.session.trained:
            notice = notice or "untrained: random weights (--untrained), not the trained model"
        if str(self.session.device) != device:
            try:
                self.session.to(device)
            except (RuntimeError, AssertionError) as error:
                self._fall_back_to_cpu()
                notice = f"could not use {device} ({error}): running on CPU"
        return notice

    def _dtype_notice(self, request: Request) -> str:
        """Where bf16 or fp16 was chosen and the weights are stored in another dtype: why
        the model still computes in float32 ('' where it computes in the dtype chosen)."""
        stored, computed = (str(d).replace("torch.", "") for d in self.session.dtypes)
        if request.dtype == "float32" or computed != "float32":
            return ""
        return say("{model}: its weights are stored in {stored}, so it computes in float32 "
                   "({dtype} keeps only weights stored in {dtype})", model=request.preset,
                   stored=stored, dtype=request.dtype)

    def _fall_back_to_cpu(self) -> None:
        if self.session is not None:
            self.session.to("cpu")
