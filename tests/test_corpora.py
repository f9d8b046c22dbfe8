"""Tests for hifigan_edu.data.corpora on tiny corpus trees built in tmp_path (no real data)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from hifigan_edu.data import corpora, corpus
from hifigan_edu.data.corpora import Pair, Utterance

SR = 16_000


def write_audio(path: Path, seed: int = 0) -> None:
    """A 10 ms sine plus a little noise, as WAV or FLAC from the suffix."""
    rng = np.random.default_rng(seed)
    t = np.arange(SR // 100) / SR
    x = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.01 * rng.standard_normal(t.size)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, x.astype(np.float32), SR)


def write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


# -- fixture trees -----------------------------------------------------------------------


def make_vctk092(root: Path) -> Path:
    """p225 (F) and p226 (M), two sentences each, written out of order.

    p226_002 has no mic2 file and no transcript; a log file and a macOS ``._`` file must be skipped.
    """
    wav = root / "wav48_silence_trimmed"
    for key, mics in [("p226_002", ["mic1"]), ("p225_002", ["mic1", "mic2"]),
                      ("p226_001", ["mic1", "mic2"]), ("p225_001", ["mic1", "mic2"])]:
        for mic in mics:
            write_audio(wav / key[:4] / f"{key}_{mic}.flac")
    write_text(wav / "log.txt", "not audio\n")
    write_text(wav / "p225" / "._p225_001_mic1.flac", "macOS resource fork")
    for key in ["p225_001", "p225_002", "p226_001"]:
        write_text(root / "txt" / key[:4] / f"{key}.txt", f"Sentence {key}.\n")
    write_text(
        root / "speaker-info.txt",
        "ID  AGE  GENDER  ACCENTS  REGION COMMENTS\n"
        "p225  23  F    English    Southern  England\n"
        "p226  22  M    English    Surrey\n",
    )
    return root


def make_vctk_old(root: Path) -> Path:
    for key in ["p225_001", "p225_002"]:
        write_audio(root / "wav48" / "p225" / f"{key}.wav")
        write_text(root / "txt" / "p225" / f"{key}.txt", "Please call Stella.\n")
    write_text(
        root / "speaker-info.txt",  # the older release writes IDs without the "p"
        "ID  AGE  GENDER  ACCENTS  REGION\n225  23  F    English    Southern  England\n",
    )
    return root


DEMAND_TEST = ["p257_001", "p232_002", "p232_001"]


def make_demand(root: Path, trainsets: tuple[str, ...] = ("28spk",)) -> Path:
    for key in DEMAND_TEST:
        for kind in ("noisy", "clean"):
            write_audio(root / f"{kind}_testset_wav" / f"{key}.wav", seed=kind == "noisy")
    for trainset in trainsets:
        for kind in ("noisy", "clean"):
            write_audio(root / f"{kind}_trainset_{trainset}_wav" / "p226_001.wav")
    write_text(root / "testset_txt" / "p232_001.txt", "Please call Stella.\n")
    return root


DAPS_KEYS = ["m1_script2", "f1_script1", "m1_script1", "f1_script2"]
DAPS_CONDITIONS = ("ipad_livingroom1", "iphone_balcony1", "produced")


def make_daps(root: Path, conditions: tuple[str, ...] = DAPS_CONDITIONS) -> Path:
    """root/daps/... as daps.tar.gz unpacks, with a macOS ``._`` file in clean/."""
    daps = root / "daps"
    for key in DAPS_KEYS:
        for folder in ("clean", *conditions):
            write_audio(daps / folder / f"{key}_{folder}.wav")
    write_text(daps / "clean" / "._f1_script1_clean.wav", "macOS resource fork")
    write_text(daps / "README.txt", "DAPS\n")
    return root


# -- VCTK --------------------------------------------------------------------------------


def test_vctk_092_mic1(tmp_path):
    utts = corpora.vctk(make_vctk092(tmp_path))
    assert [u.id for u in utts] == ["p225_001", "p225_002", "p226_001", "p226_002"]
    assert utts[0] == Utterance(
        "p225_001",
        "p225",
        tmp_path / "wav48_silence_trimmed/p225/p225_001_mic1.flac",
        "F",
        "Sentence p225_001.",
    )
    assert [(u.speaker, u.gender) for u in utts[1:]] == [("p225", "F"), ("p226", "M"), ("p226", "M")]
    assert utts[3].text is None  # no transcript on disk


def test_vctk_092_mic2_skips_missing_recordings(tmp_path):
    utts = corpora.vctk(make_vctk092(tmp_path), mic="mic2")
    assert [u.id for u in utts] == ["p225_001", "p225_002", "p226_001"]
    assert all(u.path.name.endswith("_mic2.flac") for u in utts)


def test_vctk_older_layout(tmp_path):
    utts = corpora.vctk(make_vctk_old(tmp_path))
    assert [(u.id, u.speaker, u.gender, u.text) for u in utts] == [
        ("p225_001", "p225", "F", "Please call Stella."),
        ("p225_002", "p225", "F", "Please call Stella."),
    ]
    assert utts[0].path == tmp_path / "wav48/p225/p225_001.wav"


def test_vctk_without_speaker_info_has_no_gender(tmp_path):
    root = make_vctk_old(tmp_path)
    (root / "speaker-info.txt").unlink()
    assert {u.gender for u in corpora.vctk(root)} == {None}


def test_vctk_root_may_be_the_unpacked_archive_folder(tmp_path):
    make_vctk092(tmp_path / "VCTK-Corpus-0.92")
    assert len(corpora.vctk(tmp_path)) == 4


# -- VCTK-DEMAND -------------------------------------------------------------------------


def test_vctk_demand_test_split(tmp_path):
    pairs = corpora.vctk_demand(make_demand(tmp_path), split="test")
    assert [p.id for p in pairs] == sorted(DEMAND_TEST)
    assert pairs[0] == Pair(
        "p232_001",
        "p232",
        tmp_path / "noisy_testset_wav/p232_001.wav",
        tmp_path / "clean_testset_wav/p232_001.wav",
        "noisy_testset_wav",
    )
    assert [p.speaker for p in pairs] == ["p232", "p232", "p257"]
    assert all(p.degraded.name == p.clean.name for p in pairs)


@pytest.mark.parametrize("trainset", ["28spk", "56spk"])
def test_vctk_demand_train_finds_the_trainset_present(tmp_path, trainset):
    pairs = corpora.vctk_demand(make_demand(tmp_path, trainsets=(trainset,)))
    assert [(p.id, p.condition) for p in pairs] == [("p226_001", f"noisy_trainset_{trainset}_wav")]
    assert corpora.vctk_demand(tmp_path, split=f"train_{trainset}") == pairs


# -- DAPS --------------------------------------------------------------------------------


def test_daps_all_device_conditions(tmp_path):
    pairs = corpora.daps(make_daps(tmp_path))
    assert len(pairs) == 8  # 4 recordings x 2 device conditions; produced/ only when asked for
    assert [p.id for p in pairs] == sorted(p.id for p in pairs)
    assert {p.condition for p in pairs} == {"ipad_livingroom1", "iphone_balcony1"}
    first = pairs[0]
    assert first == Pair(
        "f1_script1_ipad_livingroom1",
        "f1",
        tmp_path / "daps/ipad_livingroom1/f1_script1_ipad_livingroom1.wav",
        tmp_path / "daps/clean/f1_script1_clean.wav",
        "ipad_livingroom1",
    )
    for p in pairs:  # same speaker and script on both sides
        assert p.clean.name == p.degraded.name.replace(p.condition, "clean")


@pytest.mark.parametrize("condition", ["iphone_balcony1", "produced"])
def test_daps_one_condition(tmp_path, condition):
    pairs = corpora.daps(make_daps(tmp_path) / "daps", condition=condition)
    assert [p.id for p in pairs] == sorted(f"{k}_{condition}" for k in DAPS_KEYS)
    assert {p.condition for p in pairs} == {condition}


def test_daps_clean(tmp_path):
    utts = corpora.daps_clean(make_daps(tmp_path))
    assert [(u.id, u.speaker, u.gender, u.text) for u in utts] == [
        ("f1_script1", "f1", "F", None),
        ("f1_script2", "f1", "F", None),
        ("m1_script1", "m1", "M", None),
        ("m1_script2", "m1", "M", None),
    ]
    assert utts[0].path == tmp_path / "daps/clean/f1_script1_clean.wav"


# -- ordering ----------------------------------------------------------------------------


def test_results_do_not_depend_on_creation_order(tmp_path):
    """Two trees with the same files written in opposite orders index identically, sorted by id."""
    trees = []
    for name, keys in [("a", DEMAND_TEST), ("b", DEMAND_TEST[::-1])]:
        for key in keys:
            for kind in ("noisy", "clean"):
                write_audio(tmp_path / name / f"{kind}_testset_wav" / f"{key}.wav")
        pairs = corpora.vctk_demand(tmp_path / name, "test")
        trees.append([(p.id, p.degraded.name, p.clean.name) for p in pairs])
    assert trees[0] == trees[1] == sorted(trees[0])
    assert corpora.daps(make_daps(tmp_path / "c")) == corpora.daps(tmp_path / "c")


# -- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize("loader", [corpora.vctk, corpora.vctk_demand, corpora.daps, corpora.daps_clean])
def test_missing_root_names_the_path_and_layout(tmp_path, loader):
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError, match=re.escape(str(missing))) as err:
        loader(missing)
    assert "Pass the folder that holds" in str(err.value)


@pytest.mark.parametrize(
    ("loader", "expected"),
    [
        (corpora.vctk, "wav48_silence_trimmed/, wav48/"),
        (corpora.vctk_demand, "noisy_trainset_28spk_wav/"),
        (corpora.daps, "clean/"),
        (corpora.daps_clean, "clean/"),
    ],
)
def test_unrecognised_layout_lists_expected_and_found(tmp_path, loader, expected):
    (tmp_path / "my_recordings").mkdir()
    write_text(tmp_path / "notes.txt", "")
    with pytest.raises(ValueError, match=r"does not look like") as err:
        loader(tmp_path)
    message = str(err.value)
    assert expected in message
    assert "found my_recordings/, notes.txt" in message


@pytest.mark.parametrize(
    ("call", "choices"),
    [
        (lambda root: corpora.vctk(root, mic="mic3"), "mic must be one of ('mic1', 'mic2'), got 'mic3'"),
        (lambda root: corpora.vctk_demand(root, split="dev"), "split must be one of ('train', 'train_28spk'"),
        (lambda root: corpora.daps(root, condition="kitchen"), "condition must be None or one of ('ipad_"),
    ],
)
def test_unknown_choice_lists_valid_choices(tmp_path, call, choices):
    with pytest.raises(ValueError, match=re.escape(choices)):
        call(tmp_path)


def test_vctk_mic2_needs_the_092_layout(tmp_path):
    with pytest.raises(ValueError, match=r"older VCTK-Corpus layout.*use mic='mic1'"):
        corpora.vctk(make_vctk_old(tmp_path), mic="mic2")


def test_vctk_empty_audio_folder(tmp_path):
    (tmp_path / "wav48_silence_trimmed" / "p225").mkdir(parents=True)
    with pytest.raises(ValueError, match=r"no files named like p225_001_mic1.flac in .*found p225/"):
        corpora.vctk(tmp_path)


@pytest.mark.parametrize(
    "remove, orphan, message",
    [
        ("clean_testset_wav/p257_001.wav", "noisy_testset_wav/p257_001.wav", "degraded file(s) without a clean partner"),
        ("noisy_testset_wav/p232_002.wav", "clean_testset_wav/p232_002.wav", "clean file(s) without a degraded partner"),
    ],
)
def test_vctk_demand_unpaired_file_is_named(tmp_path, remove, orphan, message):
    root = make_demand(tmp_path)
    (root / remove).unlink()
    with pytest.raises(ValueError, match=re.escape(f"1 {message}")) as err:
        corpora.vctk_demand(root, "test")
    assert str(root / orphan) in str(err.value)


def test_vctk_demand_missing_split_folder(tmp_path):
    root = make_demand(tmp_path, trainsets=())
    with pytest.raises(ValueError, match=r"missing noisy_trainset_28spk_wav/, clean_trainset_28spk_wav/"):
        corpora.vctk_demand(root)


def test_vctk_demand_train_is_ambiguous_with_both_trainsets(tmp_path):
    root = make_demand(tmp_path, trainsets=("28spk", "56spk"))
    with pytest.raises(ValueError, match=r"both training sets: pass split='train_28spk' or 'train_56spk'"):
        corpora.vctk_demand(root)


def test_daps_device_file_without_clean_names_the_file(tmp_path):
    root = make_daps(tmp_path)
    stray = root / "daps" / "iphone_balcony1" / "f2_script1_iphone_balcony1.wav"
    write_audio(stray)
    with pytest.raises(ValueError, match=r"iphone_balcony1: 1 degraded file\(s\) without a clean") as err:
        corpora.daps(root)
    assert str(stray) in str(err.value)


def test_daps_condition_folder_missing(tmp_path):
    root = make_daps(tmp_path)
    with pytest.raises(ValueError, match=r"missing ipad_office1/, found .*ipad_livingroom1/"):
        corpora.daps(root, condition="ipad_office1")


def test_daps_without_device_folders(tmp_path):
    root = make_daps(tmp_path, conditions=("produced",))
    with pytest.raises(ValueError, match=r"none of the DAPS device folders .*condition='produced'"):
        corpora.daps(root)


def test_duplicate_files_for_one_key(tmp_path):
    root = make_vctk092(tmp_path)
    write_audio(root / "wav48_silence_trimmed" / "extra" / "p225_001_mic1.flac")
    with pytest.raises(ValueError, match=r"two files for p225_001: .* delete one"):
        corpora.vctk(root)


# -- importing a corpus for training -----------------------------------------------------


def write_speech(path: Path, sr: int, seed: int, silent: bool = False) -> None:
    """1.5 s of a tone switched on and off three times a second, between two quiet stretches."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(1.5 * sr)) / sr
    x = 0.2 * np.sin(2 * np.pi * (120 + 10 * seed) * t) * (np.sin(2 * np.pi * 3 * t) > 0)
    x = np.concatenate([np.zeros(sr // 4), x + 1e-4 * rng.standard_normal(t.size), np.zeros(sr // 4)])
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, (0 * x if silent else x).astype(np.float32), sr)


def make_daps_speakers(root: Path, per_gender: int = 3) -> Path:
    """daps/clean/ with ``per_gender`` women and men reading one script each, at 44.1 kHz."""
    for i, speaker in enumerate(f"{g}{n}" for g in "fm" for n in range(1, per_gender + 1)):
        write_speech(root / "daps" / "clean" / f"{speaker}_script1_clean.wav", 44_100, seed=i)
    return root


def test_speaker_splits_hold_out_the_highest_numbered_speaker_of_each_gender():
    genders = {f"{g}{n}": g.upper() for g in "fm" for n in range(1, 11)} | {"x1": None}
    splits = corpora.speaker_splits(genders)
    assert {s for s, split in splits.items() if split == "test"} == {"f10", "m10"}
    assert {s for s, split in splits.items() if split == "valid"} == {"f9", "m9"}
    assert splits["x1"] == "train" and list(splits.values()).count("train") == 17


def test_speaker_splits_order_speakers_by_their_number():
    genders = {"p225": "F", "p228": "F", "s5": "F", "p226": "M", "p227": "M", "p232": "M"}  # VCTK 0.92 has an s5
    assert corpora.speaker_splits(genders) == {"p225": "valid", "p228": "test", "s5": "train",
                                               "p226": "train", "p227": "valid", "p232": "test"}  # fmt: skip


def test_speaker_splits_need_three_speakers_of_each_gender():
    with pytest.raises(ValueError, match=r"at least 3 speakers of known gender; found F 2, M 3 \(of 6 speakers\)"):
        corpora.speaker_splits({"f1": "F", "f2": "F", "m1": "M", "m2": "M", "m3": "M", "x": None})


def test_import_daps_writes_a_corpus_that_training_reads(tmp_path):
    from hifigan_edu import config, train
    from hifigan_edu.audio import load, rms

    root = make_daps_speakers(tmp_path / "source")
    write_speech(root / "daps" / "clean" / "m3_script2_clean.wav", 44_100, seed=9, silent=True)
    before = sorted((p, p.stat().st_mtime_ns) for p in root.rglob("*"))
    rows = corpora.import_speech("daps", root, tmp_path / "daps", workers=1)
    out = tmp_path / "daps"
    assert sorted((p, p.stat().st_mtime_ns) for p in root.rglob("*")) == before  # the source is only read
    assert [(r["speaker"], r["split"]) for r in rows] == [("f1", "train"), ("f2", "valid"), ("f3", "test"),
                                                          ("m1", "train"), ("m2", "valid"), ("m3", "test")]  # fmt: skip
    assert "m3_script2" not in {r["utterance_id"] for r in rows}  # silent: skipped
    assert corpus.verify(out) == [] and (out / "noise" / "babble-train.flac").is_file()
    assert sf.info(out / rows[0]["path"]).samplerate == 16_000
    x = load(out / rows[0]["path"])
    assert 20 * np.log10(rms(x)) == pytest.approx(corpus.TARGET_DBFS, abs=0.01)
    assert len(x) < 1.75 * 16_000  # most of the 0.5 s of silence around the 1.5 s of tone was trimmed
    c = config.load("ci", [f"data.corpus={out}"])
    valid = train.pair_dataset(c, "valid", 0.5, 2)
    assert len(valid.speech) == 2 and valid[1]["degraded"].shape == (1, 8000)


def test_import_vctk_keeps_transcripts_and_genders(tmp_path):
    root = tmp_path / "VCTK-Corpus-0.92"
    info = "ID  AGE  GENDER  ACCENTS  REGION COMMENTS\n"
    for i, (speaker, gender) in enumerate([("p225", "F"), ("p228", "F"), ("p229", "F"), ("p226", "M"), ("p227", "M"), ("p232", "M")]):
        write_speech(root / "wav48_silence_trimmed" / speaker / f"{speaker}_001_mic2.flac", 48_000, seed=i)
        write_text(root / "txt" / speaker / f"{speaker}_001.txt", f"Sentence of {speaker}.\n")
        info += f"{speaker[1:]}  23  {gender}  English  Surrey\n"
    write_text(root / "speaker-info.txt", info)
    rows = corpora.import_speech("vctk", root, tmp_path / "vctk", workers=1, mic="mic2")
    assert [(r["utterance_id"], r["gender"], r["split"], r["text"]) for r in rows][:2] == [
        ("p225_001", "F", "train", "Sentence of p225."), ("p226_001", "M", "train", "Sentence of p226.")]
    assert {r["speaker"] for r in rows if r["split"] == "test"} == {"p229", "p232"}


@pytest.mark.parametrize("out", ["source", "source/daps/converted", "."])
def test_import_never_writes_into_or_over_the_corpus(tmp_path, out):
    root = make_daps_speakers(tmp_path / "source")
    with pytest.raises(ValueError, match="would write into the corpus"):
        corpora.import_speech("daps", root / "daps", tmp_path / out, overwrite=True)
    assert len(list((root / "daps" / "clean").iterdir())) == 6


@pytest.mark.parametrize("other", ["a folder of notes", "the starter corpus", "a header-only manifest"])
def test_import_never_replaces_what_it_did_not_write(tmp_path, other):
    root = make_daps_speakers(tmp_path / "source")
    out = tmp_path / "out"
    if other == "the starter corpus":
        shutil.copytree(corpus.STARTER_DIR, out, ignore=shutil.ignore_patterns("speech", "real"))
    else:
        out.mkdir()
        (out / "notes.txt").write_text("mine")
        if other == "a header-only manifest":
            (out / "manifest.csv").write_text("engine\n")
    before = sorted(p.name for p in out.iterdir())
    with pytest.raises(FileExistsError, match="is not a corpus `data import` wrote"):
        corpora.import_speech("daps", root, out, overwrite=True, workers=1)
    assert sorted(p.name for p in out.iterdir()) == before


def test_import_replaces_an_earlier_import_only_when_asked(tmp_path):
    root = make_daps_speakers(tmp_path / "source")
    out = tmp_path / "daps"
    (tmp_path / "daps.partial").mkdir()
    (tmp_path / "daps.partial" / "keep.txt").write_text("a folder of the user's")
    corpora.import_speech("daps", root, out, workers=1)
    assert (out / corpora.IMPORT_MARKER).read_text() == f"daps {root.resolve()}\n"
    assert (out / ".gitignore").read_text() == "*\n"  # a licensed corpus stays out of git wherever it lies
    with pytest.raises(FileExistsError, match="holds an earlier import; pass --overwrite"):
        corpora.import_speech("daps", root, out)
    (out / "speech" / "f1" / "results.txt").write_text("the user's, not the import's")
    with pytest.raises(FileExistsError, match=r"1 file\(s\) it did not write .*results.txt"):
        corpora.import_speech("daps", root, out, overwrite=True)
    (out / "speech" / "f1" / "results.txt").unlink()
    (out / "speech" / "f1" / "f1_script1.flac").write_bytes(b"changed")
    corpora.import_speech("daps", root, out, overwrite=True, workers=1)
    assert corpus.verify(out) == []  # replaced by the new import
    assert (tmp_path / "daps.partial" / "keep.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["daps", "daps.partial", "source"]


def test_import_needs_a_worker(tmp_path):
    with pytest.raises(ValueError, match="workers must be >= 1, got 0"):
        corpora.import_speech("daps", make_daps_speakers(tmp_path / "source"), tmp_path / "daps", workers=0)


def test_data_corpus_names_a_folder_and_says_how_to_make_a_missing_one(tmp_path, monkeypatch):
    assert corpus.resolve("starter") == corpus.STARTER_DIR
    monkeypatch.setattr(corpus, "DATA_DIR", tmp_path)
    with pytest.raises(FileNotFoundError, match=r"build it with `python -m hifigan_edu data build --preset full`"):
        corpus.resolve("full")
    with pytest.raises(FileNotFoundError, match=r"data import \{daps,vctk\} ROOT --out .*daps.*--set data.corpus=starter"):
        corpus.resolve("daps")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "manifest.csv").write_text("utterance_id\n")
    assert corpus.resolve("mine") == corpus.resolve(str(tmp_path / "mine")) == tmp_path / "mine"


@pytest.mark.parametrize("out, name", [("data/mine", "mine"), ("elsewhere/mine", "{tmp}/elsewhere/mine")])
def test_cli_data_import_says_how_to_train_on_it(tmp_path, capsys, monkeypatch, out, name):
    from hifigan_edu.__main__ import main

    root = make_daps_speakers(tmp_path / "source")
    monkeypatch.setattr(corpus, "DATA_DIR", tmp_path / "data")
    monkeypatch.chdir(tmp_path)  # --out is relative to where the command runs
    main(["data", "import", "daps", str(root), "--out", out, "--workers", "1"])
    printed = capsys.readouterr().out
    assert "imported 6 recordings" in printed and "valid speakers f2, m2; test speakers f3, m3" in printed
    name = name.format(tmp=tmp_path)
    assert f"--set data.corpus={name}\n" in printed and corpus.resolve(name) == tmp_path / out
    main(["data", "info", "--corpus", name])
    assert '"voices": 6' in (printed := capsys.readouterr().out) and "checksums: ok" in printed
    with pytest.raises(SystemExit, match="holds an earlier import; pass --overwrite"):
        main(["data", "import", "daps", str(root), "--out", out])
