"""The committed starter corpus: manifests, checksums, splits, licences, and the build's determinism."""

import shutil
import subprocess
import sys

import numpy as np
import pytest

from hifigan_edu.audio import SAMPLE_RATE, load
from hifigan_edu.data import corpus

DIR = corpus.STARTER_DIR


@pytest.fixture(scope="module")
def rows():
    return corpus.utterances(DIR)


def test_committed_files_match_their_manifests():
    assert corpus.verify(DIR) == []
    listed = {r["path"] for m in DIR.glob("*manifest.csv") for r in corpus.read_manifest(m)}
    on_disk = {p.relative_to(DIR).as_posix() for p in DIR.rglob("*.flac")}
    assert on_disk == listed


def test_starter_corpus_meets_its_promises():
    s = corpus.summary(DIR)
    assert s["voices"] >= 10 and s["female"] >= 3 and s["male"] >= 3
    assert s["speech_minutes"] >= 8.0
    assert s["size_mb"] <= 15.0


def test_each_voice_read_the_seconds_of_its_split(rows):
    seconds = corpus.PRESETS["starter"].seconds_per_voice
    for voice in corpus.VOICES:
        durations = [float(r["duration_s"]) for r in rows if r["speaker"] == voice.speaker]
        assert sum(durations[:-1]) < seconds[voice.split] <= sum(durations), voice.speaker  # stopped once it had enough


def test_splits_are_speaker_disjoint_and_fixed(rows):
    split_of = {}
    for r in rows:
        assert split_of.setdefault(r["speaker"], r["split"]) == r["split"]
    assert split_of == {v.speaker: v.split for v in corpus.VOICES}
    for split in ("valid", "test"):
        genders = {v.gender for v in corpus.VOICES if v.split == split}
        assert genders == {"F", "M"}, f"{split} should hold both genders"


def test_every_row_is_complete_and_licensed(rows):
    licences = (DIR.parent / "LICENSES.md").read_text()
    for r in rows + corpus.read_manifest(DIR / "real_manifest.csv"):
        assert all(r[f] for f in corpus.MANIFEST_FIELDS), r
        assert r["licence"].endswith("(see data/LICENSES.md)")
        assert f"`starter/{r['path'].split('/')[0]}/" in licences


def test_audio_is_16k_mono_at_the_target_level(rows):
    for r in rows[::15]:
        x = load(DIR / r["path"])
        assert len(x) / SAMPLE_RATE == pytest.approx(float(r["duration_s"]), abs=1e-3)
        assert 20 * np.log10(np.sqrt(np.mean(x**2))) == pytest.approx(corpus.TARGET_DBFS, abs=0.5)


def test_no_two_voices_read_the_same_sentence(rows):
    texts = [r["text"] for r in rows]
    assert len(texts) == len(set(texts))


@pytest.mark.parametrize("engine", sorted({v.engine for v in corpus.VOICES}))
def test_the_build_reproduces_a_committed_utterance(engine, rows, tmp_path):
    problem = corpus.engine_problem(engine)
    if problem:
        pytest.skip(f"engine not installed here ({problem})")
    row = next(r for r in rows if r["engine"] == engine)
    voice = next(v for v in corpus.VOICES if v.speaker == row["speaker"])
    made = corpus.speak(voice, row["text"], int(row["utterance_id"].rsplit("-", 1)[1]), tmp_path)
    assert {k: str(v) for k, v in made.items()} == row  # the whole manifest row, its checksum included


def test_missing_tools_give_install_instructions_before_any_work(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(corpus.kokoro, "available", lambda: "kokoro: pip install -e '.[data]'")
    monkeypatch.setattr(corpus, "ASTERISK_DIR", tmp_path)
    monkeypatch.setattr(corpus, "build_speech", lambda *a: pytest.fail("the build started before checking its tools"))
    with pytest.raises(RuntimeError) as err:
        corpus.build(corpus.PRESETS["full"])
    message = str(err.value)
    for hint in ("apt-get install flite", "festvox-kdlpc16k", "pip install", "apt-get install ffmpeg",
                 "apt-get install espeak-ng", "asterisk-core-sounds-en-g722", "rhvoice-english", "libttspico-utils",
                 "mbrola-en1", "starter corpus"):  # fmt: skip
        assert hint in message


def test_build_never_replaces_an_existing_corpus_silently(monkeypatch, tmp_path):
    monkeypatch.setattr(corpus, "missing_tools", lambda voices=corpus.VOICES: [])
    preset = corpus.Preset("x", tmp_path, dict(train=1.0, valid=1.0, test=1.0), 1)
    with pytest.raises(FileExistsError, match="--overwrite"):
        corpus.build(preset)


def test_cli_info_reports_and_verifies():
    out = subprocess.run(
        [sys.executable, "-m", "hifigan_edu", "data", "info"], capture_output=True, text=True, check=True,
        cwd=DIR.parents[1],
    ).stdout
    assert '"voices": 21' in out and "checksums: ok" in out


def test_cli_info_on_a_corpus_not_built_says_how_to_build_it(monkeypatch, tmp_path):
    from hifigan_edu.__main__ import main

    monkeypatch.setattr(corpus, "DATA_DIR", tmp_path)
    with pytest.raises(SystemExit, match="data build --preset full"):
        main(["data", "info", "--corpus", "full"])


def test_the_build_reproduces_the_real_split_and_babble(rows, tmp_path):
    missing = corpus.missing_tools()
    if missing:
        pytest.skip("build tools not installed here: " + "; ".join(missing))
    real = corpus.build_real(tmp_path, 2, seed=0)
    assert [{k: str(v) for k, v in r.items()} for r in real] == corpus.read_manifest(DIR / "real_manifest.csv")[:2]
    babble = corpus.build_babble(tmp_path, {r["text"] for r in rows}, seed=0)
    assert [r["sha256"] for r in babble] == [r["sha256"] for r in corpus.read_manifest(DIR / "noise_manifest.csv")]


def test_babble_voices_read_their_own_sentences_and_none_of_the_corpus(rows):
    script = corpus.babble_script({r["text"] for r in rows})
    lines = [s for voices in script.values() for sentences in voices.values() for s in sentences]
    assert len(lines) == len(set(lines)) == corpus.BABBLE_LINES * sum(len(v) for v in corpus.BABBLE_VOICES.values())
    assert not set(lines) & {r["text"] for r in rows}
    assert set(script["train"]).isdisjoint(script["test"])


def test_cli_never_overwrites_the_sentence_list_silently():
    from hifigan_edu.__main__ import main

    before = corpus.SENTENCES_FILE.read_bytes()
    with pytest.raises(SystemExit, match="--overwrite"):
        main(["data", "sentences"])
    assert corpus.SENTENCES_FILE.read_bytes() == before


def test_each_voice_of_the_starter_corpus_read_the_start_of_its_own_reading_list():
    lists = corpus.reading_lists()
    assert len(lists) == len(corpus.VOICES) and not set(lists[0]) & set(lists[1])  # dealt out: no sentence twice
    rows = corpus.utterances(corpus.STARTER_DIR)
    for voice, lines in zip(corpus.VOICES, lists):
        read = [r["text"] for r in sorted(rows, key=lambda r: r["utterance_id"]) if r["speaker"] == voice.speaker]
        assert read and read == lines[: len(read)], voice.speaker


def test_adding_voices_changes_no_reading_list_of_the_first_edition(monkeypatch):
    assert {v.split for v in corpus.VOICES[corpus.FIRST_EDITION :]} == {"train"}  # valid and test never grow
    lists = corpus.reading_lists()
    monkeypatch.setattr(corpus, "VOICES", corpus.VOICES[: corpus.FIRST_EDITION])
    first = corpus.reading_lists()
    assert lists[: corpus.FIRST_EDITION] == first
    assert set(corpus.read_sentences()[: corpus.FIRST_SENTENCES]) == {s for lines in first for s in lines}
    later = {s for lines in lists[corpus.FIRST_EDITION :] for s in lines}
    assert later == set(corpus.read_sentences()[corpus.FIRST_SENTENCES :])


def test_the_recorded_corpus_adds_two_real_training_voices_to_the_starter(rows, tmp_path):
    if not shutil.which("ffmpeg") or not all((corpus.ASTERISK_SOUNDS / str(v.spec)).is_dir() for v in corpus.RECORDED):
        pytest.skip("ffmpeg or the asterisk-core-sounds-{fr,it}-g722 packages are not installed here")
    out = corpus.build_recorded(3.0, out=tmp_path / "recorded")
    added = corpus.utterances(out)[len(rows):]
    assert corpus.utterances(out)[: len(rows)] == rows and corpus.verify(out) == []
    licences = (DIR.parent / "LICENSES.md").read_text()
    for voice in corpus.RECORDED:
        mine = [r for r in added if r["speaker"] == voice.speaker]
        durations = [float(r["duration_s"]) for r in mine]
        assert sum(durations[:-1]) < 3.0 <= sum(durations)  # stopped once it had enough
        assert {(r["split"], r["engine"], r["gender"]) for r in mine} == {("train", "recording", voice.gender)}
        assert f"`recorded/speech/{voice.speaker}`" in licences and all(r["licence"] == voice.licence for r in mine)
        x = load(out / mine[0]["path"])
        assert 20 * np.log10(np.sqrt(np.mean(x**2))) == pytest.approx(corpus.TARGET_DBFS, abs=0.5)
    assert len({r["text"] for r in corpus.utterances(out)}) == len(rows) + len(added)
    with pytest.raises(FileExistsError, match="--overwrite"):
        corpus.build_recorded(3.0, out=out)


def test_the_recorded_corpus_names_the_package_it_misses(monkeypatch, tmp_path):
    monkeypatch.setattr(corpus, "ASTERISK_SOUNDS", tmp_path)
    with pytest.raises(FileNotFoundError, match="apt-get install asterisk-core-sounds-fr-g722"):
        corpus.build_recorded(3.0, out=tmp_path / "recorded")
    assert not (tmp_path / "recorded").exists()


def test_a_missing_recorded_corpus_says_how_to_build_it(monkeypatch, tmp_path):
    monkeypatch.setattr(corpus, "DATA_DIR", tmp_path)
    monkeypatch.setattr(corpus, "RECORDED_DIR", tmp_path / "recorded")
    with pytest.raises(FileNotFoundError, match=r"`python -m hifigan_edu data recorded` \(needs `apt-get install ffmpeg asterisk-core-sounds-fr-g722"):
        corpus.resolve("recorded")
