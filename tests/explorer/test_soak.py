"""The soak test of issue 12: random actions across every preset, and proof that its checks
would catch the defects it is there for."""
import pytest

from explorer.soak import run_soak
from explorer.state import AppState


def test_a_short_soak_finds_no_exception_and_no_stale_frame(qapp):
    report = run_soak(actions=300, seed=0)
    assert report["exceptions"] == []
    assert report["stale"] == []
    assert report["qt_warnings"] == []
    assert report["runs_painted"] > 30 and report["checks"] > 30  # it really ran the models


@pytest.mark.parametrize("seed", [2])
def test_the_soak_catches_a_preset_switch_that_is_ignored(qapp, monkeypatch, seed):
    """The defect fuzzing found: switching away and straight back left the old preset."""
    real = AppState.set_preset

    def buggy(self, name, value=None):
        if self.trace is not None and self.trace.meta["preset"] == name:
            return
        real(self, name, value)

    monkeypatch.setattr(AppState, "set_preset", buggy)
    report = run_soak(actions=300, seed=seed)
    assert any("preset box shows" in line for line in report["stale"])
