"""The soak test of issue 12: random actions across every preset, and proof that its checks
would catch the defects it is there for."""
import pytest

from explorer.qapp import top_level_widgets
from explorer.soak import run_soak
from explorer.state import AppState
from models.catalog import CATALOG
from models.presets import PRESETS


@pytest.mark.parametrize("seed, actions", [(0, 300), (11, 200)])
def test_a_short_soak_finds_no_exception_and_no_stale_frame(qapp, seed, actions):
    """Seed 11 switches the interface to Chinese early (a tour) and then has inputs refused:
    a refusal is reported in the interface's language, which the check reads. The soak
    deletes every window, menu and dialog it made (a test suite runs it in its process)."""
    before = top_level_widgets()
    report = run_soak(actions=actions, seed=seed)
    assert top_level_widgets() - before == set()
    assert report["exceptions"] == []
    assert report["stale"] == []
    assert report["qt_warnings"] == []
    assert report["runs_painted"] > 30 and report["checks"] > 30  # it really ran the models
    assert "soak-vit" not in CATALOG  # its opened model is gone with it


@pytest.mark.parametrize("seed", [3])
def test_the_soak_catches_a_preset_switch_that_is_ignored(qapp, monkeypatch, seed):
    """The defect fuzzing found: switching away and straight back left the old preset.
    (A seed whose 300 actions make that switch: a new action changes every seed's order.)"""
    real = AppState.set_preset

    def buggy(self, name, value=None):
        if self.trace is not None and self.trace.meta["preset"] == name:
            return
        real(self, name, value)

    monkeypatch.setattr(AppState, "set_preset", buggy)
    report = run_soak(actions=300, seed=seed)
    assert any("preset box shows" in line for line in report["stale"])


def test_the_soak_catches_a_preset_locked_out_and_a_folder_that_overrides_a_choice(
        make_explorer, monkeypatch, tmp_path):
    """Issue 22's actions, each with its defect planted back: a remembered refused input
    replayed on every switch, and a folder read after a later choice switching anyway."""
    import random

    from explorer import soak

    monkeypatch.setitem(soak.SCRATCH, "dir", str(tmp_path))
    monkeypatch.setitem(soak.SCRATCH, "folder", soak.write_model_folder(tmp_path / "soak-vit"))
    e = make_explorer("translate")
    rng = random.Random(0)
    for action in (soak.act_refuse_and_return, soak.act_open_and_choose,
                   soak.act_save_after_refusal):
        action(e, rng)  # fixed: nothing raised
    e.set_preset("translate")
    e.wait()
    real = AppState.set_preset

    def replaying(self, name, value=None):
        real(self, name, value)
        self._remembered_id = -1  # the remembered input is replayed, refused or not

    monkeypatch.setattr(AppState, "set_preset", replaying)
    with pytest.raises(soak.Unreachable, match="could not be chosen again"):
        soak.act_refuse_and_return(e, rng)
    monkeypatch.setattr(type(e.window), "select_preset",
                        lambda self, name, value=None: self.state.set_preset(name, value))
    with pytest.raises(soak.Unreachable, match="was chosen after a model folder"):
        soak.act_open_and_choose(e, random.Random(3))
    soak.forget_opened(str(tmp_path))
    assert not any(p.source for _, p in CATALOG.items() if p.source and
                   p.source.startswith(str(tmp_path)))


def test_a_short_soak_on_1024_token_inputs_of_a_small_gpt2_folder(qapp, tmp_path):
    """Issue 18: the soak on a small random GPT-2 folder, its typed inputs mostly 1,024
    tokens long (the long-input paths: matrices on the analyst thread, pooled views)."""
    from tests.models.lm_folders import build

    build("gpt2", tmp_path / "gpt2-long", n_positions=1024)
    report = run_soak(actions=40, seed=1, weights=str(tmp_path / "gpt2-long"), tokens=1024)
    assert report["exceptions"] == []
    assert report["stale"] == []
    assert report["qt_warnings"] == []
    assert report["long_runs_painted"] >= 3  # it really ran 1,024-token inputs
    assert "gpt2-long" not in PRESETS  # the opened folder is gone with it


def test_the_soaks_new_actions_pass_and_catch_what_they_are_for(make_explorer, monkeypatch,
                                                               tmp_path):
    """The actions that found the defects of a later fuzz — a language switch with the tour
    open, a continuation count set before switching to a language model, folders opened
    and left again and again — pass on today's code, and catch each defect planted back."""
    import random

    from explorer import soak
    from explorer.lecture import Lecture

    monkeypatch.setitem(soak.SCRATCH, "dir", str(tmp_path))
    monkeypatch.setitem(soak.SCRATCH, "folder", soak.write_model_folder(tmp_path / "soak-vit"))
    monkeypatch.setitem(soak.SCRATCH, "folders", soak.scratch_folders(tmp_path))
    assert len(soak.SCRATCH["folders"]) == 6  # ViT, GPT-2 and BERT, two of each
    e = make_explorer("translate")
    try:
        rng = random.Random(0)
        for action in (soak.act_language_in_tour, soak.act_count_then_language_model,
                       soak.act_open_and_leave, soak.act_open_and_leave):
            action(e, rng)  # fixed: nothing raised
        # planted back: a language switch that applies the tour's step again
        real = Lecture.switch_tour_language

        def reapplying(self, lang):
            real(self, lang)
            if self.tour_player is not None:
                self.tour_player.go(self.tour_player.index)

        monkeypatch.setattr(Lecture, "switch_tour_language", reapplying)
        with pytest.raises(soak.Unreachable, match="switching the language"):
            for seed in range(6):  # (a step may show the very preset and input chosen)
                soak.act_language_in_tour(e, random.Random(seed))
        monkeypatch.setattr(Lecture, "switch_tour_language", real)
        e.window.leave_tour()
        # (a refused switch that gave up the remembered input cannot happen any more: each
        # model keeps its own continuation count, so a count set elsewhere never refuses
        # the switch; tests/explorer/test_state.py keeps the remembered input's own test)
    finally:
        e.window.language_actions["en"].trigger()
        soak.forget_opened(str(tmp_path))
