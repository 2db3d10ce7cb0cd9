"""A Llama folder whose config rescales its rotary positions: the Positions panel shows
the frequencies before and after (as the formulas of the config say) and says how."""
import math

import numpy as np
import pytest

from tests.models.lm_folders import build

SCALINGS = {"linear": {"rope_type": "linear", "factor": 4.0},
            "llama3": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                       "high_freq_factor": 4.0, "original_max_position_embeddings": 64}}


@pytest.mark.parametrize("kind", sorted(SCALINGS))
def test_the_rope_panel_says_how_the_folder_scales(make_explorer, tmp_path, kind):
    scaling = SCALINGS[kind]
    build("llama", tmp_path / kind, rope_scaling=scaling, rope_theta=10000.0)
    e = make_explorer("translate")
    e.open_model(tmp_path / kind)
    e.set_input("The quick brown fox jumps over the lazy dog.")
    e.wait()
    e.show("positional")
    page = e.window.panels["positional"].sequence
    note = page.note.text()
    assert f"rope_scaling {kind}" in note and f"factor {scaling['factor']:g}" in note
    pairs = len(e.trace["rope/inv_freq"])
    base = 10000.0 ** (-2.0 * np.arange(pairs) / (2 * pairs))  # independent: θ^(-2i/dh)
    _, before = page.unscaled_curve.getData()
    np.testing.assert_allclose(before, np.log10(2 * math.pi / base), rtol=1e-5)
    _, after = page.wave_curve.getData()
    if kind == "linear":
        np.testing.assert_allclose(after, np.log10(2 * math.pi / (base / 4.0)), rtol=1e-5)
    else:  # longest turns divided by 8, shortest kept
        wavelength = 2 * math.pi / base
        long, short = wavelength > 64 / 1.0, wavelength < 64 / 4.0
        np.testing.assert_allclose(after[long], np.log10(wavelength[long] * 8), rtol=1e-5)
        np.testing.assert_allclose(after[short], np.log10(wavelength[short]), rtol=1e-5)
        assert long.any() and short.any()


def test_a_folder_without_scaling_shows_no_second_curve(make_explorer, tmp_path):
    build("llama", tmp_path / "plain")
    e = make_explorer("translate")
    e.open_model(tmp_path / "plain")
    e.show("positional")
    page = e.window.panels["positional"].sequence
    assert len(page.unscaled_curve.getData()[0] or []) == 0
    assert "rope_scaling" not in page.note.text()
