"""Checkpoints: our own weights files, and the model folders of other libraries read onto our
models. One module per format family; what they share in `common`; which reader opens which
folder in `registry` (import the module you need: this package imports nothing itself).

    common      shared checks: bounded config values, a folder's JSON and weights, state
                dicts that fit (check_fit), HubModel, `rename` with its tables (Renames, Rule)
    ours        our safetensors files (the presets'), PyTorch state dicts read safely
    registry    FAMILIES (model_type -> Family: reader, task, title), register, read_model
    timm        timm ViT / DeiT / Swin folders and bare files
    vision      transformers ViT / DeiT / Swin
    marian      OPUS-MT translation (sentencepiece)
    text        what the language-model readers share (language_model)
    gpt2, llama, bert   the language-model families (llama: Llama, Mistral, Qwen2, Qwen3,
                Phi-3); gemma: Gemma 3 text
    tokenizer   a text model's tokenizer (Hugging Face tokenizers)
    images      a vision checkpoint's preprocessing and class names

Adding a family (tests/models/checkpoints/test_toy_family.py does it for a made-up
decoder-only model_type, "toy-decoder"):

1. A reader module: `read(folder, config) -> HubModel` that maps config.json onto one of our
   config dataclasses (e.g. models/decoder.py's DecoderConfig for a decoder-only language
   model) and the file's tensor names onto ours with a table,
   `rename(folder_weights(folder), Renames(rules=(Rule(pattern, our_name), ...)), name)`
   (a language model: `text.language_model(...)` does the renaming, the checks and the
   tokenizer). Refuse what our models cannot compute exactly with a CheckpointError.
2. One entry: `registry.register("my-type", Family(read, "causal-lm", "My model", PLAIN))`,
   or a line in `registry.FAMILIES`. The entry's task decides how the app runs it; the
   lists of supported families in messages come from the table.
"""
