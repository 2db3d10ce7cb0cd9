"""The interventions box switches a head off by its mean and an MLP off; the lens and the
attribution read the edited run (their numbers are those of models/lens.py on it)."""
import numpy as np

from explorer.panels.interventions import mlp_of
from models.lens import attribution


def test_mlp_of_a_site_is_the_mlp_of_its_layer():
    mlps = ["encoder.layers.0.ff", "decoder.layers.0.ff", "decoder.layers.1.ff"]
    assert mlp_of("decoder.layers.0.cross_attn", mlps) == "decoder.layers.0.ff"
    assert mlp_of("encoder.layers.0.self_attn", mlps) == "encoder.layers.0.ff"
    assert mlp_of("layers.0.attn", mlps) is None
    assert mlp_of(None, mlps) is None


def test_mean_head_and_mlp_off_through_the_box_and_the_lens_follows(make_explorer):
    e = make_explorer("translate")
    e.show("lens")
    e.wait()
    panel, lens = e.window.panels["prediction"], e.window.panels["lens"]
    before = lens.result["dla"]["value"]
    e.select(site="decoder.layers.1.self_attn", head=2)
    panel.ablation.setCurrentIndex(1)
    panel.head_button.click()
    e.wait()
    panel.mlp_button.click()
    e.wait()
    assert e.state.interventions == {"heads_mean": [["decoder.layers.1.self_attn", 2]],
                                     "mlps_off": ["decoder.layers.1.ff"]}
    assert e.trace.meta["interventions"] == e.state.interventions
    assert "at its mean" in panel.active.text() and "ff off" in panel.active.text()
    out = e.trace["decoder.layers.1.self_attn/out"][2]
    np.testing.assert_allclose(out, np.broadcast_to(out.mean(0), out.shape), atol=1e-6)
    assert lens.result["dla"]["value"] != before  # the lens re-read the edited run
    session = e.window.state.runner.session
    dla = attribution(session.model, e.trace, lens.result["position"],
                      lens.result["dla"]["target"])
    assert lens.result["dla"]["value"] == dla["value"]
    mlp = [p for p in lens.result["dla"]["parts"] if p["site"] == "decoder.layers.1.ff"]
    assert mlp and mlp[0]["value"] == 0.0
    e.window.grab().save("/tmp/lensx-box.png")
    # the same button switches the head back on, whatever the mode
    panel.ablation.setCurrentIndex(0)
    panel.head_button.click()
    e.wait()
    assert e.state.interventions == {"mlps_off": ["decoder.layers.1.ff"]}


def test_the_mlp_button_says_when_a_layer_has_none(make_explorer):
    e = make_explorer("induction")
    e.wait()
    assert not e.window.panels["prediction"].mlp_button.isEnabled()
