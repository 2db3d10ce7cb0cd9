"""The Prediction panel's pages (issue 27): every prediction form a task has gets its page
from the PAGES table, on real traces of every preset and of opened GPT-2, BERT and ViT
folders; the interventions box enables the switches each architecture has something to
switch off for."""
import pytest

from explorer.panels.prediction import PAGES
from explorer.panels.prediction_pages import ImagePage, LanguagePage, SentencePage
from models.catalog import CATALOG
from models.opening import open_model
from models.tasks.task import TASKS

# each preset: its prediction form, its page, and the switches its architecture gives
# something to switch off for (a mask: a decoder's or a causal model's, Swin's shifted
# windows; a relative bias: Swin; a bottleneck: a decoder reading an encoder)
PRESET_PAGES = {
    "translate": ("sentence", SentencePage, {"no_mask", "no_position", "bottleneck"}),
    "reverse": ("characters", SentencePage, {"no_mask", "no_position", "bottleneck"}),
    "vit-digits": ("digit", ImagePage, {"no_position"}),
    "swin-digits": ("digit", ImagePage, {"no_mask", "no_bias", "no_position"}),
    "induction": ("next-token", LanguagePage, {"no_mask", "no_position"}),
}
FOLDER_PAGES = {
    "gpt2": ("next-token", LanguagePage, {"no_mask", "no_position"}),
    "bert": ("masked-token", LanguagePage, {"no_position"}),
    "vit": ("class", ImagePage, {"no_position"}),
}


def test_every_prediction_form_has_a_page():
    assert {task.prediction for task in TASKS.values()} == set(PAGES)
    assert set(PAGES.values()) == {SentencePage, ImagePage, LanguagePage}


def assert_page(e, form, page_class, switches):
    """The trace's form, the page the panel shows for it, drawn; the switches enabled."""
    meta = e.trace.meta
    assert meta["prediction_form"] == form
    assert PAGES[form] is page_class
    panel = e.window.panels["prediction"]
    e.show("prediction")
    assert isinstance(panel.page, page_class)
    assert panel.stack.currentWidget() is panel.page.widget
    assert sum(isinstance(page, page_class) for page in panel.pages.values()) == 1
    enabled = {key for key, check in panel.flags.items() if check.isEnabled()}
    assert enabled == switches
    # what the page drew is this trace's
    if page_class is SentencePage:
        assert panel.steps.rowCount() == len(meta["output_tokens"])
        assert panel.headline.text() == meta["prediction"]
    elif page_class is LanguagePage:
        assert panel.positions.rowCount() == len(meta["tokens"])
        assert panel.continue_row.isHidden() == (form == "masked-token")
    else:
        assert panel.headline.text().endswith(f"{meta['prediction']}  "
                                              f"({meta['confidence']:.1%})")


def test_each_preset_gets_its_page(make_explorer):
    e = make_explorer("translate")
    for preset, (form, page_class, switches) in PRESET_PAGES.items():
        e.set_preset(preset)
        e.wait()
        assert e.preset == preset
        assert_page(e, form, page_class, switches)


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """A GPT-2, a BERT and a ViT folder built by transformers, opened as presets (taken out
    of the catalog afterwards)."""
    pytest.importorskip("transformers")
    from tests.models.checkpoints.test_hub import build as build_vit
    from tests.models.checkpoints.test_hub import save
    from tests.models.lm_folders import build

    root = tmp_path_factory.mktemp("pages")
    for family in ("gpt2", "bert"):
        build(family, root / family)
    save(build_vit("vit"), root / "vit")
    names = {family: open_model(root / family).name for family in FOLDER_PAGES}
    yield names
    for name in names.values():
        CATALOG.remove(name)


@pytest.mark.parametrize("family", list(FOLDER_PAGES))
def test_an_opened_model_gets_its_page(make_explorer, folders, family):
    e = make_explorer(folders[family])
    assert_page(e, *FOLDER_PAGES[family])


def test_a_switch_that_is_on_stays_enabled_where_it_does_not_apply(make_explorer):
    """ViT has no relative bias: its switch is disabled until it is on (then it stays
    enabled, so it can be switched off)."""
    e = make_explorer("vit-digits")
    flags = e.window.panels["prediction"].flags
    assert not flags["no_bias"].isEnabled()
    e.set_interventions(no_bias=True)
    e.wait()
    assert flags["no_bias"].isChecked() and flags["no_bias"].isEnabled()
    assert not flags["bottleneck"].isEnabled()


def test_the_step_slider_moves_to_the_site_that_reads_the_encoder(make_explorer):
    """From an encoder site (no decoding steps) the slider goes to the last cross-attention
    site, the decoder's step locked."""
    e = make_explorer("translate")
    e.select(site="encoder.layers.0.self_attn")
    e.window.panels["prediction"].step_slider.setValue(2)
    assert e.selection.site == "decoder.layers.1.cross_attn"
    assert (e.selection.query, e.selection.locked) == (2, True)
