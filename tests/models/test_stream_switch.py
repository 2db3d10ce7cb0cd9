"""A run with `residual=False` leaves the residual stream out of its trace and nothing else:
every other record is the same array as a run with it, and the prediction is the same."""
import numpy as np
import pytest

from models.session import load_preset
from models.trace import recording, stream, without_stream

DIGIT = "resources/samples/digits/digit_4.png"
INPUTS = {"translate": "the cat sees the dog", "vit-digits": DIGIT, "swin-digits": DIGIT,
          "induction": None}
STREAM_KEYS = ("/resid", "/write", "/o_weight", "/o_bias")


@pytest.mark.parametrize("preset", list(INPUTS))
def test_without_the_stream_only_the_stream_is_missing(preset):
    session = load_preset(preset)
    value = INPUTS[preset] if INPUTS[preset] is not None else session.preset.default_input
    full = session.run(value)
    live = session.run(value, residual=False)
    assert full.residual and not live.residual
    streamed = [k for k in full.records if k.endswith(STREAM_KEYS)]
    assert any(k.endswith("/resid") for k in streamed)
    assert any(k.endswith("/o_weight") for k in streamed)
    assert not [k for k in live.records if k.endswith(STREAM_KEYS)]
    # (a block's output that is a derived stream is derived too: `Trace.sums`)
    kept = [k for k in [*full.records, *full.sums] if not k.endswith(STREAM_KEYS)]
    assert sorted(live.records) == sorted(kept)
    for name, array in live.records.items():
        np.testing.assert_array_equal(array, full[name], err_msg=name)
    assert live.meta["prediction"] == full.meta["prediction"]
    # the switch is per run: the next default run records the stream again
    assert any(k.endswith("/resid") for k in session.run(value).records)


def test_the_switch_is_scoped_and_costs_nothing_outside_a_trace():
    import torch

    x = torch.ones(1, 3, 4)
    assert stream("p", x) is x  # no trace: returned as it is
    with without_stream():
        with recording() as off:
            stream("p", x)
    with recording() as on:
        stream("p", x)
    assert "p/resid" not in off.records and not off.residual
    np.testing.assert_array_equal(on.records["p/resid"], np.ones((3, 4), np.float32))
