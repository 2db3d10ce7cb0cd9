"""What each subcommand of the command line does (explorer/cli.py parses them): the model or
window it opens, what it prints, and the user's mistakes it refuses with a UsageError."""
from __future__ import annotations

import argparse
import json

from models.errors import UsageError


def printable(text: str) -> str:
    """One line with no raw control bytes (a BEL or an escape sequence from a file name or
    a typed input must not reach the terminal): those are shown escaped, e.g. \\x1b."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


INTERVENTIONS = {"bottleneck": "one context vector for every decoding step (seq2seq)",
                 "no_mask": "no attention mask", "no_bias": "no relative position bias",
                 "no_position": "no positional encoding",
                 "head_off": "head_off=SITE:HEAD switches one head off (repeatable)",
                 "head_mean": "head_mean=SITE:HEAD replaces one head's output by its mean "
                              "over the positions (repeatable)",
                 "mlp_off": "mlp_off=NAME switches one MLP off, e.g. layers.0.mlp "
                            "(repeatable)"}


def parse_interventions(values: list[str]) -> dict:
    """`--intervention NAME[=ARG]` values -> Session.set_interventions keywords."""
    found: dict = {}
    for value in values:
        name, _, argument = value.partition("=")
        if name not in INTERVENTIONS:
            raise UsageError(f"unknown intervention '{value}' (choose from: "
                             f"{', '.join(INTERVENTIONS)})")
        if name in ("head_off", "head_mean"):
            site, _, head = argument.rpartition(":")
            if not site or not head.isdigit():
                raise UsageError(f"write {name}=SITE:HEAD, e.g. {name}=blocks.3.attn:1, "
                                 f"not '{value}'")
            found.setdefault(name.replace("head", "heads"), []).append([site, int(head)])
        elif name == "mlp_off":
            if not argument:
                raise UsageError(f"write mlp_off=NAME, e.g. mlp_off=layers.0.mlp, not "
                                 f"'{value}'")
            found.setdefault("mlps_off", []).append(argument)
        elif argument:
            raise UsageError(f"'{name}' takes no value (got '{value}')")
        else:
            found[name] = True
    return found


def session_for(args: argparse.Namespace):
    """The preset's model, or the user's own weights file (`--weights`) for it, with the
    interventions asked for."""
    from models.checkpoints.common import is_model_folder
    from models.presets import resolve_device
    from models.session import load_folder, load_preset

    interventions = parse_interventions(getattr(args, "intervention", []))
    arch = getattr(args, "arch", None)
    untrained = check_untrained(args)
    if args.weights and (is_model_folder(args.weights) or arch or args.preset is None):
        # a hub folder, or a timm file named by --arch or its file name: its own model
        session = load_folder(args.weights, resolve_device(args.device), arch)
    elif args.preset is None:
        raise UsageError("--preset is needed (or --weights with a model folder or a timm "
                         "file)")
    else:
        session = load_preset(args.preset, resolve_device(args.device), weights=args.weights,
                              untrained=untrained)
    session.set_interventions(**interventions)
    steps = getattr(args, "generate", 0)
    if steps and not session.preset.task_info.generates:
        raise UsageError(f"--generate continues a causal language model's text (GPT-2, "
                         f"Llama, Qwen2, Mistral); {session.preset.name} is not one")
    session.generate = steps
    if getattr(args, "chat", False):
        if not session.preset.task_info.generates:
            raise UsageError(f"--chat wraps a causal language model's input in its chat "
                             f"template; {session.preset.name} is not one")
        session.chat = True
    return session


def check_untrained(args: argparse.Namespace) -> bool:
    """--untrained, refused beside --weights (random weights or a file, not both)."""
    untrained = getattr(args, "untrained", False)
    if untrained and getattr(args, "weights", None):
        raise UsageError("--untrained gives a preset random weights: it does not go with "
                         "--weights")
    return untrained


def opened_preset(args: argparse.Namespace):
    """`--weights FOLDER` (or a timm file with --arch or named after its variant) for the
    commands that open the window: (the model opened as a preset, by name, and its Session
    built, for the window's first load); else (--preset, None)."""
    if not getattr(args, "weights", None):
        return args.preset, None
    from models.opening import open_model_ready

    preset, ready = open_model_ready(args.weights, getattr(args, "arch", None))
    return preset.name, ready


def cmd_presets(args: argparse.Namespace) -> int:
    from models.presets import DEFAULT_PRESET, PRESETS
    from models.resources import missing_weights

    for preset in PRESETS.values():
        mark = "*" if preset.name == DEFAULT_PRESET else " "
        shipped = "trained" if preset.weights.is_file() else "MISSING"
        print(f"{mark} {preset.name:<12} {preset.arch:<11} {shipped:<9} {preset.description}")
        if preset.vocabulary:
            print(f"  {'':<12} its words (the only ones it takes): {preset.vocabulary}")
        if shipped == "MISSING":
            print(f"  {missing_weights(preset.weights, preset.name)}")
    return 0


def cmd_trace(args: argparse.Namespace) -> int:
    session = session_for(args)
    result = session.run(args.input)
    result.save_npz(args.output, compact=args.compact)
    weights = "" if session.trained else " (UNTRAINED: random weights)"
    print(f"wrote {args.output}: {len(result.keys())} records"
          f"{' (N×N matrices left to the reader)' if args.compact else ''}, "
          f"{len(result.meta['sites'])} attention sites, prediction{weights}: "
          f"{printable(result.meta['prediction'])}")
    if result.meta.get("reference") and not result.meta["matches_reference"]:
        print(f"the grammar's own translation differs: {result.meta['reference']}")
    if result.meta.get("outside") and not result.meta.get("unknown"):
        print(f"outside the grammar the model learned: {result.meta['outside']}")
    if result.meta.get("unknown"):
        raise UsageError("unknown words mapped to <unk>: " + ", ".join(result.meta["unknown"]))
    return 0


def print_induction(figures: dict) -> None:
    """The rest of the induction preset's figures: chance, each head, heads switched off."""
    print(f"  first occurrence     {figures['first_accuracy']:7.2%}   (chance: 1 in "
          f"{round(1 / figures['chance'])}, {figures['chance']:.2%})")
    print("  repeat accuracy with heads switched off:")
    for key, what in (("previous_token_head", "the previous-token head"),
                      ("induction_head", "the best induction head"),
                      ("induction_heads", "every induction head")):
        heads = figures[key] if isinstance(figures[key], list) else [figures[key]]
        value = figures[f"repeat_accuracy_without_{key}"]
        print(f"    without {what} ({', '.join(heads)}): {value:7.2%}")
    print("  per head: previous-token score / induction score")
    for layer, (previous, induct) in enumerate(zip(figures["previous_token"],
                                                   figures["induction"])):
        cells = "   ".join(f"head {h}: {p:.3f} / {i:.3f}"
                           for h, (p, i) in enumerate(zip(previous, induct)))
        print(f"    layers.{layer}.attn   {cells}")


def cmd_eval(args: argparse.Namespace) -> int:
    from models.checkpoints.common import is_model_folder
    from models.evaluate import SIMILARITY_BAR, bars, evaluate

    args.weights = args.weights or None
    if args.weights and is_model_folder(args.weights):
        raise UsageError(f"{args.weights} is a model folder: eval measures a preset's weights "
                         f"on that preset's held-out data, and there is none for it here "
                         f"(use trace, shot or the app)")
    session = session_for(args)
    figures = evaluate(session, limit=args.limit)
    if args.json:
        print(json.dumps({"preset": args.preset, "trained": session.trained, **figures}))
        return 0
    on = ", ".join(parse_interventions(args.intervention)) or "none"
    weights = "" if session.trained else ", UNTRAINED: random weights"
    print(f"{args.preset}: held-out set of {figures['heldout']} (interventions: {on}{weights})")
    for key, bar in bars(session.preset).items():
        extra = {"alignment": figures.get("alignment_site"),
                 "previous_token_score": figures.get("previous_token_head"),
                 "induction_score": figures.get("induction_head")}.get(key)
        extra = f"  ({extra})" if extra else ""
        if key.endswith("_score"):  # a mean attention weight, not a share
            print(f"  {key:<20} {figures[key]:6.3f}   bar {bar}{extra}")
        else:
            print(f"  {key:<20} {figures[key]:7.2%}   bar {bar:.0%}{extra}")
    if "induction" in figures:
        print_induction(figures)
    for bucket, value in figures.get("exact_match_by_length", {}).items():
        if value is not None:
            print(f"    {bucket:>5} words: exact match {value:7.2%}")
    for source, value in figures.get("accuracy_by_source", {}).items():
        print(f"    {source:>7}: accuracy {value:7.2%}")
    if "heads" in figures:
        print(f"  heads (teacher forced): entropy in nats per head; mean/min pairwise cosine "
              f"similarity of the heads' weights (bar for the last cross layer: below "
              f"{SIMILARITY_BAR})")
        for site, info in figures["heads"].items():
            entropy = " ".join(f"{e:.2f}" for e in info["entropy"])
            line = (f"    {site:<30} entropy {entropy}  similarity "
                    f"{info['mean_similarity']:.2f}/{info['min_similarity']:.2f}")
            if "alignment" in info:
                line += "  alignment " + " ".join(f"{a:.0%}" for a in info["alignment"])
            print(line)
    print("  passes" if figures["passes"] else "  FAILS a bar")
    return 0


def cmd_shot(args: argparse.Namespace) -> int:
    from explorer.export import shot
    from models.presets import get_preset, resolve_device

    if args.preset is None and args.weights is None:
        raise UsageError("give --preset (or --weights with a model folder or a timm file)")
    untrained = check_untrained(args)
    if args.preset is not None:
        get_preset(args.preset)  # an unknown name is an error, not the default preset
    try:
        size = tuple(int(v) for v in args.size.lower().split("x"))
        assert len(size) == 2 and all(200 <= v <= 8000 for v in size)
    except (ValueError, AssertionError):
        raise UsageError(f"--size must look like 1400x860, each side 200 to 8000 pixels, "
                         f"not '{args.size}'") from None
    preset, ready = opened_preset(args)
    path = shot(args.output, preset, args.input, args.panel,
                resolve_device(args.device), size=size, ready=ready,
                interventions=parse_interventions(args.intervention), untrained=untrained,
                site=args.site, layer=args.layer, head=args.head, query=args.query,
                key=args.key, window_index=args.window, kind=args.kind)
    print(f"wrote {path}")
    return 0


def cmd_panels(args: argparse.Namespace) -> int:
    from explorer.export import PANEL_NAMES

    print("\n".join(PANEL_NAMES))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from explorer.bench import print_report, run_bench
    from models.presets import get_preset

    for name in args.preset or []:
        get_preset(name)
    names = args.preset or None
    if args.weights:  # a model folder (or timm file), measured like a preset
        from models.opening import open_model

        names = (names or []) + [open_model(args.weights, args.arch).name]
    report = run_bench(names, edits=args.edits, tokens=args.tokens)
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print_report(report)
    return 0


def cmd_soak(args: argparse.Namespace) -> int:
    from explorer.soak import run_soak

    log = None if args.json else (lambda line: print(line, flush=True))
    report = run_soak(args.actions, args.seed, log=log, weights=args.weights,
                      tokens=args.tokens)
    if args.json:
        print(json.dumps(report, indent=1, ensure_ascii=False))
    else:
        for kind in ("exceptions", "qt_warnings", "stale"):
            for line in report[kind][:20]:
                print(f"  {kind}: {printable(line)}")
        rss = report["rss_mb"]
        print(f"{report['actions']} actions (seed {report['seed']}) in {report['seconds']} s, "
              f"{report['runs_painted']} runs painted"
              + (f" ({report['long_runs_painted']} of {args.tokens} tokens)" if args.tokens
                 else "") + f", {report['runs_failed']} refused with a "
              f"message, {report['checks']} checks: {len(report['exceptions'])} exceptions, "
              f"{len(report['qt_warnings'])} Qt warnings, {len(report['stale'])} stale frames; "
              f"RSS kept {rss['start']} → {rss['after_warm_up']} (after warm-up) → "
              f"{rss['end']} MB, growth after warm-up {report['rss_growth_after_warm_up_mb']} "
              f"MB ({report['rss_growth_window_open_mb']} MB with the window still open; "
              f"untrimmed end {report['rss_untrimmed_mb']['end']} MB)")
    return 1 if report["exceptions"] or report["stale"] else 0


def cmd_gui(args: argparse.Namespace) -> int:
    from explorer.app import run
    from models.presets import DEFAULT_PRESET, get_preset, resolve_device

    untrained = check_untrained(args)
    if getattr(args, "dtype", None) is None:  # the Device menu's last dtype, before opening
        from explorer.qapp import user_settings
        from models.session import DTYPES, set_weights_dtype

        saved = str(user_settings().value("dtype", "float32"))
        set_weights_dtype(saved if saved in DTYPES and saved != "float32" else None)
    if args.preset is not None:
        get_preset(args.preset)  # an unknown name: one clear line, exit 2
    if args.device is not None:
        resolve_device(args.device)
    preset, ready = opened_preset(args)  # a folder that cannot be opened: exit 2 likewise
    if args.session is not None:
        check_session(args.session)
    tour = None
    if args.tour or args.step is not None or args.lang is not None:
        tour = check_tour(args.lang, args.step)
    if args.generate and not get_preset(preset or DEFAULT_PRESET).task_info.generates:
        raise UsageError("--generate continues a causal language model's text: open one with "
                         "--weights FOLDER (GPT-2, Llama, Qwen2, Mistral)")
    return run(preset=preset, device=args.device, session=args.session, tour=tour,
               untrained=untrained, generate=args.generate, ready=ready)


def check_session(path: str) -> dict:
    """A session file checked before any window opens (SessionError: exit 2)."""
    from explorer.export import PANEL_NAMES
    from explorer.session import read

    return read(path, PANEL_NAMES)


def check_tour(lang: str | None, step: int | None) -> tuple[str, int]:
    from explorer.tour import load_tour, system_language

    lang = lang or system_language()
    steps = load_tour(lang)
    # steps count from 1, as the card ("4 / 30"), the outline and the docs count them
    if step is not None and not 1 <= step <= len(steps):
        raise UsageError(f"step {step} is out of range: the tour has {len(steps)} steps "
                         f"(1 to {len(steps)})")
    return lang, (step or 1) - 1


def cmd_tour(args: argparse.Namespace) -> int:
    from explorer.tour import outline

    print(outline(args.lang or check_tour(None, None)[0]))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from explorer.api import Explorer, RunFailed
    from explorer.export import PANEL_NAMES
    from models.presets import get_preset, resolve_device

    if args.panel not in PANEL_NAMES:
        raise UsageError(f"unknown panel '{args.panel}' (choose from: {', '.join(PANEL_NAMES)})")
    session = check_session(args.session) if args.session else None
    if session is None and args.preset is None and args.weights is None:
        raise UsageError("give --preset (or --session, or --weights with a model folder)")
    if args.preset is not None:
        get_preset(args.preset)
    untrained = check_untrained(args)
    if not args.output.lower().endswith((".png", ".svg")):
        raise UsageError(f"-o must name a .png or .svg file, not '{args.output}'")
    device = resolve_device(args.device)
    preset, ready = opened_preset(args)
    explorer = Explorer.open(preset or session["preset"], device, wait=False,
                             untrained=untrained, ready=ready)
    try:
        explorer.wait()
        if session is not None:
            from explorer.session import apply

            apply(explorer, session)
        if args.input is not None:
            explorer.set_input(args.input)
            explorer.wait()
        written = explorer.export(args.panel, args.output, args.scale)
    except RunFailed as error:
        raise UsageError(str(error)) from None
    finally:
        explorer.close()
    print(f"wrote {written}")
    return 0


def cmd_lens(args: argparse.Namespace) -> int:
    """The logit lens of one position and the direct logit attribution of a target."""
    from models.lens import ranked, report

    session = session_for(args)
    trace = session.run(args.input)
    found = report(session, trace, args.position, args.target, args.minus)
    if args.json:
        print(json.dumps(found))
        return 0
    tokens = (session.labels if session.model.input_kind == "image" else None)

    def name(i: int) -> str:
        if tokens is not None:
            return str(tokens[i])
        if session.model.arch == "transformer":
            return session.tgt_vocab.words[i]
        return "".join(session.tokenizer.tokens([i]))

    minus = f" minus {printable(name(found['minus']))}" if found["minus"] is not None else ""
    print(f"position {found['position']}, target {printable(name(found['target']))}{minus}")
    for layer in found["layers"]:
        top = ", ".join(f"{printable(name(i))} {p:.2f}" for i, p in layer["top"][:3])
        print(f"  {layer['name']:<28} target {layer['target_prob']:.3f} "
              f"(rank {layer['target_rank'] + 1})   top: {top}")
    value = found["attribution"]["value"]
    print(f"attribution of {value:.4f}, the largest parts:")
    for part in ranked(found["attribution"]["parts"]):
        print(f"  {part['name']:<36} {part['value']:+.4f}")
    for stack, note in found["notes"].items():
        print(f"{stack}: {note}")
    return 0


def cmd_heads(args: argparse.Namespace) -> int:
    """Each head's role scores (previous-token, duplicate-token, first-token, local,
    induction; vision: class token, local) on an input."""
    from models.head_roles import roles, session_scores

    session = session_for(args)
    text = args.input if args.input is not None else session.preset.default_input
    trace = session.run(text)
    scores = session_scores(session, trace)
    named = roles(scores)
    if args.json:
        print(json.dumps({"input": trace.meta.get("input"), "sites": {
            site: {"scores": scores[site], "roles": named[site]} for site in scores}}))
        return 0
    for site in scores:
        print(f"{site}")
        for h, role in enumerate(named[site]):
            figures = "  ".join(f"{r} {v[h]:.2f}" for r, v in scores[site].items())
            print(f"  head {h}: {role or '-':<16} {figures}")
    return 0


def cmd_patch(args: argparse.Namespace) -> int:
    """Activation patching: each cell of a sweep patched from the clean run into the
    corrupted one, scored 0 (corrupted) to 1 (clean) by a logit difference."""
    import numpy as np

    from models.patching import path_sweep, sweep

    path = (args.receiver, args.part, args.sender)
    if args.sweep == "path" and (args.receiver is None or args.part is None):
        raise UsageError("--sweep path needs --receiver SITE:HEAD and --part q, k or v")
    if args.sweep != "path" and any(x is not None for x in path):
        raise UsageError("--receiver, --part and --sender go with --sweep path")
    session = session_for(args)
    if args.sweep == "path":
        result = path_sweep(session, args.clean, args.corrupt, args.receiver, args.part,
                            targets=args.targets,
                            senders=None if args.sender is None else [args.sender[0]])
        if args.sender is not None:  # that one head: its cell, its score
            result = one_sender(result, *args.sender)
    else:
        result = sweep(session, args.clean, args.corrupt, args.sweep, targets=args.targets,
                       batch=args.batch)
    data = result.to_json()
    if args.sweep == "path":
        data.update(receiver=list(args.receiver), part=args.part)
        if args.sender is not None:
            data.update(sender=list(args.sender), score=data["cells"][0]["score"])
    if args.output:
        with open(args.output, "wb") as file:  # (exactly this name: no .npz added)
            np.savez_compressed(file, scores=result.scores, rows=np.array(result.rows),
                                columns=np.array(result.columns),
                                targets=np.array(result.targets),
                                json=np.array(json.dumps(data)))
    if args.json:
        print(json.dumps(data))
        return 0
    a, b = (printable(n) for n in result.target_names)
    print(f"metric logit({a}) - logit({b}): clean {result.clean:.4f}, corrupted "
          f"{result.corrupt:.4f}; scores 0 = corrupted, 1 = clean")
    cells = [c for c in result.cells if c["score"] == c["score"]]  # (not NaN)
    into = "" if args.sweep != "path" else \
        f" (senders into {printable(args.receiver[0])} head {args.receiver[1]}'s {args.part})"
    print(f"{args.sweep}{into}: {len(result.rows)} rows × {len(result.columns)} columns; "
          f"the largest:")
    for cell in sorted(cells, key=lambda c: -abs(c["score"]))[:10]:
        where = cell["point"] or cell["site"]
        head = "" if cell["head"] is None else f" head {cell['head']}"
        at = "" if cell["position"] is None else f" at {cell['position']}"
        print(f"  {printable(where)}{head}{at}: {cell['score']:+.3f}")
    return 0


def one_sender(result, site: str, head: int):
    """A path sweep's result cut to one sender head (a UsageError where its site has no
    such head)."""
    import numpy as np

    for cell in result.cells:
        if cell["site"] == site and cell["head"] == head and cell["score"] == cell["score"]:
            result.cells = [cell]
            result.rows, result.columns = result.rows[:1], [str(head)]
            result.scores = np.array([[cell["score"]]], np.float32)
            return result
    raise UsageError(f"no head {head} at '{site}'")


def cmd_corpus(args: argparse.Namespace) -> int:
    """Head statistics and query/key samples over a corpus, as a Parquet data set."""
    from models.corpus import run_corpus

    if args.preset is None and args.weights is None:
        raise UsageError("--preset is needed (or --weights with a model folder)")
    if args.workers != 2 and not args.ray:
        raise UsageError("--workers counts Ray's actors: it goes with --ray")
    spec = {"preset": args.preset, "weights": args.weights, "arch": args.arch,
            "device": args.device}
    report = run_corpus(spec, args.inputs, args.out, field=args.field, limit=args.limit,
                        batch=args.batch, points=args.points, ray=args.ray,
                        workers=args.workers, quiet=args.quiet)
    skipped = ", ".join(f"{n} {why}" for why, n in sorted(report["skipped"].items()))
    print(f"{report['written']} of {report['read']} inputs written to {args.out} in "
          f"{report['seconds']:.1f} s" + (f"; skipped: {skipped}" if skipped else "") +
          (f"; {report['truncated']} truncated" if report["truncated"] else ""))
    return 0
