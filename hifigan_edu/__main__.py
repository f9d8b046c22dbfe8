"""Command line: ``python -m hifigan_edu data ...`` and ``python -m hifigan_edu course ...``.

Run ``python -m hifigan_edu --help`` for the list.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from hifigan_edu import runtime
from hifigan_edu.data import corpus, simulate
from hifigan_edu.files import atomic_path


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


def data_build(args: argparse.Namespace) -> None:
    preset = corpus.PRESETS[args.preset]
    start = time.perf_counter()
    try:
        out = corpus.build(preset, seed=args.seed, overwrite=args.overwrite, workers=args.workers)
        print(f"corpus built in {time.perf_counter() - start:.0f} s: {out}")
        if preset.name == "starter" and not args.no_testset:
            test_start = time.perf_counter()
            rows = simulate.build_testset(seed=args.seed, overwrite=args.overwrite)
            print(f"test set of {len(rows)} mixtures built in {time.perf_counter() - test_start:.0f} s")
    except (RuntimeError, FileExistsError, FileNotFoundError) as err:
        sys.exit(str(err))
    print(json.dumps(corpus.summary(out), indent=2))


def data_info(args: argparse.Namespace) -> None:
    directory = corpus.PRESETS[args.preset].out_dir
    print(json.dumps(corpus.summary(directory), indent=2))
    problems = corpus.verify(directory) + (corpus.verify(simulate.TESTSET_DIR) if args.preset == "starter" else [])
    print("checksums: ok" if not problems else "\n".join(problems))
    missing = corpus.missing_tools()
    print("build tools: all installed" if not missing else "missing (needed only to rebuild):\n  " + "\n  ".join(missing))
    if problems:
        sys.exit(1)


def course_run(args: argparse.Namespace) -> None:
    from hifigan_edu import course

    course.run(record=args.record, out_dir=Path(args.out), only=args.only, profile=args.profile)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m hifigan_edu", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="{data,course}")
    data = commands.add_parser("data", help="build or inspect the speech corpus and test set")
    data_commands = data.add_subparsers(required=True, metavar="{sentences,build,info}")

    p = data_commands.add_parser("sentences", help="extract the sentence list from Debian's fortunes")
    p.add_argument("--n", type=int, default=3000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(func=data_sentences)

    p = data_commands.add_parser("build", help="synthesise a corpus (needs the TTS engines; see README)")
    p.add_argument("--preset", choices=sorted(corpus.PRESETS), default="starter")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--overwrite", action="store_true", help="replace an existing corpus of this preset")
    p.add_argument("--no-testset", action="store_true", help="do not build the test set (starter preset)")
    p.set_defaults(func=data_build)

    p = data_commands.add_parser("info", help="summarise a built corpus and verify its checksums")
    p.add_argument("--preset", choices=sorted(corpus.PRESETS), default="starter")
    p.set_defaults(func=data_info)

    p = commands.add_parser("course", help="execute the notebooks in order and render them to HTML")
    p.add_argument("--record", action="store_true", help="write the outputs back into notebooks/ (maintainers)")
    p.add_argument("--out", default="build", help="where executed copies and HTML go (default: build)")
    p.add_argument("--only", nargs="*", help="notebooks to run, by file name or number, e.g. 03 (default: all, in order)")
    p.add_argument(
        "--profile", choices=runtime.PROFILES, default=os.environ.get(runtime.PROFILE_ENV, "ci"),
        help=f"profile the kernels run in (default: ${runtime.PROFILE_ENV}, else ci)",
    )
    p.set_defaults(func=course_run)

    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
