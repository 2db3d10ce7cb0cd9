"""The Positions panel's RoPE view against the model's own recorded scores."""
import numpy as np
import torch

from explorer.panels.positional import rope_scores
from models.decoder import Decoder, DecoderConfig
from models.trace import recording

LLAMA = dict(vocab_size=50, d_model=32, num_layers=2, num_heads=4, num_kv_heads=2, d_ff=48,
             max_len=64, position="rope", norm="rmsnorm", mlp="swiglu", qkv_bias=False,
             out_bias=False, mlp_bias=False, tie_embeddings=False)


def test_the_positions_panel_distance_curve_meets_the_recorded_scores():
    """The RoPE view moves one (unrotated) query·key pair to every offset; at the pair's real
    offset that must be the score the model computed."""
    torch.manual_seed(0)
    m = Decoder(DecoderConfig(**LLAMA)).eval()
    with torch.no_grad(), recording() as trace:
        m(torch.randint(0, 50, (1, 12)))
    site, inv_freq = "layers.1.attn", trace["rope/inv_freq"]
    q, k = trace[f"{site}/q_unrotated"], trace[f"{site}/k_unrotated"]
    for head, i, j in ((0, 11, 0), (1, 5, 5), (3, 9, 4)):
        curve = rope_scores(q[head, i], k[head // 2, j], inv_freq, np.arange(12))
        assert abs(curve[i - j] - trace[f"{site}/scores"][head, i, j]) < 1e-4
