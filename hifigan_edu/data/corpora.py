"""Index real speech corpora already on disk (VCTK, VCTK-DEMAND and DAPS), and convert one for training.

The course trains and evaluates on its own synthetic corpus so that it runs anywhere. A
user who has one of these public corpora can use it instead: the indexing functions find the
files and say which belong together; they read no audio and download nothing. Load a file
with :func:`hifigan_edu.audio.load`, which returns a (T,) float32 array at 16 kHz (the
corpora are stored at 48 kHz or 44.1 kHz and are resampled on load). :func:`import_speech`
(``python -m hifigan_edu data import``) converts the clean speech of VCTK or DAPS once into a
corpus folder that training reads (the config's ``data.corpus``). Taught in
``notebooks/00_the_problem_and_the_data.ipynb``.

Every function returns a list sorted by ``id``, so the same tree always gives the same
order. ``root`` may be the corpus folder itself or the folder an archive unpacked it into
(one level above). Hidden files, such as the macOS ``._*`` files some archives carry, and
files not named like the corpus's own files are skipped.

Licences (each corpus has its own terms; they are not this project's MIT licence):

- VCTK-Corpus-0.92 (Yamagishi, Veaux and MacDonald, 2019): CC BY 4.0. The older
  VCTK-Corpus (0.80): Open Data Commons Attribution (ODC-By) 1.0.
- VCTK-DEMAND, "Noisy speech database for training speech enhancement algorithms and TTS
  models" (Valentini-Botinhao, 2016/2017): CC BY 4.0.
- DAPS (Mysore, 2015): check the corpus licence in the archive before use; it is usually
  given as CC BY-NC 4.0, which rules out commercial use.
"""

from __future__ import annotations

import multiprocessing
import re
import shutil
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

__all__ = [
    "DAPS_DEVICE_CONDITIONS",
    "DAPS_STUDIO_CONDITIONS",
    "IMPORTABLE",
    "Pair",
    "Utterance",
    "daps",
    "daps_clean",
    "import_speech",
    "speaker_splits",
    "vctk",
    "vctk_demand",
]


@dataclass(frozen=True)
class Utterance:
    """One recording in a single-signal corpus.

    ``load(path)`` gives a (T,) float32 waveform. ``gender`` is ``"F"``, ``"M"`` or None
    (not known); ``text`` is the transcript, or None when the corpus has none for it.
    """

    id: str
    speaker: str
    path: Path
    gender: str | None
    text: str | None


@dataclass(frozen=True)
class Pair:
    """A degraded recording and the clean recording of the same speech.

    ``load(degraded)`` and ``load(clean)`` each give a (T,) float32 waveform. VCTK-DEMAND
    pairs are sample-aligned and equally long; DAPS pairs are time-aligned, but crop both to
    the shorter if their lengths differ. ``condition`` is the name of the folder
    that holds the degraded file, e.g. ``"noisy_testset_wav"`` or ``"ipad_livingroom1"``.
    """

    id: str
    speaker: str
    degraded: Path
    clean: Path
    condition: str


# -- VCTK ------------------------------------------------------------------------------

_VCTK_MICS = ("mic1", "mic2")
_VCTK_LAYOUT = (
    "wav48_silence_trimmed/p225/p225_001_mic1.flac, txt/p225/p225_001.txt and "
    "speaker-info.txt (VCTK-Corpus-0.92), or wav48/p225/p225_001.wav (older VCTK-Corpus)"
)


def vctk(root: str | Path, mic: str = "mic1") -> list[Utterance]:
    """Index VCTK: 110 English speakers (109 in the older release), about 400 read sentences each.

    Layouts (both 48 kHz)::

        VCTK-Corpus-0.92/                        VCTK-Corpus/ (0.80, older)
          wav48_silence_trimmed/p225/              wav48/p225/p225_001.wav
            p225_001_mic1.flac                     txt/p225/p225_001.txt
            p225_001_mic2.flac                     speaker-info.txt
          txt/p225/p225_001.txt
          speaker-info.txt

    ``speaker-info.txt`` has the columns ID AGE GENDER ACCENTS REGION COMMENTS (IDs are
    ``p225`` in 0.92 and ``225`` in the older release); it gives each speaker's gender.
    0.92 recorded every sentence with two microphones: ``mic1`` (omnidirectional DPA 4035)
    and ``mic2`` (Sennheiser MKH 800). The older release has one recording per sentence,
    returned for ``mic="mic1"``. Known gaps in 0.92: p315 has no transcripts (``text`` is
    None), p280 has no mic2 files.

    Returns one :class:`Utterance` per audio file, ``id`` like ``"p225_001"``.

    Raises:
        FileNotFoundError: ``root`` does not exist.
        ValueError: unknown ``mic``; no ``wav48_silence_trimmed/`` or ``wav48/`` folder;
            ``mic="mic2"`` with the older layout; no audio files.
    """
    if mic not in _VCTK_MICS:
        raise ValueError(f"mic must be one of {_VCTK_MICS}, got {mic!r}")
    base = _corpus_dir(root, "VCTK", ("wav48_silence_trimmed", "wav48"), _VCTK_LAYOUT)
    if (base / "wav48_silence_trimmed").is_dir():
        pattern, example = rf"(?P<key>[a-z]+\d+_\d+)_{mic}\.flac", f"p225_001_{mic}.flac"
        audio = _index(base / "wav48_silence_trimmed", pattern, example)
    elif mic == "mic1":
        audio = _index(base / "wav48", r"(?P<key>[a-z]+\d+_\d+)\.wav", "p225_001.wav")
    else:
        raise ValueError(
            f"{base} has the older VCTK-Corpus layout (wav48/), which has one recording per "
            "sentence: use mic='mic1', or VCTK-Corpus-0.92 for mic2"
        )
    genders = _vctk_genders(base / "speaker-info.txt")
    utterances = []
    for key, path in sorted(audio.items()):
        speaker = _speaker(key)
        transcript = base / "txt" / speaker / f"{key}.txt"
        text = _read_text(transcript) if transcript.is_file() else None
        utterances.append(Utterance(key, speaker, path, genders.get(speaker), text))
    return utterances


def _vctk_genders(path: Path) -> dict[str, str]:
    """Speaker -> ``"F"``/``"M"`` from ``speaker-info.txt``; empty when the file is absent."""
    if not path.is_file():
        return {}
    genders = {}
    for line in _read_text(path).splitlines():
        fields = line.split()  # the header's GENDER column fails the F/M test below
        if len(fields) >= 3 and fields[2].upper() in ("F", "M"):
            speaker = f"p{fields[0]}" if fields[0].isdigit() else fields[0]
            genders[speaker] = fields[2].upper()
    return genders


# -- VCTK-DEMAND -----------------------------------------------------------------------

_DEMAND_SETS = {"train_28spk": "trainset_28spk", "train_56spk": "trainset_56spk", "test": "testset"}
_DEMAND_SPLITS = ("train", *_DEMAND_SETS)
_DEMAND_LAYOUT = (
    "noisy_testset_wav/p232_001.wav and clean_testset_wav/p232_001.wav, and the same for "
    "trainset_28spk or trainset_56spk"
)


def vctk_demand(root: str | Path, split: str = "train") -> list[Pair]:
    """Index VCTK-DEMAND (Valentini-Botinhao et al., 2016): VCTK sentences mixed with noise.

    Layout (48 kHz WAV; each zip of the download unpacks to one folder)::

        clean_trainset_28spk_wav/p226_001.wav    noisy_trainset_28spk_wav/p226_001.wav
        clean_trainset_56spk_wav/p234_001.wav    noisy_trainset_56spk_wav/p234_001.wav
        clean_testset_wav/p232_001.wav           noisy_testset_wav/p232_001.wav
        trainset_28spk_txt/, trainset_56spk_txt/, testset_txt/   (transcripts, not indexed)

    A noisy file and its clean partner have the same name. The test set (speakers p232
    and p257, 824 pairs) is the one speech-enhancement papers report on.

    Args:
        split: ``"test"``, ``"train_28spk"`` (11,572 pairs), ``"train_56spk"`` (23,075
            pairs), or ``"train"`` for whichever of the two training sets is present.

    Returns one :class:`Pair` per noisy file, ``id`` like ``"p232_001"``.

    Raises:
        FileNotFoundError: ``root`` does not exist.
        ValueError: unknown ``split``; the split's two folders are not both there;
            ``split="train"`` with both training sets present; a file without a partner.
    """
    if split not in _DEMAND_SPLITS:
        raise ValueError(f"split must be one of {_DEMAND_SPLITS}, got {split!r}")
    folders = tuple(f"{kind}_{name}_wav" for name in _DEMAND_SETS.values() for kind in ("noisy", "clean"))
    base = _corpus_dir(root, "VCTK-DEMAND", folders, _DEMAND_LAYOUT)
    if split == "train":
        trainsets = ("train_28spk", "train_56spk")
        present = [s for s in trainsets if (base / f"noisy_{_DEMAND_SETS[s]}_wav").is_dir()]
        if len(present) > 1:
            raise ValueError(f"{base} has both training sets: pass split='train_28spk' or 'train_56spk'")
        split = present[0] if present else "train_28spk"
    name = _DEMAND_SETS[split]
    noisy, clean = _require_dirs(base, "VCTK-DEMAND", [f"noisy_{name}_wav", f"clean_{name}_wav"])
    pattern = r"(?P<key>[a-z]+\d+_\d+)\.wav"
    return _pair(_index(noisy, pattern, "p232_001.wav"), _index(clean, pattern, "p232_001.wav"), noisy.name)


# -- DAPS ------------------------------------------------------------------------------

DAPS_DEVICE_CONDITIONS = (
    "ipad_balcony1",
    "ipad_bedroom1",
    "ipad_confroom1",
    "ipad_confroom2",
    "ipad_livingroom1",
    "ipad_office1",
    "ipad_office2",
    "ipadflat_confroom1",
    "ipadflat_office1",
    "iphone_balcony1",
    "iphone_bedroom1",
    "iphone_livingroom1",
)
"""DAPS's consumer-device re-recordings: device (iPad, iPad lying flat, iPhone) and room."""

DAPS_STUDIO_CONDITIONS = ("cleanraw", "produced")
"""DAPS's other studio versions: the unedited take and the professionally produced one."""

_DAPS_LAYOUT = "clean/f1_script1_clean.wav and <condition>/f1_script1_<condition>.wav"


def daps(root: str | Path, condition: str | None = None) -> list[Pair]:
    """Index DAPS (Mysore, 2015), pairing each re-recording with its clean studio version.

    Layout (44.1 kHz WAV; ``daps.tar.gz`` unpacks to ``daps/``)::

        daps/clean/f1_script1_clean.wav
        daps/ipad_livingroom1/f1_script1_ipad_livingroom1.wav   (one folder per condition)
        daps/cleanraw/f1_script1_cleanraw.wav
        daps/produced/f1_script1_produced.wav

    20 speakers (f1-f10, m1-m10) each read scripts 1-5, about 14 minutes per speaker. Each
    clean studio recording was played back through a loudspeaker in a real room and
    re-recorded on a consumer device: the 12 :data:`DAPS_DEVICE_CONDITIONS`. A recording
    is paired with the clean file of the same speaker and script.

    Args:
        condition: one of :data:`DAPS_DEVICE_CONDITIONS` or :data:`DAPS_STUDIO_CONDITIONS`;
            None for every device condition present on disk (the studio versions are not
            degraded recordings, so they come only when asked for by name).

    Returns one :class:`Pair` per re-recording, ``id`` like ``"f1_script1_ipad_livingroom1"``.

    Raises:
        FileNotFoundError: ``root`` does not exist.
        ValueError: unknown ``condition``; no ``clean/`` folder, or no folder for the
            condition(s); a file without a partner.
    """
    choices = DAPS_DEVICE_CONDITIONS + DAPS_STUDIO_CONDITIONS
    if condition is not None and condition not in choices:
        raise ValueError(f"condition must be None or one of {choices}, got {condition!r}")
    base = _corpus_dir(root, "DAPS", ("clean",), _DAPS_LAYOUT)
    if condition is None:
        conditions = [c for c in DAPS_DEVICE_CONDITIONS if (base / c).is_dir()]
    else:
        conditions = [condition]
    if not conditions:
        raise ValueError(
            f"{base} has none of the DAPS device folders {_preview(list(DAPS_DEVICE_CONDITIONS), 3)}; "
            f"found {_preview(_listing(base))}. Unpack the whole daps.tar.gz, or pass condition='produced' "
            "or 'cleanraw' for a studio version."
        )
    clean = _daps_index(base, "clean")
    pairs = [pair for c in conditions for pair in _pair(_daps_index(base, c), clean, c)]
    return sorted(pairs, key=lambda pair: pair.id)


def daps_clean(root: str | Path) -> list[Utterance]:
    """The 100 clean studio recordings of DAPS (layout: see :func:`daps`), ``id`` like ``"f1_script1"``.

    ``gender`` comes from the speaker's ``f``/``m`` prefix; ``text`` is None.

    Raises:
        FileNotFoundError: ``root`` does not exist.
        ValueError: no ``clean/`` folder, or no clean files in it.
    """
    clean = _daps_index(_corpus_dir(root, "DAPS", ("clean",), _DAPS_LAYOUT), "clean")
    return [Utterance(key, _speaker(key), path, key[0].upper(), None) for key, path in sorted(clean.items())]


def _daps_index(base: Path, folder: str) -> dict[str, Path]:
    """``base/<folder>/f1_script1_<folder>.wav`` files keyed by speaker and script (``f1_script1``)."""
    (path,) = _require_dirs(base, "DAPS", [folder])
    return _index(path, rf"(?P<key>[fm]\d+_script\d+)_{re.escape(folder)}\.wav", f"f1_script1_{folder}.wav")


# -- converting a corpus for training --------------------------------------------------

IMPORT_MARKER = "IMPORTED"  # the file that marks a folder `data import` wrote (and may replace with --overwrite)
IMPORTABLE = {  # what `data import` converts (a row's "engine" column) -> the licence its manifest rows carry
    "vctk": "VCTK-Corpus: CC BY 4.0 (0.92) or ODC-By 1.0 (0.80), Yamagishi, Veaux and MacDonald",
    "daps": "DAPS (Mysore, 2015): see the licence in its archive, usually CC BY-NC 4.0",
}


def speaker_splits(genders: dict[str, str | None]) -> dict[str, str]:
    """Speaker-disjoint splits of a real corpus: speaker -> ``"train"``, ``"valid"`` or ``"test"``.

    Per gender, the speaker with the highest number in its name (``f10`` after ``f9``, ``p376``
    after ``p99``; then by name) is held out for testing and the one before it for validation, so
    both splits hear a woman and a man; every other speaker, and any of unknown gender, trains.
    DAPS: test ``f10`` and ``m10``, valid ``f9`` and ``m9``.

    Raises:
        ValueError: fewer than three speakers of either gender.
    """
    by_gender = {g: sorted((s for s, sg in genders.items() if sg == g), key=_by_number) for g in ("F", "M")}
    if min(len(speakers) for speakers in by_gender.values()) < 3:
        counts = ", ".join(f"{g} {len(v)}" for g, v in by_gender.items())
        raise ValueError(
            f"speaker-disjoint splits hold out one speaker of each gender for validation and one for testing, "
            f"so each gender needs at least 3 speakers of known gender; found {counts} (of {len(genders)} speakers). "
            "For VCTK, keep speaker-info.txt next to the audio: it gives the genders."
        )
    splits = dict.fromkeys(genders, "train")
    for speakers in by_gender.values():
        splits[speakers[-1]], splits[speakers[-2]] = "test", "valid"
    return splits


def import_speech(name: str, root: str | Path, out_dir: str | Path, overwrite: bool = False, workers: int = 2,
                  mic: str = "mic1") -> list[dict[str, object]]:  # fmt: skip
    """Convert the clean speech of VCTK (``name="vctk"``) or DAPS (``"daps"``) into a training corpus.

    Each recording is read at 16 kHz mono, trimmed and scaled to the starter corpus's level
    (``corpus.normalize``) and written to ``out_dir/speech/<speaker>/<id>.flac``, with a
    ``manifest.csv`` in the starter corpus's format, split by :func:`speaker_splits`; the starter
    corpus's babble clips are copied to ``out_dir/noise``, a ``.gitignore`` keeps the corpus (its
    licence is its own) out of git wherever it lies, and :data:`IMPORT_MARKER` says where it came
    from. Training reads it with ``--set data.corpus=<its folder name under data/, or its path>``.
    All-zero recordings are skipped. The folder is built under a hidden temporary name and takes its name at the end
    (``files.atomic_dir``); it replaces only an earlier import, and only with ``overwrite``.
    ``workers`` processes convert the files; they are spawned, so a script that calls this needs
    the usual ``if __name__ == "__main__":`` guard. Returns the manifest rows.

    Raises:
        ValueError: an unknown ``name``; ``workers`` < 1; ``out_dir`` is the corpus folder, inside it
            or around it; too few speakers (:func:`speaker_splits`); or what :func:`vctk` and
            :func:`daps_clean` raise.
        FileExistsError: ``out_dir`` exists and is not an earlier import, or is one and ``overwrite`` is
            false, or holds files that import did not write (checked before and after the conversion).
    """
    from hifigan_edu.data import corpus  # reads and writes audio: imported only for a conversion
    from hifigan_edu.files import atomic_dir

    if name not in IMPORTABLE:
        raise ValueError(f"can import {', '.join(IMPORTABLE)}, not {name!r}")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    source, out = Path(root).expanduser().resolve(), Path(out_dir).expanduser().resolve()
    if out == source or source in out.parents or out in source.parents:
        raise ValueError(f"--out {out} would write into the corpus at {source} (or replace it): choose a folder outside it")
    _check_replaceable(out, overwrite)
    found = vctk(source, mic) if name == "vctk" else daps_clean(source)
    splits = speaker_splits({u.speaker: u.gender for u in found})
    with atomic_dir(out) as partial:
        (partial / ".gitignore").write_text("*\n")
        (partial / IMPORT_MARKER).write_text(f"{name} {source}\n")
        jobs = [(u, splits[u.speaker], name, partial) for u in found]
        # spawned, not forked: a fork of a process whose torch threads have run can hang in the resampler
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            converted = pool.map(_import_one, *zip(*jobs), chunksize=16)
            rows = [row for row in tqdm(converted, total=len(jobs), desc=f"importing {name}", unit="file") if row is not None]
        if not rows:
            raise ValueError(f"every recording under {source} is silent; check the files")
        corpus.write_manifest(partial / "manifest.csv", rows, corpus.MANIFEST_FIELDS)
        for row in corpus.read_manifest(corpus.STARTER_DIR / "noise_manifest.csv"):
            (partial / row["path"]).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(corpus.STARTER_DIR / row["path"], partial / row["path"])
        shutil.copyfile(corpus.STARTER_DIR / "noise_manifest.csv", partial / "noise_manifest.csv")
        _check_replaceable(out, overwrite)  # again: the conversion may have taken hours
    return rows


def _check_replaceable(out: Path, overwrite: bool) -> None:
    """Raise FileExistsError unless ``out`` is absent, an empty folder, or (with ``overwrite``) an earlier
    import holding nothing but what that import wrote."""
    from hifigan_edu.data import corpus

    if not out.exists() or (out.is_dir() and not any(out.iterdir())):
        return
    if not (out / IMPORT_MARKER).is_file():
        raise FileExistsError(f"{out} exists and is not a corpus `data import` wrote: choose another --out (nothing was changed)")
    if not overwrite:
        raise FileExistsError(f"{out} holds an earlier import; pass --overwrite to replace it (at the end), or choose another --out")
    listed = {out / row.get("path", "") for m in out.glob("*manifest.csv") for row in corpus.read_manifest(m)}
    listed |= {out / n for n in (".gitignore", IMPORT_MARKER, "manifest.csv", "noise_manifest.csv")}
    others = sorted(str(f) for f in out.rglob("*") if f.is_file() and f not in listed)
    if others:
        raise FileExistsError(f"{out} holds an earlier import and {len(others)} file(s) it did not write "
                              f"({_preview(others, 3)}): move them out first (nothing was changed)")  # fmt: skip


def _import_one(utterance: Utterance, split: str, name: str, out_dir: Path) -> dict[str, object] | None:
    """Convert one recording (see :func:`import_speech`); its manifest row, or None if it is all zeros."""
    from hifigan_edu.audio import AudioConversionWarning, load
    from hifigan_edu.data import corpus

    with warnings.catch_warnings():  # every file of these corpora is resampled (48 or 44.1 kHz); say nothing each time
        warnings.simplefilter("ignore", AudioConversionWarning)
        x = load(utterance.path)
    if not x.any():
        return None
    return corpus.write_utterance(out_dir, Path("speech") / utterance.speaker / f"{utterance.id}.flac", corpus.normalize(x),
                                  utterance_id=utterance.id, speaker=utterance.speaker, gender=utterance.gender or "",
                                  engine=name, split=split, licence=IMPORTABLE[name], text=utterance.text or "")  # fmt: skip


# -- shared ----------------------------------------------------------------------------


def _by_number(name: str) -> tuple[int, str]:
    """Sort key: the first number in a speaker's name, then the name (``f9`` before ``f10``, ``s5`` before ``p225``)."""
    number = re.search(r"\d+", name)
    return (int(number.group()) if number else -1, name)


def _corpus_dir(root: str | Path, corpus: str, markers: tuple[str, ...], layout: str) -> Path:
    """``root``, or its first subfolder (by name), that holds one of the ``markers`` folders."""
    root = Path(root).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(
            f"{corpus} folder not found: {root}. Pass the folder that holds {layout} "
            "(or the folder its archive was unpacked into)."
        )
    for candidate in (root, *sorted(p for p in root.iterdir() if p.is_dir())):
        if any((candidate / marker).is_dir() for marker in markers):
            return candidate
    raise ValueError(
        f"{root} does not look like {corpus}: expected one of the folders "
        f"{_preview([m + '/' for m in markers], limit=len(markers))} in it or one level down "
        f"({layout}), found {_preview(_listing(root))}."
    )


def _require_dirs(base: Path, corpus: str, names: list[str]) -> list[Path]:
    """``base / name`` for each name, or a ValueError that lists the missing folders."""
    missing = [name + "/" for name in names if not (base / name).is_dir()]
    if missing:
        raise ValueError(
            f"{base} does not have the {corpus} folders asked for: missing "
            f"{_preview(missing, limit=len(missing))}, found {_preview(_listing(base))}."
        )
    return [base / name for name in names]


def _index(folder: Path, pattern: str, example: str) -> dict[str, Path]:
    """Files under ``folder`` (recursively) whose name fully matches ``pattern``, by its ``key`` group.

    ``example`` is a file name that matches, for the error raised when none does.
    """
    regex = re.compile(pattern)
    found: dict[str, Path] = {}
    for path in folder.rglob("*"):
        match = regex.fullmatch(path.name)
        if match is None or not path.is_file():
            continue
        key = match["key"]
        if key in found:
            first, second = sorted([found[key], path])
            raise ValueError(f"two files for {key}: {first} and {second}; delete one")
        found[key] = path
    if not found:
        raise ValueError(
            f"no files named like {example} in {folder} or its subfolders; found "
            f"{_preview(_listing(folder))}. Check that the corpus was unpacked completely."
        )
    return found


def _pair(degraded: dict[str, Path], clean: dict[str, Path], condition: str) -> list[Pair]:
    """Join two indexes that share their keys into Pairs sorted by id; every file needs a partner."""
    lonely_degraded = [str(degraded[k]) for k in sorted(degraded.keys() - clean.keys())]
    lonely_clean = [str(clean[k]) for k in sorted(clean.keys() - degraded.keys())]
    if lonely_degraded or lonely_clean:
        raise ValueError(
            f"{condition}: {len(lonely_degraded)} degraded file(s) without a clean partner "
            f"({_preview(lonely_degraded)}) and {len(lonely_clean)} clean file(s) without a "
            f"degraded partner ({_preview(lonely_clean)}). Restore the missing files (re-extract "
            "the archive) or delete the unpaired ones."
        )
    return [
        Pair(path.stem, _speaker(key), path, clean[key], condition)
        for key, path in sorted(degraded.items(), key=lambda item: item[1].stem)
    ]


def _read_text(path: Path) -> str:
    """A text file's contents, stripped; bytes that are not UTF-8 become U+FFFD."""
    return path.read_text(encoding="utf-8", errors="replace").strip()


def _speaker(key: str) -> str:
    """Speaker of a file key: the part before the first ``_`` (``p225_001`` -> ``p225``)."""
    return key.partition("_")[0]


def _listing(folder: Path) -> list[str]:
    """Sorted names in ``folder``, folders marked with a trailing ``/``."""
    return sorted(p.name + "/" if p.is_dir() else p.name for p in folder.iterdir())


def _preview(names: list[str], limit: int = 5) -> str:
    """``names`` as a short comma-separated list, e.g. ``"a, b and 3 more"``; ``"nothing"`` if empty."""
    if not names:
        return "nothing"
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown} and {len(names) - limit} more"
