"""The model runs on its one worker thread only: while the Model view's head roles (an
induction probe: a forward of the model) and the Logit lens (the model's own norm and
output head over the stream) are computed, every forward of any of the model's modules and
every `Session.run` happens on the thread named "model-worker" (explorer/runner.py), never
on the analyst's or the GUI's."""
from __future__ import annotations

import threading

import torch

import explorer.panels.lens as lens_panel
import models.head_roles as head_roles
from models.session import Session

OTHER = "happy dog run park green tree big bird sing rain happy dog run park green tree"


def test_the_role_probe_and_the_lens_run_the_model_on_its_worker(make_explorer, monkeypatch):
    forwards: list[tuple[str, str]] = []  # (thread, module) of every module's forward
    runs, probes, lenses = [], [], []

    def named() -> str:
        return threading.current_thread().name

    def spy(calls, function):
        def spied(*args, **kwargs):
            calls.append(named())
            return function(*args, **kwargs)
        return spied

    monkeypatch.setattr(Session, "run", spy(runs, Session.run))
    monkeypatch.setattr(head_roles, "probe_run", spy(probes, head_roles.probe_run))
    compute = lens_panel.compute
    inside_lens = []  # the module forwards each lens computation made

    def lens(*args, **kwargs):
        lenses.append(named())
        start = len(forwards)
        try:
            return compute(*args, **kwargs)
        finally:
            inside_lens.append(len(forwards) - start)

    monkeypatch.setattr(lens_panel, "compute", lens)
    hook = torch.nn.modules.module.register_module_forward_pre_hook(
        lambda module, args: forwards.append((named(), type(module).__name__)))
    try:
        e = make_explorer("induction")
        e.show("model")
        e.wait()
        model = e.window.panels["model"]
        assert model.roles and any(r for heads in model.roles.values() for r, _ in heads)
        e.show("lens")
        e.wait()
        lens = e.window.panels["lens"]
        assert lens.result is not None and lens.result["trace"] == id(e.trace)
        before = len(probes), len(lenses)
        e.set_input(OTHER)  # a new trace: both again
        e.wait()
        e.show("model")
        e.wait()
    finally:
        hook.remove()
    assert len(probes) > before[0] and len(lenses) > before[1]
    assert set(probes) == set(lenses) == {"model-worker"}
    assert runs and set(runs) == {"model-worker"}
    assert forwards and {thread for thread, _ in forwards} == {"model-worker"}
    # the lens's read-out goes through the model's own modules (its norm, its output head):
    # forwards the hook saw, on the worker
    assert inside_lens and all(n > 0 for n in inside_lens)


def test_the_lens_goes_through_between_two_forwards_of_a_long_sweep(make_explorer,
                                                                    monkeypatch, qtbot):
    """A sweep holds the model's thread for a long time: the lens asked meanwhile (another
    position clicked) runs between two of its forwards, and the sweep goes on."""
    from explorer.panels import patching as tab

    seen = {"forwards": 0}
    started = threading.Event()

    def endless(session, clean, corrupt, kind, targets=None, progress=None):
        started.set()
        while True:  # stopped through its progress only
            progress(seen["forwards"], 10**6)
            seen["forwards"] += 1
            threading.Event().wait(0.005)

    monkeypatch.setattr(tab.patching, "sweep", endless)
    e = make_explorer("induction")
    e.set_compare(True, OTHER.replace("bird", "cat"))
    e.show("lens")
    e.wait()
    lens = e.window.panels["lens"]
    assert lens.result is not None
    patching_panel = e.window.panels["patching"]
    patching_panel.sweep_box.setCurrentIndex(patching_panel.sweep_box.findData("resid"))
    patching_panel.run()
    assert started.wait(60)
    column = lens.result["grid"]["positions"].index(lens.result["position"]) - 1
    lens._clicked(0, column)  # another position: the lens again, on the model's thread
    position = lens.position
    qtbot.waitUntil(lambda: lens.result is not None and lens.result["position"] == position,
                    timeout=60_000)
    assert patching_panel._job != 0  # the sweep still runs
    going = seen["forwards"]
    qtbot.waitUntil(lambda: seen["forwards"] > going, timeout=60_000)
    patching_panel.cancel()
    e.wait()
