"""The model protocol: what every model class says about itself.

The Session, the loaders and the app ask a model these questions instead of branching on
its architecture or probing its attributes. Each model class (models/transformer.py, vit.py,
swin.py, decoder.py, encoder.py) derives from `ModelBase`, sets its class attributes and
answers the methods marked "each model":

    arch            its architecture's name ("transformer", "vit", "swin", "decoder", …)
    input_kind      what the user gives it: "text" or "image" (the input widget)
    form            which run turns an input into a trace (models/runs/: "seq2seq", "lm",
                    "image")
    decodes         it has an encoder read by a decoder, step by step: the seq2seq
                    bottleneck applies (`bottleneck` is the switch; False on every model)
    assign_weights  loaded weights become its parameters as they are (no random copy)

    describe_sites()        each model: {site: info} as in a trace's meta["sites"]; the
                            kind is a models/sites.py kind's key
    extra_meta()            each model: other meta fields of its structure (a patch grid…)
    residual_points()       each model: {stack: [points]}, the residual stream's points in
                            order: after the embeddings, then after each attention and MLP
                            sublayer (a point is named by the module, or the record site,
                            whose output the stream holds there)
    example_input()         each model: a smallest input of the right shape
    layer_counts(cfg)       each model (a classmethod): the layers a config asks for
    held_layers(tensors)    each model (a classmethod): the layers a state dict holds
    check_layers(cfg, tensors, source)  CheckpointError when they differ
    head_counts()           {site: number of heads}
    gated_sites()           {site: its attention module}, whose `head_gate` switches heads
                            off (`head_mean`: replaced by their mean over positions)
    mlp_points()            {point: its MLP module}, whose `switched_off` zeroes its write
    set_switches(**flags)   the interventions' switches (use_mask, use_bias, use_position)
    restore_buffers()       after an in-place load: the buffers no file holds
    output_head()           a language model ("lm" form): the module that turns hidden
                            states into token logits

A Session is built with what the model reads and writes with (tokenizer, labels,
preprocessing, limit note: models/session.py); the model itself answers only for its
structure.
"""
from __future__ import annotations

import re
from typing import Any, ClassVar

import torch
from torch import nn

from .errors import CheckpointError

INPUT_KINDS = ("text", "image")


def layers_present(tensors: dict[str, torch.Tensor], pattern: str) -> int:
    """How many distinct layer numbers (the pattern's group) the tensors' names hold."""
    return len({m.group(1) for k in tensors if (m := re.match(pattern, k))})


class ModelBase(nn.Module):
    """What every model of the app answers (see the module's docstring)."""

    arch: ClassVar[str] = ""
    input_kind: ClassVar[str] = "text"
    form: ClassVar[str] = ""
    decodes: ClassVar[bool] = False
    assign_weights: ClassVar[bool] = False
    bottleneck: bool = False  # the seq2seq bottleneck (an intervention); models that decode

    cfg: Any

    # -- each model ------------------------------------------------------------
    def describe_sites(self) -> dict[str, dict]:
        raise NotImplementedError

    def extra_meta(self) -> dict[str, Any]:
        return {}

    def residual_points(self) -> dict[str, list[str]]:
        raise NotImplementedError

    def example_input(self) -> tuple[torch.Tensor, ...]:
        raise NotImplementedError

    # the config's layer counts and the weight names that hold each layer: {field: pattern
    # whose group is the layer's number}; a model whose layers nest (Swin) overrides both
    LAYERS: ClassVar[dict[str, str]] = {}

    @classmethod
    def layer_counts(cls, cfg: Any) -> dict[str, Any]:
        return {field: getattr(cfg, field) for field in cls.LAYERS}

    @classmethod
    def held_layers(cls, tensors: dict[str, torch.Tensor]) -> dict[str, Any]:
        return {field: layers_present(tensors, pattern) for field, pattern in cls.LAYERS.items()}

    # -- shared ----------------------------------------------------------------
    @classmethod
    def check_layers(cls, cfg: Any, tensors: dict[str, torch.Tensor], source: str) -> None:
        """The layers a config asks for are the layers the weights hold, checked before any
        model is built: even on the meta device 100,000 of them took minutes and gigabytes."""
        held = cls.held_layers(tensors)
        for key, value in cls.layer_counts(cfg).items():
            if value != held[key]:
                names = sorted(tensors)
                raise CheckpointError(
                    "weights in {source} do not fit the model: its config asks for {key} "
                    "{value}, the weights hold {held} (they hold {names}{more})", source=source,
                    key=key, value=value, held=held[key], names=', '.join(names[:4]),
                    more=' …' if len(names) > 4 else '')

    def head_counts(self) -> dict[str, int]:
        return {site: info["heads"] for site, info in self.describe_sites().items()}

    def gated_sites(self) -> dict[str, nn.Module]:
        modules = dict(self.named_modules())
        return {site: modules[site] for site in self.describe_sites()}

    def mlp_points(self) -> dict[str, nn.Module]:
        """The residual points that are MLP sublayers (every point after a stack's first
        that is not an attention site), each with its module."""
        modules, sites = dict(self.named_modules()), self.describe_sites()
        return {point: modules[point] for points in self.residual_points().values()
                for point in points[1:] if point not in sites}

    def set_switches(self, **flags: bool) -> None:
        """Set each switch (e.g. use_mask=False) on every module that has it."""
        for module in self.modules():
            for flag, value in flags.items():
                if flag in vars(module):
                    setattr(module, flag, value)

    def restore_buffers(self) -> None:
        """After loading weights into a model built on the meta device (assign): the
        buffers no file holds, computed again (none by default)."""

