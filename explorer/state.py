"""AppState: the single source of truth. Panels read it and write back through its methods.

Data flow (docs/architecture.md): an input change asks the runner for a run; results come back
with their request id; only the newest is kept; `trace_changed` tells every panel.
Hover and clicks change the `Selection` only; they never re-run the model.
"""
from __future__ import annotations

import dataclasses
import functools
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PySide6 import QtCore

from models.presets import find, get_preset
from models.resources import shipped
from models.runs.lm import check_generate
from models.session import DTYPE_REFUSED, DTYPES, KEEP, mlp_names, set_weights_dtype, site_names
from models.sites import CROSS, token_layout
from models.trace import Trace

from .compare import VIEWS, DiffTrace, change_one_word, positions, shapes_agree
from .i18n import say, tr, translate_message
from .labels import axis_labels
from .runner import Job, Request, Runner

# how a head is switched off -> the interventions' key that lists such heads
ABLATIONS = {"zero": "heads_off", "mean": "heads_mean"}


class RunFailed(RuntimeError):
    """The newest run failed (bad input, weights that do not load); the last result stays."""


@dataclass(frozen=True)
class Selection:
    site: str = ""  # attention site, e.g. "decoder.layers.1.cross_attn"
    head: int = 0
    query: int | None = None  # row of the site's matrices (decoder sites: the decoding step)
    key: int | None = None  # column
    window: int = 0  # Swin: window of the site
    locked: bool = False  # clicked: hover no longer moves query/key


class AppState(QtCore.QObject):
    trace_changed = QtCore.Signal(object)  # Trace
    selection_changed = QtCore.Signal(object)  # Selection
    device_changed = QtCore.Signal(str)
    message = QtCore.Signal(object)  # str (a ModelMessage: its template too); empty clears
    run_failed = QtCore.Signal(object)  # its ModelMessage; the previous trace stays
    busy_changed = QtCore.Signal(bool)
    timings_changed = QtCore.Signal(dict)
    interventions_changed = QtCore.Signal(dict)
    preset_changed = QtCore.Signal(str)  # also when a failed switch is undone
    input_changed = QtCore.Signal(object)  # the input the state runs (text, path or array)
    generate_changed = QtCore.Signal(int)
    chat_changed = QtCore.Signal(bool)
    dtype_changed = QtCore.Signal(str)  # "float32", "bfloat16" or "float16"
    progress = QtCore.Signal(str, int, int)  # the newest run: stage, done, total
    # compare mode: on/off, input B, what the panels show (VIEWS), the note on what is shown
    compare_changed = QtCore.Signal(bool)
    input_b_changed = QtCore.Signal(object)
    view_changed = QtCore.Signal(str)
    compare_note_changed = QtCore.Signal(str)
    patched_changed = QtCore.Signal(object)  # the patched run shown (a dict), or None

    def __init__(self, preset: str, device: str = "cpu", parent: QtCore.QObject | None = None,
                 untrained: bool = False):
        super().__init__(parent)
        self.preset = preset
        self.device = device
        self.untrained = untrained  # presets with random weights (--untrained), to teach
        self.input: Any = None
        self._inputs: dict[str, Any] = {}  # the last input of each preset, to come back to
        # an opened model's Session built (or folder read) by whoever opened it: the requests
        # carry it to the runner until one of them is answered, so the files are read once
        self._ready: dict[str, Any] = {}
        self.trace: Trace | None = None
        self.shown: Request | None = None  # the request whose result is on screen
        self.error = ""  # why the newest request failed ('' when it did not)
        self.selection = Selection()
        self.interventions: dict[str, Any] = {}  # Session.set_interventions keywords
        self.generate = 0  # a causal language model: greedy tokens to add after the input
        # the other models' continuation counts: a count belongs to the model it was set for
        self._generates: dict[str, int] = {}
        self.chat = False  # a language model with a chat template: the input as a user turn
        self._chats: dict[str, bool] = {}  # the other models' (it belongs to its model too)
        # what an opened folder's bf16/fp16 weights compute in: "float32" (the default),
        # or the dtype they are kept in (--dtype, the Device menu); the same for every model
        self.dtype = KEEP["dtype"] or "float32"
        self.dtype_refused = ""  # the dtype the newest failed run could not compute in
        self.timings: dict[str, float] = {}
        # live runs record the residual stream only while a panel that reads it is shown
        # (the Logit lens): `want_residual`; a saved trace is run again with it if it lacks it
        self.residual = False
        self._newest_residual = False  # whether the newest request records it
        # compare mode (explorer/compare.py): B runs after A in the same request; `trace`
        # is what the panels show: A, B, A − B (a DiffTrace) or a patched run
        self.compare = False
        self.input_b: Any = None
        self.view = "A"
        self.trace_a: Trace | None = None
        self.trace_b: Trace | None = None
        self.compare_note = ""  # why the view shows something else than asked ('' if not)
        self.b_refused = ""  # why input B was refused by the newest run ('' if it was not)
        self.patched: dict | None = None  # {"trace": Trace, "cell": dict} shown instead
        self._next_id = 0
        self._newest_id = -1
        self._answered_id = -1  # the newest request painted or failed
        self._remembered_id = -1  # the request replaying a preset's remembered input
        self._notice = ""  # said with the next result (a remembered input given up)
        # a remembered input given up for the sample: (the sample's request id, the input); if
        # the sample is refused too, the input was not what was refused, and it is kept
        self._given_up: tuple[int, Any] | None = None
        self.runner = Runner()
        self.runner.finished.connect(self._on_result)
        self.runner.failed.connect(self._on_failure)
        self.runner.progress.connect(self._on_progress)
        self.runner.cancelled.connect(self._on_cancelled)
        self.runner.job_done.connect(self._job_done)

    # -- inputs ----------------------------------------------------------------
    def set_preset(self, name: str, value: Any = None) -> None:
        """Switch model. The input is `value`, else what this preset last ran (its sample if
        that is refused), else its sample. The previous trace stays on screen until the new
        one arrives."""
        if find(name) is None:
            self.message.emit(f"unknown preset '{name}'")
            return
        if self.input is not None:
            self._inputs[self.preset] = self.input
        if value is None:
            value = self._inputs.get(name, default_input(name))
            remembered = not (isinstance(value, str) and value == default_input(name))
        else:
            remembered = False
        if self.interventions:  # they name sites of the previous model
            self.interventions = {}
            self.interventions_changed.emit({})
        if name != self.preset:
            self._switch_generate(name)
            self._chats[self.preset] = self.chat
            if self._chats.pop(name, False) != self.chat:
                self.chat = not self.chat
                self.chat_changed.emit(self.chat)
            self.preset = name
            self.preset_changed.emit(name)
        if self.compare or self.input_b is not None:
            # B belongs to the model too (kept for when compare mode is turned on again):
            # A with one word changed
            self._set_input_b(self.variant_of(value))
        self._set_input(value)
        # if that remembered input is refused, the preset's sample runs instead (_on_failure)
        self._remembered_id = self._newest_id if remembered else -1

    def set_device(self, device: str) -> None:
        if device == self.device:
            return
        self.device = device
        self.device_changed.emit(device)
        self.request_run()

    def set_dtype(self, name: str, run: bool = True) -> None:
        """Compute an opened folder's weights stored in bf16 or fp16 in float32 ("float32")
        or as they are stored ("bfloat16", "float16"): the rule of --dtype, for the model
        on screen (cast on the worker thread) and every folder opened from now on. A device
        that cannot compute in it refuses the run: the dtype and the result stay as they
        were. ValueError for another name; `run=False`: from the next run (a session's)."""
        if name not in DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, not {name!r}")
        if name == self.dtype:
            return
        self._keep_dtype(name)
        if run:
            self.request_run()

    def _keep_dtype(self, name: str) -> None:
        self.dtype = name
        set_weights_dtype(None if name == "float32" else name)  # (folders opened from now on)
        self.dtype_changed.emit(name)

    def set_input(self, value: Any) -> None:
        """A new input for the current preset; one of the wrong kind (text for an image
        model, say, from a widget of the preset before) is refused with a message."""
        why = input_mismatch(self.preset, value)
        if why:
            self.message.emit(why)
            return
        self._set_input(value)

    def _set_input(self, value: Any) -> None:
        if value is not self.input:
            self.input = value
            self.input_changed.emit(value)
        self.request_run()

    # -- compare mode ------------------------------------------------------------------
    def set_compare(self, on: bool, value_b: Any = None) -> None:
        """Compare mode on (B: `value_b`, else the B it had, else A with one word changed)
        or off (the panels show A alone). Runs A and B again."""
        on = bool(on)
        new_b = False
        if on and (value_b is not None or self.input_b is None
                   or input_mismatch(self.preset, self.input_b)):
            value = value_b if value_b is not None else self.variant_of(self.input)
            why = input_mismatch(self.preset, value) if value is not None else ""
            if why:
                self.message.emit(why)
                return
            new_b = value is not self.input_b
            self._set_input_b(value)
        if on != self.compare:
            self.compare = on
            self.compare_changed.emit(on)
            if not on:  # A at once, not B or A − B until the next result (none if refused)
                self._drop_patched()
                self.trace_b = None  # (turned on again, B runs anew: no old B meanwhile)
                self._show_view()
            self.request_run()
        elif new_b:  # already on: the new B runs
            self.request_run()

    def set_input_b(self, value: Any) -> None:
        """Input B (compare mode turns on); one of the wrong kind is refused."""
        why = input_mismatch(self.preset, value)
        if why:
            self.message.emit(why)
            return
        self._set_input_b(value)
        if not self.compare:
            self.compare = True
            self.compare_changed.emit(True)
        self.request_run()

    def _set_input_b(self, value: Any) -> None:
        if value is not self.input_b:
            self.input_b = value
            self.input_b_changed.emit(value)

    def variant_of(self, value: Any) -> Any:
        """A text with one word changed (a word of the preset's samples), an image as it
        is (draw on B to change it)."""
        if isinstance(value, str) and get_preset(self.preset).input_kind == "text":
            pool = [w for line in get_preset(self.preset).samples for w in line.split()]
            return change_one_word(value, pool)
        return value

    def set_view(self, view: str) -> None:
        """What the panels show in compare mode: "A", "B" or "A-B" (VIEWS)."""
        if view not in VIEWS:
            raise ValueError(f"view must be one of {', '.join(VIEWS)}, not {view!r}")
        if view != self.view:
            self.view = view
            self.view_changed.emit(view)
            self._show_view()

    def show_patched(self, trace: Trace, cell: dict) -> None:
        """A patched run (models.patching.patched_run) on every panel, until
        `leave_patched` or the next result."""
        self.patched = {"trace": trace, "cell": dict(cell)}
        self.patched_changed.emit(self.patched)
        self._show_view()

    def leave_patched(self) -> None:
        if self._drop_patched():
            self._show_view()

    def _drop_patched(self) -> bool:
        """The patched run no longer shown (said); whether there was one."""
        if self.patched is None:
            return False
        self.patched = None
        self.patched_changed.emit(None)
        return True

    def viewed(self) -> Trace | None:
        """The trace the panels show now; sets `compare_note` where A − B cannot be."""
        a, b = self.trace_a, self.trace_b
        note = ""
        if self.patched is not None:
            shown = self.patched["trace"]
        elif not self.compare or b is None or self.view == "A":
            shown = a
        elif self.view == "B":
            shown = b
        elif shapes_agree(a, b):
            shown = DiffTrace(a, b)
        else:
            shown = a
            note = say("A has {a} positions, B has {b}: A − B needs the same count — "
                       "showing A", a=positions(a), b=positions(b))
        if self.compare and self.b_refused:
            note = say("input B was refused: {reason}", reason=self.b_refused)
        if note != self.compare_note:
            self.compare_note = note
            self.compare_note_changed.emit(note)
        return shown

    def _show_view(self) -> None:
        if self.trace_a is None:
            return
        trace = self.viewed()
        if trace is self.trace:
            return
        self.trace = trace
        self.selection = self._valid_selection(self.selection, trace)
        self.trace_changed.emit(trace)

    # -- interventions ---------------------------------------------------------------
    def set_interventions(self, interventions: dict) -> None:
        clean = {k: v for k, v in interventions.items() if v}
        if clean.get("bottleneck") and get_preset(self.preset).input_kind != "text":
            # (the text models are the encoder–decoders)
            self.message.emit("the bottleneck is a seq2seq intervention: no decoder here")
            clean.pop("bottleneck")
        sites = set(preset_sites(self.preset))
        for key in ("heads_off", "heads_mean"):
            heads = clean.get(key, [])
            if any(site not in sites for site, _ in heads):
                # a head of the model on screen while another one loads: not this model's
                self.message.emit(f"{self.preset} has no such attention site: head not "
                                   "switched")
                clean[key] = [[s, h] for s, h in heads if s in sites]
        mlps = clean.get("mlps_off", [])
        known = mlp_names(self.preset) if mlps else []
        if not set(mlps) <= set(known):
            self.message.emit(say("{preset} has no such MLP: not switched",
                                  preset=self.preset))
            clean["mlps_off"] = [m for m in mlps if m in known]
        clean = {k: v for k, v in clean.items() if v}
        if clean != self.interventions:
            self.interventions = clean
            self.interventions_changed.emit(clean)
            self.request_run()

    def set_generate(self, steps: int) -> None:
        """How many tokens a causal language model adds after the input (0: none); a count
        outside 0 to MAX_GENERATE is refused (InputError) and nothing changes."""
        steps = check_generate(steps)
        if steps != self.generate:
            self.generate = steps
            self.generate_changed.emit(steps)
            if get_preset(self.preset).task_info.generates:
                self.request_run()

    def set_chat(self, on: bool) -> None:
        """A causal language model's input as one user turn of its folder's chat template
        (the run refuses it, with the reason, where the folder has none)."""
        on = bool(on)
        if on != self.chat:
            self.chat = on
            self.chat_changed.emit(on)
            if get_preset(self.preset).task_info.generates:
                self.request_run()

    def set_generate_of(self, preset: str, steps: int) -> None:
        """The continuation count `preset` runs with from its next run (a session's), without
        a run now; InputError outside 0 to MAX_GENERATE."""
        steps = check_generate(steps)
        if preset != self.preset:
            self._generates[preset] = steps
        elif steps != self.generate:
            self.generate = steps
            self.generate_changed.emit(steps)

    def set_chat_of(self, preset: str, on: bool) -> None:
        """Whether `preset` runs its input as a chat turn from its next run (a session's),
        without a run now."""
        on = bool(on)
        if preset != self.preset:
            self._chats[preset] = on
        elif on != self.chat:
            self.chat = on
            self.chat_changed.emit(on)

    def _switch_generate(self, name: str) -> None:
        """Leaving the current model for `name`: the current one keeps its count (not one
        its newest run refused: then the count of its result on screen), `name` comes back
        with its own, or 0 the first time."""
        shown = self.shown
        kept = self.generate
        if self.error and self.settled():
            kept = shown.generate if shown is not None and shown.preset == self.preset else 0
        self._generates[self.preset] = kept
        steps = self._generates.pop(name, 0)
        if steps != self.generate:
            self.generate = steps
            self.generate_changed.emit(steps)

    def toggle_head(self, site: str, head: int, mode: str = "zero") -> None:
        """Switch a head off (its output replaced by zero, or with mode "mean" by its mean
        over the input's positions), or back on when it is off either way."""
        if mode not in ABLATIONS:
            raise ValueError(f"a head is switched off by {' or '.join(ABLATIONS)}, not {mode}")
        lists = {key: [list(h) for h in self.interventions.get(key, [])]
                 for key in ABLATIONS.values()}
        if any([site, head] in heads for heads in lists.values()):
            lists = {key: [h for h in heads if h != [site, head]]
                     for key, heads in lists.items()}
        else:
            lists[ABLATIONS[mode]].append([site, head])
        self.set_interventions({**self.interventions, **lists})

    def toggle_mlp(self, point: str) -> None:
        """Switch an MLP sublayer off (its write into the stream is zero), or back on."""
        mlps = list(self.interventions.get("mlps_off", []))
        mlps = [m for m in mlps if m != point] if point in mlps else mlps + [point]
        self.set_interventions({**self.interventions, "mlps_off": mlps})

    def clear_interventions(self) -> None:
        self.set_interventions({})

    def want_residual(self, on: bool) -> None:
        """A panel that reads the residual stream is shown (`on`) or hidden: the runs from
        now on record it or not. Shown while the trace on screen lacks it: run again."""
        self.residual = on
        if on and self.trace is not None and not self.trace.residual and \
                not (self._newest_residual and not self.settled()):
            self.request_run()

    def request_run(self, residual: bool = False) -> int:
        """Ask the worker for a run of the current preset, device and input; newest wins.
        `residual`: this run records the residual stream even if no panel asked for it."""
        if self.input is None:
            return self._newest_id
        self._next_id += 1
        self._newest_id = self._next_id
        self._newest_residual = residual or self.residual
        self.busy_changed.emit(True)
        self.runner.submit(Request(self._next_id, self.preset, self.device, self.input,
                                   time.perf_counter(), dict(self.interventions),
                                   self.untrained, self.generate, self._ready.get(self.preset),
                                   self.chat, self._newest_residual,
                                   self.input_b if self.compare else None, self.dtype))
        return self._next_id

    def run_on_model(self, slot: str, work, deliver) -> bool:
        """`work(session, check)` on the model's worker thread, with the session of the run
        on screen (its preset, device and interventions; `check()` between forwards lets the
        window's runs through); `deliver(result)` here with the result. False (nothing
        asked) when nothing has run yet."""
        shown = self.shown
        if shown is None:
            return False
        self.runner.submit_job(Job(slot, shown.preset, shown.untrained,
                                   dict(shown.interventions or {}), work, deliver))
        return True

    def _job_done(self, job: Job, result) -> None:
        job.deliver(result)

    def settled(self) -> bool:
        """The newest request has been answered: its trace painted, or its failure told."""
        return self._answered_id == self._newest_id

    def settle(self, timeout_s: float = 60.0, pending=lambda: False) -> None:
        """Process events until the newest request is answered and `pending()` is false
        (say, a debounce timer); TimeoutError after `timeout_s`. `error` says if it failed."""
        deadline = time.monotonic() + timeout_s
        # Sleep until an event comes (the result, a timer), not a polling loop: polling took
        # the GIL from the worker and made every run slower. The timer wakes us at the end.
        alarm = QtCore.QTimer(singleShot=True, interval=int(timeout_s * 1000) + 1)
        alarm.start()
        while not self.settled() or pending():
            if time.monotonic() > deadline:
                raise TimeoutError(f"no result within {timeout_s:.0f} s")
            QtCore.QCoreApplication.processEvents(QtCore.QEventLoop.WaitForMoreEvents)
        alarm.stop()

    def stop(self) -> None:
        """Stop the newest run at its next step (a block of the forward pass, a generated
        token): the result on screen stays, and the message says it was stopped."""
        if not self.settled():
            self.runner.cancel(self._newest_id)

    def _on_progress(self, request: Request, stage: str, done: int, total: int) -> None:
        if request.id == self._newest_id and not self.settled():
            self.progress.emit(stage, done, total)

    def _on_cancelled(self, request: Request) -> None:
        """A run stopped: by Stop when it is the newest (told like a refusal, the previous
        result stays), else because a newer one was waiting (nothing to say)."""
        if request.id == self._newest_id:
            if request.id == self._remembered_id:  # not the input's fault: no sample instead
                self._remembered_id = -1
            self._on_failure(request, say("stopped: the result on screen is the last one "
                                          "finished"))
        else:
            self._answered(request)

    def shutdown(self) -> None:
        self.runner.stop()

    # -- results ---------------------------------------------------------------
    def offer_ready(self, preset: str, ready: Any) -> None:
        """An opened model's Session built (or folder read) off the GUI thread: its first
        load takes it instead of reading the files again (`models.session.load_preset`)."""
        if ready is not None:
            # one at most: a model opened but not run (another was chosen while it was
            # read) is built again from its folder when chosen, not kept built meanwhile
            self._ready.clear()
            self._ready[preset] = ready

    def _answered(self, request: Request) -> None:
        # the runner has loaded (or refused) what the request carried: it is not kept twice
        if request.ready is not None and self._ready.get(request.preset) is request.ready:
            del self._ready[request.preset]

    def _on_result(self, request: Request, trace: Trace, timings: dict) -> None:
        self._answered(request)
        if request.id != self._newest_id:
            return  # a newer request is on its way: never paint a stale result
        self.dtype_refused = ""
        self.busy_changed.emit(False)
        self._answered_id = request.id
        self.shown, self.error = request, ""
        if timings.get("device") and timings["device"] != self.device:
            # the worker fell back (e.g. CUDA failed): show what really runs
            self.device = timings["device"]
            self.device_changed.emit(self.device)
        previous = self.trace
        self.trace_a, self.trace_b = trace, timings.pop("trace_b", None)
        self.b_refused = timings.pop("b_refused", "")
        self._drop_patched()  # a new result: the patched run of the old one goes
        trace = self.viewed()
        self.trace = trace
        self.timings = dict(timings)
        self.selection = self._valid_selection(follow_tokens(self.selection, previous, trace),
                                               trace)
        # each said in the interface's language (a joined line is no message to look up)
        notices = [self._notice, translate_message(timings.get("notice", "")),
                   translate_message(trace.meta.get("notice", ""))]
        self._notice = ""
        if trace.meta.get("unknown"):
            notices.append(tr("unknown words (read as <unk>): ") + ", ".join(trace.meta["unknown"]))
        self.message.emit(" · ".join(n for n in notices if n))
        start = time.perf_counter()
        self.trace_changed.emit(trace)
        self.timings["redraw_ms"] = (time.perf_counter() - start) * 1000
        self.timings["input_to_pixels_ms"] = (time.perf_counter() - timings["submitted"]) * 1000
        self.timings_changed.emit(self.timings)

    def _on_failure(self, request: Request, text: str) -> None:
        self._answered(request)
        if request.id != self._newest_id:
            return
        if request.id == self._remembered_id:
            # A preset must stay reachable: a remembered input that is refused (an emptied
            # sentence, say) gives way to the preset's sample instead of blocking the switch.
            self._remembered_id = -1
            given_up = self._inputs.pop(request.preset, None)
            self._notice = tr("the last input of {preset} was refused ({reason}): its sample "
                              "instead").format(preset=request.preset,
                                                reason=translate_message(text))
            self.message.emit(self._notice)
            self._set_input(default_input(request.preset))
            self._given_up = (self._newest_id, given_up)
            return
        self._notice = ""
        self.busy_changed.emit(False)
        self._answered_id = request.id
        self.error = text
        shown = self.shown
        # a dtype the device cannot compute in: back to the one of the result on screen
        refused = getattr(text, "template", None) == DTYPE_REFUSED
        self.dtype_refused = request.dtype if refused else ""
        if refused and self.dtype == request.dtype:
            self._keep_dtype(shown.dtype if shown is not None else "float32")
        if shown is not None and request.preset != shown.preset:
            # The new preset could not be loaded: go back to the one on screen, so that the
            # controls, the input and the next edit all belong to the model that is shown.
            self._inputs[self.preset] = self.input
            if self._given_up is not None and self._given_up[0] == request.id:
                # the sample was refused as well (a continuation too long for the model,
                # say): the user's input was not the problem, and it stays remembered
                self._inputs[request.preset] = self._given_up[1]
            self.preset, self.input = shown.preset, shown.input
            if shown.input_b is not None:  # B of the model on screen, too
                self._set_input_b(shown.input_b)
            self.interventions = dict(shown.interventions or {})
            # the refused model starts at 0 next time; the one on screen has its own count
            self._generates.pop(request.preset, None)
            self._generates.pop(shown.preset, None)
            if self.generate != shown.generate:
                self.generate = shown.generate
                self.generate_changed.emit(self.generate)
            self._chats.pop(request.preset, None)
            if self.chat != shown.chat:
                self.chat = shown.chat
                self.chat_changed.emit(self.chat)
            self.preset_changed.emit(self.preset)
            self.input_changed.emit(self.input)
            self.interventions_changed.emit(self.interventions)
        elif self._given_up is not None and self._given_up[0] == request.id and \
                self._given_up[1] is not None and request.preset == self.preset:
            # the same model: its sample was refused too (the count, not the input), so
            # the user's input comes back, without a run (it would be refused again)
            if self.input is not self._given_up[1]:
                self.input = self._given_up[1]
                self.input_changed.emit(self.input)
        self.message.emit(text)  # the previous trace stays on screen
        self.run_failed.emit(text)

    def restore_shown(self) -> None:
        """Back to the preset, input, interventions and continuation length of the result on
        screen, without a run (what a refused session leaves behind: nothing of it)."""
        shown = self.shown
        if shown is None:
            return
        if self.preset != shown.preset:
            self.preset = shown.preset
            self.preset_changed.emit(self.preset)
        if self.input is not shown.input:
            self.input = shown.input
            self.input_changed.emit(self.input)
        if shown.input_b is not None:
            self._set_input_b(shown.input_b)
        if self.interventions != (shown.interventions or {}):
            self.interventions = dict(shown.interventions or {})
            self.interventions_changed.emit(self.interventions)
        if self.generate != shown.generate:
            self.generate = shown.generate
            self.generate_changed.emit(self.generate)
        if self.chat != shown.chat:
            self.chat = shown.chat
            self.chat_changed.emit(self.chat)
        if self.dtype != shown.dtype:
            self._keep_dtype(shown.dtype)

    # -- selection -------------------------------------------------------------
    def set_selection(self, **changes: Any) -> None:
        new = dataclasses.replace(self.selection, **changes)
        if self.trace is not None:
            new = self._valid_selection(new, self.trace)
        if new != self.selection:
            self.selection = new
            self.selection_changed.emit(new)

    def hover(self, query: int | None = None, key: int | None = None, **more: Any) -> None:
        """Pointing at something: moves the selection unless it is locked."""
        if not self.selection.locked:
            self.set_selection(query=query, key=key, **more)

    def lock(self, query: int | None, key: int | None, **more: Any) -> None:
        self.set_selection(query=query, key=key, locked=True, **more)

    def unlock(self) -> None:
        self.set_selection(locked=False)

    def sites_of_kind(self, kind: str | None = None) -> list[str]:
        if self.trace is None:
            return []
        return self.trace.sites(kind)

    def site_info(self, site: str | None = None) -> dict:
        if self.trace is None:
            return {}
        return self.trace.meta["sites"].get(site or self.selection.site, {})

    def _valid_selection(self, sel: Selection, trace: Trace) -> Selection:
        sites = trace.meta.get("sites", {})
        site = sel.site if sel.site in sites else default_site(trace)
        info = sites.get(site, {})
        head = min(max(sel.head, 0), info.get("heads", 1) - 1)
        window = min(max(sel.window, 0), max(info.get("num_windows", 1) - 1, 0))
        rows, cols = matrix_shape(trace, site)
        query = sel.query if sel.query is not None and 0 <= sel.query < rows else None
        key = sel.key if sel.key is not None and 0 <= sel.key < cols else None
        # a locked cell the new input no longer has is released, not locked onto nothing
        gone = (sel.query is not None and query is None) or (sel.key is not None and key is None)
        return dataclasses.replace(sel, site=site, head=head, window=window, query=query,
                                   key=key, locked=sel.locked and not gone)


def follow_tokens(sel: Selection, old: Trace | None, new: Trace) -> Selection:
    """A locked cell moved to where its tokens are in the new input (a word typed before
    them), when the same site reads tokens in both; the k-th copy of a token goes to its
    k-th copy. Left where it was when a token is no longer there."""
    if not sel.locked or old is None or old.meta.get("preset") != new.meta.get("preset") or \
            sel.site not in new.meta.get("sites", {}) or token_layout(new.meta) != "text":
        return sel
    moved = {}
    for axis, index in (("query", sel.query), ("key", sel.key)):
        if index is None:
            continue
        before, after = (axis_labels(t, sel.site)[axis == "key"] for t in (old, new))
        if index >= len(before) or (index < len(after) and after[index] == before[index]):
            continue
        token = before[index]
        nth = before[:index].count(token)
        places = [i for i, t in enumerate(after) if t == token]
        if nth < len(places):
            moved[axis] = places[nth]
    return dataclasses.replace(sel, **moved) if moved else sel


@functools.cache
def preset_sites(preset: str) -> tuple[str, ...]:
    return tuple(site_names(preset))


def default_input(preset: str) -> Any:
    """A preset's sample input: text, or the path of a shipped image."""
    return shipped(get_preset(preset).default_input)


def same_input(a: Any, b: Any) -> bool:
    """Whether two inputs are the same: texts and paths by value, pictures (arrays) by
    shape and pixels (`==` on an array compares element by element)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and \
            a.shape == b.shape and np.array_equal(a, b)
    return a == b


def input_mismatch(preset: str, value: Any) -> str:
    """Why `value` cannot be an input of `preset` ('' when it can)."""
    text_model = get_preset(preset).input_kind == "text"
    if text_model and not isinstance(value, str):
        return f"{preset} takes text, not an image: choose an image preset first"
    if not text_model and not isinstance(value, (str, Path, np.ndarray)) \
            and not hasattr(value, "getpixel"):
        return f"{preset} takes an image (a file or a drawing)"
    return ""


def default_site(trace: Trace) -> str:
    """The site a first look should land on: cross-attention for seq2seq, the last block else."""
    sites = trace.sites()
    cross = trace.sites(CROSS)
    if cross:
        return cross[-1]
    if token_layout(trace.meta) == "windows":
        shifted = [s for s in sites if trace.meta["sites"][s].get("shift")]
        return shifted[0] if shifted else sites[0]
    return sites[-1] if sites else ""


def matrix_shape(trace: Trace, site: str) -> tuple[int, int]:
    """(rows, columns) of a site's matrices, from q and k: no N × N matrix is derived."""
    if f"{site}/q" not in trace.records:
        return 0, 0
    return trace[f"{site}/q"].shape[-2], trace[f"{site}/k"].shape[-2]
