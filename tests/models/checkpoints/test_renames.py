"""`rename`: a family's tensor names onto ours through a table of rules, each rule's work
(transpose, split, join, flatten, a layer number shifted) checked on small tensors."""
import pytest
import torch

from models.checkpoints.common import Renames, Rule, rename
from models.errors import CheckpointError


def test_each_kind_of_rule_does_what_it_declares():
    torch.manual_seed(0)
    fused = torch.randn(4, 6)  # stored [in, out]: q, k, v of width 2 after turning
    q, k, v = torch.randn(2, 3), torch.randn(2, 3), torch.randn(2, 3)
    bias = torch.randn(1, 5)
    table = Renames(strip=("net.",), aliases=((r"\.gamma$", ".weight"),), rules=(
        Rule(r"mask", None),
        Rule(r"h\.(\d+)\.fused\.weight", tuple(rf"layers.\1.{p}.weight" for p in "qkv"),
             transpose=True, split="width"),
        Rule(r"h\.(\d+)\.(?P<part>query|key|value)", r"layers.\1.qkv",
             join=("query", "key", "value")),
        Rule(r"stage\.(\d+)\.merge", r"stages.\1.down", add=((1, 1),)),
        Rule(r"logits_bias", "head.bias", flatten=True),
        Rule(r"norm\.weight", "norm.weight"),
        Rule(r"emb", ("embed", "head.weight")),
        Rule(r"own_head", "head.weight"),  # later than emb's copy: it wins
    ))
    tensors = {"net.mask": torch.ones(3), "net.h.0.fused.weight": fused, "h.1.query": q,
               "h.1.key": k, "h.1.value": v, "stage.0.merge": torch.zeros(2),
               "logits_bias": bias, "norm.gamma": torch.ones(4), "own_head": torch.eye(2),
               "emb": torch.full((2, 2), 3.0)}
    ours = rename(dict(tensors), table, "m", {"width": 2})
    assert set(ours) == {"layers.0.q.weight", "layers.0.k.weight", "layers.0.v.weight",
                         "layers.1.qkv", "stages.1.down", "head.bias", "norm.weight",
                         "embed", "head.weight"}
    turned = fused.t()
    for i, p in enumerate("qkv"):
        assert torch.equal(ours[f"layers.0.{p}.weight"], turned[2 * i: 2 * i + 2])
    assert torch.equal(ours["layers.1.qkv"], torch.cat([q, k, v]))
    assert torch.equal(ours["head.bias"], bias[0])
    assert torch.equal(ours["head.weight"], torch.eye(2))  # the later rule, whatever the order
    assert torch.equal(ours["embed"], torch.full((2, 2), 3.0))


def test_what_a_table_does_not_declare_is_refused_with_the_name():
    table = Renames(rules=(Rule(r"a", "b"),), unexpected=" (no such option here)")
    with pytest.raises(CheckpointError, match=r"^m: unexpected tensor 'c' \(no such option"):
        rename({"a": torch.ones(1), "c": torch.ones(1)}, table, "m")
    split = Renames(rules=(Rule(r"w", ("q", "k"), split="width"),))
    with pytest.raises(CheckpointError, match=r"^m: 'w' has shape \[5, 2\], not 4 wide"):
        rename({"w": torch.ones(5, 2)}, split, "m", {"width": 2})
    join = Renames(rules=(Rule(r"(?P<part>q|k|v)", "qkv", join=("q", "k", "v")),))
    with pytest.raises(CheckpointError, match="^m: 'q' lacks its key or value projection"):
        rename({"q": torch.ones(1), "v": torch.ones(1)}, join, "m")
