"""Where a trained generator stops generalising: rooms, sentences or voices.

Scores a generator on 2 s training-style pairs (the `PairDataset` recipe: HiFi-GAN's regime,
random SNR in 20..40 dB, rooms with a DRR of -6..18 dB, random noise type; the answer in
docs/benchmarks.md was measured in the course's first regime, SNR -5..25 dB and talkers 0.5-2.5 m
away) in five settings, each changing one thing:

1. the training voices of the corpus's first edition (the nine every shipped generator trained
   on) reading their training sentences, in the 64 training rooms;
2. the same, in 192 rooms it never saw (rooms 64-255 of a 256-room training bank);
3. those voices reading sentences they never read (the last ones of their reading lists, which
   no build reaches; synthesised here, so it needs the TTS engines of `data build`, else the row
   is skipped), in those unseen rooms;
4. the training voices of the second edition (`corpus.VOICES[corpus.FIRST_EDITION:]`), in the
   training rooms: unseen voices for a generator trained before they were added;
5. the validation voices, in the validation rooms.

For each: SI-SDR of the input and of the output against the direct-path target, and the
gain. Usage (about 4 minutes on 2 cores; results in docs/benchmarks.md):

    python scripts/generalisation_gap.py [--checkpoint data/checkpoints/hifigan-long-run.pt] [--pairs 96]
"""

from __future__ import annotations

import argparse

import numpy as np

from hifigan_edu import enhance, runtime
from hifigan_edu.audio import SAMPLE_RATE, si_sdr
from hifigan_edu.data import corpus, simulate

SENTENCES_PER_VOICE = 4


def unread_sentences(per_voice: int = SENTENCES_PER_VOICE) -> list[np.ndarray]:
    """Each training voice of the first edition reading the last ``per_voice`` sentences of its
    reading list (`corpus.reading_lists`, about 230 each): no build reaches them (the starter
    preset reads 5-10 of them, the first edition's build, which the shipped generators trained
    on, read 9-14, the full preset about 100)."""
    rows = corpus.utterances(corpus.STARTER_DIR, "train")
    out = []
    first = corpus.VOICES[: corpus.FIRST_EDITION]
    for voice, mine in zip(first, corpus.reading_lists()):  # the lists of `data build`'s default seed
        if voice.split != "train":
            continue
        read = {r["text"] for r in rows if r["speaker"] == voice.speaker}
        assert read == set(mine[: len(read)]), f"{voice.speaker}: the starter corpus was built with another seed"
        out += [corpus.normalize(corpus.synthesize(voice, text)) for text in mine[-per_voice:]]
    return out


def score(enhancer: enhance.Enhancer, data: simulate.PairDataset, pairs: int) -> tuple[float, float]:
    """Mean SI-SDR (dB) of the input and of the enhanced output over the first ``pairs`` items of ``data``."""
    rows = []
    for i in range(pairs):
        ex = data.example(i)
        rows.append((si_sdr(ex.degraded, ex.clean), si_sdr(enhancer(ex.degraded), ex.clean)))
    before, after = np.mean(rows, axis=0)
    return float(before), float(after)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", default=str(enhance.SHIPPED))
    parser.add_argument("--pairs", type=int, default=96, help="2 s pairs per setting (default 96)")
    parser.add_argument("--rooms", type=int, default=256, help="training-room bank to draw from (default 256)")
    parser.add_argument("--seen", type=int, default=64, help="how many of its first rooms the generator trained in (default 64)")
    parser.add_argument("--sentences", type=int, default=SENTENCES_PER_VOICE, help="new sentences per training voice (default 4)")
    args = parser.parse_args()
    runtime.set_threads()
    enhancer = enhance.load_enhancer(args.checkpoint)
    segment = 2 * SAMPLE_RATE
    train = simulate.PairDataset("train", segment, length=args.pairs, seed=12345, rirs=args.rooms)  # a bank's first rooms are the smaller banks
    seen_rooms, unseen_rooms = train.bank.rirs[: args.seen], train.bank.rirs[args.seen :]
    first = {v.speaker for v in corpus.VOICES[: corpus.FIRST_EDITION]}
    rows = corpus.utterances(corpus.STARTER_DIR, "train")  # in the order of train.speech
    first_speech = [x for x, r in zip(train.speech, rows) if r["speaker"] in first]
    second_speech = [x for x, r in zip(train.speech, rows) if r["speaker"] not in first]
    settings = [("first edition training voices and sentences, training rooms", first_speech, seen_rooms),
                ("first edition training voices and sentences, unseen rooms", first_speech, unseen_rooms)]  # fmt: skip
    missing = [p for p in map(corpus.engine_problem, sorted({v.engine for v in corpus.VOICES[: corpus.FIRST_EDITION]})) if p]
    if missing:
        print(f"skipping the new-sentences row: {'; '.join(missing)}")
    else:
        settings.append(("first edition training voices, new sentences, unseen rooms", unread_sentences(args.sentences), unseen_rooms))
    settings.append(("second edition training voices, training rooms", second_speech, seen_rooms))
    print(f"{enhancer.label}, {args.pairs} pairs of 2 s per setting; SI-SDR in dB\n")
    print("| setting | input | enhanced | gain |\n|---|---:|---:|---:|")
    for name, speech, rirs in settings:
        train.speech, train.bank.rirs = speech, rirs
        before, after = score(enhancer, train, args.pairs)
        print(f"| {name} | {before:.2f} | {after:.2f} | {after - before:+.2f} |", flush=True)
    valid = simulate.PairDataset("valid", segment, length=args.pairs, seed=12345, rirs=args.seen)
    before, after = score(enhancer, valid, args.pairs)
    print(f"| validation voices and rooms | {before:.2f} | {after:.2f} | {after - before:+.2f} |")


if __name__ == "__main__":
    main()
