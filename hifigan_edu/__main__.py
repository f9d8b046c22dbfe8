"""Command line: ``python -m hifigan_edu {data,course,train,enhance,evaluate} ...``.

Run ``python -m hifigan_edu --help`` for the list.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

from hifigan_edu import runtime
from hifigan_edu.data import corpora, corpus, simulate
from hifigan_edu.enhance import MIN_CHUNK_S, SHIPPED
from hifigan_edu.files import CannotWrite, atomic_path, check_can_write


def number(kind: type, low: float, what: str):
    """An argparse type: a finite ``kind`` (int or float) >= ``low``, or a message saying what to give."""

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
            usable = value >= low and (kind is int or math.isfinite(value))  # a Python int is always finite
        except ValueError:
            usable = False
        if not usable:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
        return value

    return parse


def data_sentences(args: argparse.Namespace) -> None:
    out = corpus.SENTENCES_FILE
    if out.exists() and not args.overwrite:
        sys.exit(f"{out} exists; pass --overwrite to regenerate it.")
    try:
        sentences = corpus.extract_sentences(n=args.n, seed=args.seed)
    except FileNotFoundError as err:
        sys.exit(str(err))
    with atomic_path(out) as tmp:
        tmp.write_text("\n".join(sentences) + "\n", encoding="utf-8")
    print(f"wrote {len(sentences)} sentences to {out}")


def data_testset(args: argparse.Namespace) -> None:
    names = getattr(args, "sets", None) or list(simulate.REGIMES)
    unknown = [n for n in names if n not in simulate.REGIMES]
    if unknown:
        sys.exit(f"error: no test set {', '.join(unknown)}; choose from {', '.join(simulate.REGIMES)}")
    for name in names:
        regime, start = simulate.REGIMES[name], time.perf_counter()
        try:
            rows = simulate.build_testset(regime, seed=args.seed, overwrite=args.overwrite)
        except (RuntimeError, FileExistsError, FileNotFoundError) as err:
            sys.exit(str(err))
        print(f"{name} test set (version {regime.version}) of {len(rows)} mixtures built in {time.perf_counter() - start:.0f} s: {regime.folder}")


def data_build(args: argparse.Namespace) -> None:
    preset = corpus.PRESETS[args.preset]
    start = time.perf_counter()
    try:
        out = corpus.build(preset, seed=args.seed, overwrite=args.overwrite, workers=args.workers)
    except (RuntimeError, FileExistsError, FileNotFoundError) as err:
        sys.exit(str(err))
    print(f"corpus built in {time.perf_counter() - start:.0f} s: {out}")
    if preset.name == "starter" and not args.no_testset:
        data_testset(args)
    print(json.dumps(corpus.summary(out), indent=2))


def data_recorded(args: argparse.Namespace) -> None:
    start = time.perf_counter()
    try:
        out = corpus.build_recorded(args.seconds, seed=args.seed, overwrite=args.overwrite)
    except (FileExistsError, FileNotFoundError) as err:
        sys.exit(f"error: {err}")
    s = corpus.summary(out)
    print(f"the starter corpus with {len(corpus.RECORDED)} recorded training voices, built in {time.perf_counter() - start:.0f} s: {out}")
    print(json.dumps({k: s[k] for k in ("voices", "female", "male", "minutes", "size_mb")}, indent=2))
    print(f"train on it: python -m hifigan_edu train --config cpu --set data.corpus={out.name}")


def data_import(args: argparse.Namespace) -> None:
    out = Path(args.out).expanduser().resolve() if args.out else corpus.DATA_DIR / args.corpus
    start = time.perf_counter()
    try:
        rows = corpora.import_speech(args.corpus, args.root, out, overwrite=args.overwrite, workers=args.workers, mic=args.mic)
    except (ValueError, FileExistsError, FileNotFoundError) as err:
        sys.exit(f"error: {err}")
    splits = {split: sorted({str(r["speaker"]) for r in rows if r["split"] == split}) for split in ("valid", "test")}
    print(f"imported {len(rows)} recordings in {time.perf_counter() - start:.0f} s into {out} "
          f"(valid speakers {', '.join(splits['valid'])}; test speakers {', '.join(splits['test'])})")
    s = corpus.summary(out)
    print(json.dumps({"speakers": s["voices"], "female": s["female"], "male": s["male"], "recordings": s["utterances"],
                      "minutes": s["minutes"], "size_mb": s["size_mb"]}, indent=2))  # fmt: skip
    name = out.name if out.parent == corpus.DATA_DIR else str(out)
    print(f"train on it: python -m hifigan_edu train --config full --set data.corpus={name}")


def data_info(args: argparse.Namespace) -> None:
    try:
        directory = corpus.resolve(args.corpus)
        print(json.dumps(corpus.summary(directory), indent=2))
    except FileNotFoundError as err:
        sys.exit(f"error: {err}")
    test_sets = [r.folder for r in simulate.REGIMES.values()] if directory == corpus.STARTER_DIR else []
    problems = corpus.verify(directory) + [p for folder in test_sets for p in corpus.verify(folder)]
    print("checksums: ok" if not problems else "\n".join(problems))
    if directory in {preset.out_dir for preset in corpus.PRESETS.values()}:  # what `data build` makes
        missing = corpus.missing_tools()
        print("build tools: all installed" if not missing else "missing (needed only to rebuild):\n  " + "\n  ".join(missing))
    if problems:
        sys.exit(1)


def course_run(args: argparse.Namespace) -> None:
    from hifigan_edu import course, exercises

    if args.student:
        try:
            written = exercises.write_student_versions(course.notebooks(args.only), Path(args.out) / "student")
        except (ValueError, CannotWrite) as err:
            sys.exit(f"error: {err}")
        print(f"wrote {len(written)} student notebook(s), solutions removed and outputs cleared, into {Path(args.out) / 'student'}")
        return
    if args.html:
        try:
            course.html_only(Path(args.out), args.only)
        except CannotWrite as err:
            sys.exit(f"error: {err}")
        return
    course.run(record=args.record, out_dir=Path(args.out), only=args.only, profile=args.profile)


def train_run(args: argparse.Namespace) -> None:
    from hifigan_edu import config, enhance, train

    runtime.set_threads()
    rank, world = os.environ.get("RANK", "0"), os.environ.get("WORLD_SIZE", "1")  # set by torchrun
    say = print if rank == "0" else lambda *_: None  # one process speaks for all
    try:
        c = config.load(args.config or runtime.get_profile(), args.set)
        run_dir = Path(args.run_dir or f"runs/{c.name}")
        say(f"training config {c.name!r} into {run_dir} ({'resuming' if args.resume else 'new run'})"
            + (f" in {world} processes" if world != "1" else ""))
        run = train.train(c, run_dir, resume=args.resume, max_steps=args.max_steps, max_minutes=args.max_minutes, init=args.init)
    except (config.ConfigError, enhance.CheckpointError, FileExistsError, FileNotFoundError, train.NonFiniteLoss, train.ProcessLost, CannotWrite) as err:
        newline = "" if rank == "0" else "\n"  # rank 0's progress bar may stop mid-line (a killed rank 0 never ends it)
        sys.exit(f"{newline}error{f' (rank {rank} of {world})' if world != '1' else ''}: {err}")
    say(f"stopped at step {run.step} ({run.stage}) after {run.elapsed_s / 60:.1f} min of training in all; "
        f"checkpoint {run_dir / train.CHECKPOINT}, generator {run_dir / train.GENERATOR}, log {run_dir / train.METRICS}")


def enhance_run(args: argparse.Namespace) -> None:
    from hifigan_edu import enhance

    runtime.set_threads()
    start = time.perf_counter()
    try:
        notes = enhance.enhance_file(args.input, args.output, args.checkpoint, overwrite=args.overwrite, chunk_s=args.chunk_s)
    except (ValueError, FileExistsError, FileNotFoundError, CannotWrite) as err:
        sys.exit(f"error: {err}")
    for note in notes:
        print(f"note: {note}")
    print(f"wrote {args.output} (16 kHz mono) in {time.perf_counter() - start:.1f} s")


def evaluate_run(args: argparse.Namespace) -> None:
    from hifigan_edu import enhance, evaluate

    runtime.set_threads()
    systems = evaluate.baselines()
    for checkpoint in args.checkpoint:
        try:
            enhancer = enhance.load_enhancer(checkpoint)
        except (ValueError, FileNotFoundError) as err:
            sys.exit(f"error: {err}")
        systems[enhancer.label if enhancer.label not in systems else f"{enhancer.label} [{checkpoint}]"] = enhancer
    out = Path(args.out)
    if (out / "evaluation.csv").exists() and not args.overwrite:
        sys.exit(f"error: {out / 'evaluation.csv'} exists; choose another --out or pass --overwrite.")
    try:
        check_can_write(out / "evaluation.csv")  # now, not after the evaluation
        items = evaluate.select(args.items)
        rows = evaluate.evaluate(systems, items)
        paths = evaluate.write(rows, out)
    except (FileNotFoundError, ValueError, CannotWrite) as err:
        sys.exit(f"error: {err}")
    print(evaluate.markdown(rows))
    print(f"wrote {paths[0]} and {paths[1]}")


def build_parser() -> argparse.ArgumentParser:
    """The command line: every subcommand, its options and the function that runs it (``func``)."""
    parser = argparse.ArgumentParser(prog="python -m hifigan_edu", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="{data,course,train,enhance,evaluate}")
    data = commands.add_parser("data", help="build or inspect the speech corpus and the test sets")
    data_commands = data.add_subparsers(required=True, metavar="{sentences,build,recorded,testset,import,info}")

    p = data_commands.add_parser("sentences", help="extract the sentence list from Debian's fortunes")
    p.add_argument("--n", type=int, default=6000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(func=data_sentences)

    p = data_commands.add_parser("build", help="synthesise a corpus (needs the TTS engines; see docs/data.md)")
    p.add_argument("--preset", choices=sorted(corpus.PRESETS), default="starter")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--overwrite", action="store_true", help="replace an existing corpus of this preset")
    p.add_argument("--no-testset", action="store_true", help="do not build the test set (starter preset)")
    p.set_defaults(func=data_build)

    p = data_commands.add_parser("testset", help="rebuild only the test sets, from the corpus in data/starter (no TTS engines needed)")
    p.add_argument("sets", nargs="*", metavar="SET", help="which test sets (default: all): "
                   "main (HiFi-GAN's regime, data/testset) and hard (SNR -5..25 dB, far talkers, data/testset-hard)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--overwrite", action="store_true", help="replace the existing test set (bump its version in simulate.REGIMES when its files change)")
    p.set_defaults(func=data_testset)

    p = data_commands.add_parser("import", help="convert the clean speech of VCTK or DAPS into a training corpus (data.corpus)")
    p.add_argument("corpus", choices=sorted(corpora.IMPORTABLE))
    p.add_argument("root", help="the corpus folder (or the folder its archive was unpacked into); it is only read")
    p.add_argument("--out", help="where the converted corpus goes (default: data/<corpus>)")
    p.add_argument("--mic", choices=("mic1", "mic2"), default="mic1", help="VCTK 0.92's microphone (default mic1)")
    p.add_argument("--workers", type=int, default=2, help="processes converting files (default 2)")
    p.add_argument("--overwrite", action="store_true", help="replace an earlier import in --out")
    p.set_defaults(func=data_import)

    p = data_commands.add_parser("recorded", help="the starter corpus plus two recorded training voices from Debian's Asterisk prompts (data/recorded)")
    p.add_argument("--seconds", type=number(float, 1, "a finite number of seconds >= 1"), default=60.0,
                   help="speech per recorded voice (default 60)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--overwrite", action="store_true", help="replace an earlier build")
    p.set_defaults(func=data_recorded)

    p = data_commands.add_parser("info", help="summarise a corpus and verify its checksums (the starter's with the test sets)")
    p.add_argument("--corpus", default="starter", help="a folder name under data/ (starter, full, daps, ...) or an absolute path, as data.corpus names it")
    p.set_defaults(func=data_info)

    p = commands.add_parser("course", help="execute the notebooks in order and render them to HTML")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--record", action="store_true", help="write the outputs back into notebooks/ (maintainers)")
    what.add_argument("--student", action="store_true", help="write the student version (no solutions, no outputs) into OUT/student; runs nothing")
    what.add_argument("--html", action="store_true", help="render the committed notebooks to OUT/html without executing them (seconds)")
    p.add_argument("--out", default="build", help="where executed copies and HTML go (default: build)")
    p.add_argument("--only", nargs="*", help="notebooks to run, by file name or number, e.g. 03 (default: all, in order)")
    p.add_argument(
        "--profile", choices=runtime.PROFILES, default=os.environ.get(runtime.PROFILE_ENV, "ci"),
        help=f"profile the kernels run in (default: ${runtime.PROFILE_ENV}, else ci)",
    )
    p.set_defaults(func=course_run)

    p = commands.add_parser("train", help="train HiFi-GAN (three stages; checkpoints, resume, metrics.csv)")
    p.add_argument("--config", help="ci, cpu, gpu-budget, full, hifigan2-ci, ... or a .json path (default: the profile, ci without a GPU)")
    p.add_argument("--run-dir", help="where the checkpoint and log go (default: runs/<config name>)")
    p.add_argument("--resume", action="store_true", help="continue the run saved in --run-dir exactly")
    p.add_argument("--max-steps", type=number(int, 1, "a whole number of steps >= 1"),
                   help="stop after this many generator steps in this call (resume later)")
    p.add_argument("--max-minutes", type=number(float, 0, "a finite number of minutes >= 0"),
                   help="stop at the first step that ends after this many minutes (resume later)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="change one config value, e.g. --set loss.l1_weight=100 (repeatable; repeat it with --resume)")
    p.add_argument("--init", help="start a new run from this generator.pt's weights (fine-tuning) instead of random ones")
    p.set_defaults(func=train_run)

    p = commands.add_parser("enhance", help="enhance an audio file with a trained generator")
    p.add_argument("input", help="audio file (any sample rate and channel count)")
    p.add_argument("output", help="where the enhanced 16 kHz mono file goes (never the input)")
    p.add_argument("--checkpoint", default=str(SHIPPED), help="generator.pt or checkpoint.pt (default: the shipped one)")
    p.add_argument("--chunk-s", type=number(float, MIN_CHUNK_S, f"a finite number of seconds >= {MIN_CHUNK_S}"), default=10.0,
                   help="seconds per chunk; bounds the memory, the result is the same (default 10)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    p.set_defaults(func=enhance_run)

    p = commands.add_parser("evaluate", help="PESQ, STOI, ESTOI, SI-SDR, LTCD, DNSMOS on both test sets (main, hard), with baselines")
    p.add_argument("--checkpoint", nargs="*", default=[str(SHIPPED)], help="generator(s) to evaluate (default: the shipped one)")
    p.add_argument("--out", default="results", help="folder for evaluation.csv and evaluation.md (default: results)")
    p.add_argument("--items", nargs="*", metavar="ID", help="only these test items, e.g. test-000 hard-035 (default: all of both sets)")
    p.add_argument("--overwrite", action="store_true", help="replace an earlier evaluation in --out")
    p.set_defaults(func=evaluate_run)

    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except runtime.SettingError as err:
        sys.exit(f"error: {err}")


if __name__ == "__main__":
    main()
