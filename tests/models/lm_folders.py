"""Small random language-model folders, built and saved by `transformers` itself, each with
a tokenizer trained here by `tokenizers` (shared by the model and GUI tests)."""
from __future__ import annotations

from pathlib import Path

import torch

CORPUS = ["The quick brown fox jumps over the lazy dog.",
          "Once upon a time there was a little girl who lived in a village.",
          "The capital of France is Paris, and the capital of Germany is Berlin.",
          "She picked up the book and started to read.",
          "I drink coffee every morning; my brother drinks tea.",
          "def fibonacci(n):\n    return n if n < 2 else fibonacci(n - 1) + fibonacci(n - 2)",
          "The man went to the store to buy a gallon of milk.",
          "Ça coûte 5 € — naïve café, 東京."] * 10
FAMILIES = ("gpt2", "llama", "qwen2", "bert")


def byte_level_tokenizer(special: list[str]):
    """GPT-2 / Qwen2 style: byte-level BPE (no unknown token: every byte has one)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(CORPUS, trainers.BpeTrainer(
        vocab_size=300, special_tokens=special,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))
    return tok


def sentencepiece_tokenizer():
    """Llama 2 style: BPE over '▁'-joined text with byte fallback (<0x0A> for a newline),
    <s> put before the text by the post-processor."""
    from tokenizers import Tokenizer, decoders, models, normalizers, processors, trainers

    trained = Tokenizer(models.BPE(unk_token="<unk>"))
    trained.normalizer = normalizers.Sequence([normalizers.Prepend("▁"),
                                               normalizers.Replace(" ", "▁")])
    trained.train_from_iterator(CORPUS, trainers.BpeTrainer(
        vocab_size=260, special_tokens=["<unk>", "<s>", "</s>"], show_progress=False))
    vocab = trained.get_vocab()
    for b in range(256):  # the byte tokens a sentencepiece model with byte_fallback has
        vocab.setdefault(f"<0x{b:02X}>", len(vocab))
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m)
              for m in __import__("json").loads(trained.to_str())["model"]["merges"]]
    tok = Tokenizer(models.BPE(vocab, merges, unk_token="<unk>", byte_fallback=True,
                               fuse_unk=True))
    tok.normalizer = trained.normalizer
    tok.add_special_tokens(["<unk>", "<s>", "</s>"])
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", vocab["<s>"])])
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(),
                                     decoders.Fuse(), decoders.Strip(" ", 1, 0)])
    return tok


def wordpiece_tokenizer():
    """BERT: lower-cased WordPiece with [CLS] … [SEP]."""
    from tokenizers import processors
    from tokenizers.implementations import BertWordPieceTokenizer

    tok = BertWordPieceTokenizer(lowercase=True)
    tok.train_from_iterator(CORPUS, vocab_size=200, show_progress=False)
    tok.post_processor = processors.BertProcessing(("[SEP]", tok.token_to_id("[SEP]")),
                                                   ("[CLS]", tok.token_to_id("[CLS]")))
    return tok


def build(family: str, folder: Path, tokenizer_files: str = "tokenizer.json", **options):
    """A random `family` model saved with its tokenizer into `folder`; `options` go to the
    library's config. Returns the library's model (eval mode)."""
    import transformers
    from transformers import PreTrainedTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    if family in ("gpt2", "qwen2"):
        tok = byte_level_tokenizer(["<|endoftext|>"])
        specials = dict(bos_token="<|endoftext|>", eos_token="<|endoftext|>")
    elif family in ("llama", "mistral"):
        tok = sentencepiece_tokenizer()
        specials = dict(bos_token="<s>", eos_token="</s>", unk_token="<unk>")
    else:
        wordpiece = wordpiece_tokenizer()
        if tokenizer_files == "vocab.txt":
            wordpiece.save_model(str(folder))
        tok = wordpiece._tokenizer
        specials = dict(cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]",
                        pad_token="[PAD]", unk_token="[UNK]")
    vocab = tok.get_vocab_size()
    if tokenizer_files == "tokenizer.json":
        PreTrainedTokenizerFast(tokenizer_object=tok, **specials).save_pretrained(folder)
    elif tokenizer_files == "vocab.json":  # GPT-2's two files, no tokenizer.json
        tok.model.save(str(folder))
    eos = tok.token_to_id(specials.get("eos_token", "[SEP]"))
    torch.manual_seed({"gpt2": 1, "llama": 2, "qwen2": 3, "bert": 4, "mistral": 5}[family])
    llama_like = dict(vocab_size=vocab, hidden_size=32, intermediate_size=48,
                      num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                      max_position_embeddings=64, eos_token_id=eos)
    if family == "gpt2":
        config = transformers.GPT2Config(**{
            **dict(vocab_size=vocab, n_embd=32, n_layer=2, n_head=4, n_positions=64,
                   bos_token_id=eos, eos_token_id=eos), **options})
        model = transformers.GPT2LMHeadModel(config)
    elif family in ("llama", "mistral"):
        kind = transformers.LlamaConfig if family == "llama" else transformers.MistralConfig
        config = kind(**{**llama_like, "bos_token_id": tok.token_to_id("<s>"), **options})
        model = (transformers.LlamaForCausalLM if family == "llama" else
                 transformers.MistralForCausalLM)(config)
    elif family == "qwen2":  # (GQA, q/k/v biases, the output tied to the embedding)
        config = transformers.Qwen2Config(**{**llama_like, "tie_word_embeddings": True,
                                             "bos_token_id": eos, **options})
        model = transformers.Qwen2ForCausalLM(config)
    else:
        config = transformers.BertConfig(**{
            **dict(vocab_size=vocab, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                   intermediate_size=64, max_position_embeddings=64), **options})
        model = transformers.BertForMaskedLM(config)
    with torch.no_grad():  # biases away from zero: a bias not loaded would show
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                p.normal_(0, 0.1)
    model.eval().save_pretrained(folder)
    return model


NEW_FAMILIES = ("qwen3", "phi3", "gemma3_text")


def build_new(family: str, folder: Path, **options):
    """A random Qwen3, Phi-3 or Gemma 3 (text) model saved with a tokenizer into `folder`
    by transformers; `options` go to its config. Returns the library's model (eval mode)."""
    import transformers
    from transformers import PreTrainedTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    if family == "qwen3":
        tok = byte_level_tokenizer(["<|endoftext|>"])
        specials = dict(bos_token="<|endoftext|>", eos_token="<|endoftext|>")
        end = "<|endoftext|>"
    else:  # Phi-3 and Gemma: sentencepiece-style, <s> before the text
        tok = sentencepiece_tokenizer()
        specials = dict(bos_token="<s>", eos_token="</s>", unk_token="<unk>")
        end = "</s>"
    PreTrainedTokenizerFast(tokenizer_object=tok, **specials).save_pretrained(folder)
    vocab, eos = tok.get_vocab_size(), tok.token_to_id(end)
    bos = tok.token_to_id(specials["bos_token"])
    torch.manual_seed({"qwen3": 6, "phi3": 7, "gemma3_text": 8}[family])
    common = dict(vocab_size=vocab, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
                  eos_token_id=eos, bos_token_id=bos, pad_token_id=None)
    if family == "qwen3":
        config = transformers.Qwen3Config(**{**common, "head_dim": 16,
                                             "tie_word_embeddings": True, **options})
        model = transformers.Qwen3ForCausalLM(config)
    elif family == "phi3":
        config = transformers.Phi3Config(**{**common, **options})
        model = transformers.Phi3ForCausalLM(config)
    else:
        config = transformers.Gemma3TextConfig(**{
            **common, "num_hidden_layers": 3, "head_dim": 8, "query_pre_attn_scalar": 12,
            "sliding_window": 5, "layer_types": ["sliding_attention", "full_attention",
                                                 "sliding_attention"],
            "final_logit_softcapping": 3.0, **options})
        model = transformers.Gemma3ForCausalLM(config)
    with torch.no_grad():  # norms away from their start: a norm not loaded would show
        for name, p in model.named_parameters():
            if name.endswith("bias") or "norm" in name:
                p.add_(torch.randn_like(p) * 0.1)
    model.eval().save_pretrained(folder)
    return model
