"""Transformer Explorer: `python main.py` opens the app; subcommands work without a window.

    python main.py [--preset NAME] [--device cpu|cuda|mps|auto]   the desktop app
    python main.py presets                                        list presets
    python main.py trace --preset NAME --input X -o FILE.npz      save a run's trace
    python main.py eval --preset NAME                             held-out figures
    python main.py shot --preset NAME --input X [--panel P] -o FILE.png   a screenshot
    python main.py panels                                         panel names for `shot`
    python main.py bench [--json]                                 latency figures
    python main.py soak --actions N --seed S                      random UI actions, checked
    python main.py export --preset NAME --panel P -o out.svg      a panel as SVG or PNG
    python main.py tour --lang zh                                 the tour's outline
    python main.py lens --preset NAME --input X [--target T] --json   logit lens, attribution
    python main.py heads --preset NAME --json                     each head's role scores
    python main.py patch --preset NAME --clean X --corrupt Y --sweep S --json   patching
    python main.py patch ... --sweep path --receiver SITE:HEAD --part k [--sender SITE:HEAD]
    python main.py corpus --preset NAME --inputs FILE --out DIR   attention over a corpus
    python main.py --tour [--lang en|zh] [--step N]               the app, on the tour
    python main.py --session demo.json                            the app, on a saved demo

--untrained (the app, trace, eval, shot, export): the presets with random weights instead of
their trained ones, to show what training changes; a missing weights file is an error.
"""
from __future__ import annotations

import argparse
import sys

from . import commands
from .commands import INTERVENTIONS, printable


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (and exit code 2), like ours."""

    def error(self, message: str) -> None:
        self.exit(2, f"error: {printable(message)} (see {self.prog} --help)\n")


def whole_number(minimum: int):
    """An argparse type: a whole number of at least `minimum`."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, not {value}")
        return value
    return parse


count = whole_number(1)  # how many: edits, actions, examples
index = whole_number(0)  # which: layer, head, row, window, step, seed


def token_counts(text: str) -> list[int]:
    """--tokens 128,512,1024: input lengths, each a whole number from 1."""
    return [count(part.strip()) for part in text.split(",") if part.strip()] or [count(text)]


def generate_count(text: str) -> int:
    """--generate K: 0 to MAX_GENERATE tokens."""
    from models.runs.lm import MAX_GENERATE

    value = whole_number(0)(text)
    if value > MAX_GENERATE:
        raise argparse.ArgumentTypeError(f"at most {MAX_GENERATE}, not {value}")
    return value


GENERATE_HELP = ("a causal language model (GPT-2, Llama, Qwen2, Mistral folder): add K tokens "
                 "by greedy decoding after the input (default 0)")


WEIGHTS_HELP = ("weights for this preset: .safetensors, or .pth/.pt/.bin/.ckpt (read safely); "
                "or a model folder (Hugging Face ViT, DeiT, Swin, Marian, GPT-2, Llama, "
                "Mistral, Qwen2, BERT; timm ViT, DeiT, Swin) in place of a preset")
FOLDER_HELP = ("a model folder (Hugging Face ViT, DeiT, Swin, Marian, GPT-2, Llama, Mistral, "
               "Qwen2, BERT; timm ViT, DeiT, Swin) or a timm weights file, in place of "
               "--preset")


UNTRAINED_HELP = ("the presets with random weights instead of their trained ones, to show "
                  "what training changes (marked 'untrained')")


def shared(*names: str, **keywords) -> argparse.ArgumentParser:
    """An option that several commands take, declared once: a parent parser of its own."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(*names, **keywords)
    return parent


# --weights: a model folder (or a timm file) in place of a preset (the app, shot, export,
# bench); or a preset's own weights file, or a folder (trace, eval)
FOLDER = shared("--weights", default=None, help=FOLDER_HELP)
WEIGHTS = shared("--weights", default=None, help=WEIGHTS_HELP)
ARCH = shared("--arch", default=None,
              help="the timm variant of a bare --weights file, e.g. vit_tiny_patch16_224")
DEVICE = shared("--device", default="cpu")  # (the app's own: None, the last one used)
UNTRAINED = shared("--untrained", action="store_true", help=UNTRAINED_HELP)
INTERVENE = shared("--intervention", action="append", default=[], metavar="NAME[=ARG]",
                   help="repeatable: " + "; ".join(INTERVENTIONS))
GENERATE = shared("--generate", type=generate_count, default=0, metavar="K",
                  help=GENERATE_HELP)
JSON = shared("--json", action="store_true")
DTYPE = shared("--dtype", default=None, choices=["float32", "bfloat16", "float16"],
               help="a model folder whose weights are stored in this dtype computes in it "
                    "(default: float32 whatever they are stored in; the app: the dtype its "
                    "Device menu was left at)")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python main.py", description=__doc__,
                    formatter_class=argparse.RawDescriptionHelpFormatter,
                    parents=[FOLDER, ARCH, UNTRAINED, GENERATE, DTYPE])
    parser.add_argument("--preset", default=None, help="preset to open (default: last used)")
    parser.add_argument("--device", default=None, help="cpu, cuda, mps or auto")
    parser.add_argument("--session", default=None, help="open a saved session (.json)")
    parser.add_argument("--tour", action="store_true", help="open on the guided tour")
    parser.add_argument("--lang", default=None, choices=["en", "zh"],
                        help="tour language (default: the system's)")
    parser.add_argument("--step", type=count, default=None,
                        help="tour step to open on, from 1 (as the card counts)")
    parser.set_defaults(func=commands.cmd_gui)
    sub = parser.add_subparsers(dest="command", parser_class=Parser)

    p = sub.add_parser("presets", help="list presets")
    p.set_defaults(func=commands.cmd_presets)

    p = sub.add_parser("trace", help="run a preset and save every record as .npz",
                       parents=[WEIGHTS, ARCH, DEVICE, UNTRAINED, GENERATE, INTERVENE,
                                DTYPE])
    p.add_argument("--preset", default=None, help="a preset (not needed with --weights FOLDER)")
    p.add_argument("--input", required=True, help="text, or an image path for image presets")
    p.add_argument("-o", "--output", required=True, help="the .npz file to write")
    p.add_argument("--compact", action="store_true",
                   help="write only what grows linearly with the input (q, k, v, outputs, "
                        "masks); models.trace.Trace.load_npz derives the N×N matrices")
    p.add_argument("--chat", action="store_true",
                   help="a causal language model whose folder has a chat template: the input "
                        "as one user message with the assistant's turn to follow")
    p.set_defaults(func=commands.cmd_trace)

    p = sub.add_parser("eval", help="held-out figures of a preset's shipped weights",
                       parents=[WEIGHTS, DEVICE, UNTRAINED, INTERVENE, JSON])
    p.add_argument("--preset", required=True)
    p.add_argument("--limit", type=count, default=None, help="evaluate the first N only")
    p.set_defaults(func=commands.cmd_eval)

    p = sub.add_parser("shot", help="open the window offscreen and save a PNG",
                       parents=[FOLDER, ARCH, DEVICE, UNTRAINED, INTERVENE, DTYPE])
    p.add_argument("--preset", default=None)
    p.add_argument("--input", default=None, help="text, or an image path (default: a sample)")
    p.add_argument("--panel", default=None, help="one panel only (see `panels`)")
    p.add_argument("--kind", default=None, help="attention kind, e.g. cross, encoder_self")
    p.add_argument("--site", default=None, help="attention site, e.g. blocks.3.attn")
    p.add_argument("--layer", type=index, default=None)
    p.add_argument("--head", type=index, default=None)
    p.add_argument("--query", type=index, default=None, help="row: query token or patch")
    p.add_argument("--key", type=index, default=None, help="column: key token or patch")
    p.add_argument("--window", type=index, default=None, help="Swin window")
    p.add_argument("--size", default="1400x860", help="window size, WIDTHxHEIGHT")
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(func=commands.cmd_shot)

    p = sub.add_parser("export", help="a panel as PNG or SVG, without a window",
                       parents=[FOLDER, ARCH, DEVICE, UNTRAINED, DTYPE])
    p.add_argument("--preset", default=None)
    p.add_argument("--input", default=None, help="text, or an image path")
    p.add_argument("--session", default=None, help="a saved session to show first")
    p.add_argument("--panel", required=True, help="see `panels`")
    p.add_argument("--scale", type=float, default=1, help="PNG: 1 to 4 times the pixels")
    p.add_argument("-o", "--output", required=True, help="out.png or out.svg")
    p.set_defaults(func=commands.cmd_export)

    p = sub.add_parser("tour", help="print the guided tour's outline")
    p.add_argument("--lang", default=None, choices=["en", "zh"])
    p.set_defaults(func=commands.cmd_tour)

    p = sub.add_parser("soak", help="random UI actions; report exceptions and stale frames",
                       parents=[JSON])
    p.add_argument("--actions", type=count, default=500)
    p.add_argument("--seed", type=index, default=0)
    p.add_argument("--weights", default=None, metavar="FOLDER",
                   help="a model folder, opened first and chosen most of the time")
    p.add_argument("--tokens", type=count, default=0, metavar="N",
                   help="with a language model folder: typed inputs mostly of N tokens")
    p.set_defaults(func=commands.cmd_soak)

    p = sub.add_parser("panels", help="list panel names")
    p.set_defaults(func=commands.cmd_panels)

    p = sub.add_parser("bench", help="measure forward, redraw, input-to-pixels and hover",
                       parents=[FOLDER, ARCH, JSON, DTYPE])
    p.add_argument("--preset", action="append", help="only this preset (repeatable)")
    p.add_argument("--edits", type=count, default=50)
    p.add_argument("--tokens", type=token_counts, default=None, metavar="N[,N…]",
                   help="an opened language model: inputs of N tokens, for each N given "
                        "(default: the sample sentences typed word by word)")
    p.set_defaults(func=commands.cmd_bench)

    p = sub.add_parser("lens", help="logit lens and direct logit attribution of one position",
                       parents=[WEIGHTS, ARCH, DEVICE, UNTRAINED, INTERVENE, JSON])
    p.add_argument("--preset", default=None, help="a preset (not needed with --weights FOLDER)")
    p.add_argument("--input", required=True, help="text, or an image path for image presets")
    p.add_argument("--position", type=index, default=None,
                   help="the token, counted in input/ids (translation: in the decoder's ids); "
                        "default: the last (BERT: the first [MASK]; translation: 0)")
    p.add_argument("--target", default=None,
                   help="the output to explain: a token, a class label or an id (default: "
                        "the prediction)")
    p.add_argument("--minus", default=None, help="explain target minus this output")
    p.set_defaults(func=commands.cmd_lens)

    p = sub.add_parser("heads", help="each head's role scores (previous-token, induction…)",
                       parents=[WEIGHTS, ARCH, DEVICE, UNTRAINED, INTERVENE, JSON])
    p.add_argument("--preset", default=None, help="a preset (not needed with --weights FOLDER)")
    p.add_argument("--input", default=None, help="text or an image path (default: a sample)")
    p.set_defaults(func=commands.cmd_heads)

    p = sub.add_parser("patch", help="activation patching: a clean run's activations put "
                       "into a corrupted run, scored (docs/patching.md)",
                       parents=[WEIGHTS, ARCH, DEVICE, UNTRAINED, INTERVENE, JSON])
    p.add_argument("--preset", default=None, help="a preset (not needed with --weights FOLDER)")
    p.add_argument("--clean", required=True, help="text, or an image path for image models")
    p.add_argument("--corrupt", required=True,
                   help="the same number of tokens as --clean (an image: another picture)")
    p.add_argument("--targets", type=target_pair, default=None, metavar="A,B",
                   help="the metric logit(A) - logit(B): tokens, class labels or ids "
                        "(default: the clean prediction, the corrupted one)")
    p.add_argument("--sweep", required=True,
                   choices=["resid", "attn", "mlp", "heads", "heads-by-pos", "path"],
                   help="path: path patching into --receiver's --part, from every earlier "
                        "head (or --sender only)")
    p.add_argument("--receiver", type=site_head, default=None, metavar="SITE:HEAD",
                   help="--sweep path: the head whose queries, keys or values receive, e.g. "
                        "layers.1.attn:1")
    p.add_argument("--part", choices=["q", "k", "v"], default=None,
                   help="--sweep path: the receiver's queries, keys or values")
    p.add_argument("--sender", type=site_head, default=None, metavar="SITE:HEAD",
                   help="--sweep path: one sender head (default: every head before the "
                        "receiver)")
    p.add_argument("--batch", type=count, default=16, help="patched runs per forward (16)")
    p.add_argument("-o", "--output", default=None,
                   help="also write the scores as .npz (scores, rows, columns, json)")
    p.set_defaults(func=commands.cmd_patch)

    p = sub.add_parser("corpus", help="head statistics and query/key samples over thousands "
                                      "of inputs, written as Parquet (docs/corpus.md)",
                       parents=[WEIGHTS, ARCH, DEVICE])
    p.add_argument("--preset", default=None, help="a preset (not needed with --weights FOLDER)")
    p.add_argument("--inputs", required=True, metavar="SOURCE",
                   help="a text file (one input a line), JSON Lines (.jsonl), a folder of "
                        "images, or a data set saved by datasets' save_to_disk")
    p.add_argument("--out", required=True, metavar="DIR", help="the folder to write (an "
                   "interrupted job run again resumes it)")
    p.add_argument("--field", default=None,
                   help="the field of JSON Lines or a data set to read (default: text)")
    p.add_argument("--limit", type=count, default=None, help="the first N inputs only")
    p.add_argument("--batch", type=count, default=16, help="inputs per forward and per "
                   "shard (default 16)")
    p.add_argument("--points", type=index, default=20000,
                   help="query and key vectors sampled per head, each (default 20000)")
    p.add_argument("--ray", nargs="?", const=True, default=None, metavar="ADDRESS",
                   help="run on Ray Data: a local Ray, or the cluster at ADDRESS")
    p.add_argument("--workers", type=count, default=2,
                   help="with --ray: model actors (default 2; one GPU each with --device "
                        "cuda)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=commands.cmd_corpus)
    return parser


def site_head(text: str) -> tuple[str, int]:
    """SITE:HEAD, e.g. layers.0.attn:1 (as head_off writes a head)."""
    site, _, head = text.rpartition(":")
    if not site or not head.isdigit():
        raise argparse.ArgumentTypeError(f"'{text}': write SITE:HEAD, e.g. layers.0.attn:1")
    return site, int(head)


def target_pair(text: str) -> tuple[str, str]:
    """--targets A,B: two outputs, split at the last comma (spaces kept: " Paris" is
    another token than "Paris" for GPT-2)."""
    a, comma, b = text.rpartition(",")
    if not comma or not a.strip() or not b.strip():
        raise argparse.ArgumentTypeError(f"'{text}': give two targets as A,B")
    return a, b


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from models.memory import return_large_blocks

    return_large_blocks()  # (before any model or trace is made)
    from models.errors import UserMessageError

    try:
        from models.session import set_weights_dtype

        dtype = getattr(args, "dtype", None)  # (every folder opened from now on)
        set_weights_dtype(None if dtype == "float32" else dtype)
        return args.func(args)
    except UserMessageError as error:  # UsageError, InputError, CheckpointError…
        print(f"error: {printable(error)}", file=sys.stderr)
        return 2
    except OSError as error:  # e.g. an output path that cannot be written
        print(printable(f"error: {error.strerror or error}: {error.filename or ''}"
                        .rstrip(": ")), file=sys.stderr)
        return 2
    except Exception as error:  # a bug: still one line, and a code that says "not you"
        print(printable(f"error: unexpected {type(error).__name__}: {error} (a bug in "
                        "Transformer Explorer: please report it with the command you ran)"),
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
