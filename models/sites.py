"""The kinds of attention site, as data: the one place that knows what each kind means.

A trace names a site's kind in `meta["sites"][site]["kind"]` (a short string, kept as it was
so older trace files still read). Everything that depends on the kind — its name on screen,
where its query and key tokens come from, how its tokens are laid out, which interventions
apply to it — is a field of its `SiteKind` here. Code elsewhere reads those fields
(`kind_of(meta, site).masked`), never compares a kind's string; a test keeps it that way.
A new kind of attention (a sliding window, say) is one more entry in `KINDS`.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SiteKind:
    key: str  # as written in traces: meta["sites"][site]["kind"]
    title: str  # what the site is, in titles ("cross-attention")
    menu_name: str  # in the tool bar's list of kinds
    # where the query rows' and key columns' labels come from: a meta field naming tokens,
    # or None where they are computed (Swin: a window's "y,x" cells)
    query_tokens: str | None
    key_tokens: str | None
    layout: str  # how its tokens lie: "text" (sequences), "patches" (a grid after prefix
    # tokens such as CLS) or "windows" (a grid attended in shifted windows)
    distance: str | None  # unit of attention distance: "tokens", "pixels"; None: queries and
    # keys are different sequences (no distance between them)
    masked: bool = False  # a mask hides keys (the causal mask, Swin's shifted regions):
    # the "no mask" intervention applies
    has_bias: bool = False  # a learned relative position bias: "no bias" applies
    reads_encoder: bool = False  # the decoder reading the encoder: "bottleneck" applies
    decoding_steps: bool = False  # rows are a decoder's steps (one per output token)
    sequence: bool = False  # one token sequence attending to itself, tokens in
    # meta["tokens"]: a decoder-only or encoder-only language model
    rollout: bool = False  # attention rollout runs over the sites of this kind (ViT)
    embedding: str = "encoder.embed"  # the seq2seq embedding its tokens were encoded by
    shifted_title: str = ""  # a windowed kind: its title when the windows are shifted

    @property
    def windowed(self) -> bool:
        """Its records carry a window axis: (nW, H, N, N) weights, one matrix per window."""
        return self.layout == "windows"

    @property
    def titles(self) -> tuple[str, ...]:
        """Every English word of it shown on screen (each has a Chinese translation)."""
        return tuple(t for t in (self.title, self.menu_name, self.shifted_title) if t)


ENCODER_SELF = SiteKind("encoder_self", "encoder self-attention", "encoder self",
                        "source_tokens", "source_tokens", "text", "tokens")
DECODER_SELF = SiteKind("decoder_self", "decoder masked self-attention",
                        "decoder self (masked)", "target_tokens", "target_tokens", "text",
                        "tokens", masked=True, decoding_steps=True, embedding="decoder.embed")
CROSS = SiteKind("cross", "cross-attention", "cross (decoder → encoder)", "output_tokens",
                 "source_tokens", "text", None, reads_encoder=True, decoding_steps=True,
                 embedding="decoder.embed")
PATCH_SELF = SiteKind("self", "self-attention", "self", "tokens", "tokens", "patches",
                      "pixels", rollout=True)
WINDOW = SiteKind("window", "W-MSA (windows)", "window (W/SW-MSA)", None, None, "windows",
                  "pixels", masked=True, has_bias=True,
                  shifted_title="SW-MSA (shifted windows)")
CAUSAL = SiteKind("causal", "masked (causal) self-attention", "self (causal)", "tokens",
                  "tokens", "text", "tokens", masked=True, sequence=True)
BIDIRECTIONAL = SiteKind("bidirectional", "bidirectional self-attention",
                         "self (bidirectional)", "tokens", "tokens", "text", "tokens",
                         sequence=True)

# causal, and within a band: query i sees keys i-w+1..i (Gemma 3's local layers, Mistral's
# and Qwen2's `sliding_window`); the width is the site's meta["sites"][site]["window"]
SLIDING = SiteKind("sliding", "sliding-window causal self-attention",
                   "self (sliding window)", "tokens", "tokens", "text", "tokens", masked=True,
                   sequence=True)

KINDS: dict[str, SiteKind] = {k.key: k for k in (
    ENCODER_SELF, DECODER_SELF, CROSS, PATCH_SELF, WINDOW, CAUSAL, BIDIRECTIONAL, SLIDING)}


def kind(key: str) -> SiteKind:
    """The kind a trace names (`meta["sites"][site]["kind"]`)."""
    return KINDS[key]


def kind_of(meta: dict, site: str) -> SiteKind:
    """The kind of `site` in a trace's meta."""
    return KINDS[meta["sites"][site]["kind"]]


def kinds_listed(meta: dict) -> list[SiteKind]:
    """The kinds of a trace's sites, each once, in the order of its first site."""
    return list(dict.fromkeys(KINDS[info["kind"]] for info in meta.get("sites", {}).values()))


def kinds_in(meta: dict) -> set[SiteKind]:
    """Every kind of site a trace has."""
    return {KINDS[info["kind"]] for info in meta.get("sites", {}).values()}


def site_title(meta: dict, site: str) -> str:
    """What a site is, in English (translated where shown): a shifted window's own title."""
    info = meta["sites"][site]
    found = KINDS[info["kind"]]
    return found.shifted_title if info.get("shift") and found.shifted_title else found.title


def token_layout(meta: dict) -> str:
    """How a trace's tokens are laid out, from its own sites: "text" when any site reads
    token sequences, else "windows" or "patches". Panels ask this, not the architecture."""
    layouts = {k.layout for k in kinds_in(meta)}
    for layout in ("text", "windows"):
        if layout in layouts:
            return layout
    return "patches"
