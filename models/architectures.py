"""The architectures by name: a preset's or an opened folder's `arch` -> its model class
and config class. The model classes import models.protocol; this table imports them, so
the protocol never imports a model (no circle)."""
from __future__ import annotations

from .decoder import Decoder, DecoderConfig
from .encoder import Encoder, EncoderConfig
from .protocol import ModelBase
from .swin import Swin, SwinConfig
from .transformer import Transformer, TransformerConfig
from .vit import ViT, ViTConfig

ARCHITECTURES: dict[str, tuple[type[ModelBase], type]] = {
    "transformer": (Transformer, TransformerConfig), "vit": (ViT, ViTConfig),
    "swin": (Swin, SwinConfig), "decoder": (Decoder, DecoderConfig),
    "encoder": (Encoder, EncoderConfig)}


def architecture(arch: str) -> tuple[type[ModelBase], type]:
    """The model class and config class of an architecture's name."""
    return ARCHITECTURES[arch]
