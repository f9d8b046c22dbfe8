"""Bad input, as a hostile but fair user gives it: every case ends in a clear message, never in a
traceback, lost data or code run from a file (issue 23's table, case by case)."""

import json
import os
import pathlib
import pickle
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
import torch

from hifigan_edu import audio, config, enhance, files, hifigan, train
from hifigan_edu.__main__ import main


class Payload:
    """Unpickling this object creates the file ``marker``: what a hostile checkpoint could do instead."""

    def __init__(self, marker: pathlib.Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return pathlib.Path.touch, (self.marker,)


@pytest.fixture
def run_dir(tiny_config, tmp_path):
    """A run stopped at step 2 (its checkpoint.pt, generator.pt and metrics.csv)."""
    train.train(tiny_config, tmp_path / "run", max_steps=2, progress=False)
    return tmp_path / "run"


@pytest.fixture
def tiny_json(tiny_config, tmp_path):
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(tiny_config.to_dict()))
    return path


@pytest.fixture
def noisy(tmp_path):
    return audio.save(tmp_path / "noisy.wav", 0.1 * np.random.default_rng(0).standard_normal(8000).astype(np.float32))


def fails(argv, capsys) -> str:
    """What the command line printed when it stopped with an error (SystemExit, not a traceback)."""
    with pytest.raises(SystemExit) as stop:
        main([str(a) for a in argv])
    assert stop.value.code not in (0, None)
    return str(stop.value.code) + capsys.readouterr().err


# ------------------------------------------------------------------ 1. a checkpoint cannot run code


@pytest.mark.parametrize("name", [train.GENERATOR, train.CHECKPOINT])
def test_a_checkpoint_that_would_run_code_is_refused_everywhere(run_dir, tmp_path, noisy, tiny_json, capsys, name):
    state = torch.load(run_dir / name, weights_only=True)
    marker = tmp_path / "ran"
    torch.save(state | {"extra": Payload(marker)}, tmp_path / "evil.pt")  # a working checkpoint, plus the payload
    refused = r"evil.pt was refused: loading it would run Python code \(.*pathlib"
    for argv in (["enhance", noisy, tmp_path / "out.wav", "--checkpoint", tmp_path / "evil.pt"],
                 ["evaluate", "--checkpoint", tmp_path / "evil.pt", "--out", tmp_path / "results"],
                 ["train", "--config", tiny_json, "--run-dir", tmp_path / "new", "--init", tmp_path / "evil.pt"]):  # fmt: skip
        assert "refused: loading it would run Python code" in fails(argv, capsys)
    shutil.copytree(run_dir, tmp_path / "resume")
    shutil.copy(tmp_path / "evil.pt", tmp_path / "resume" / train.CHECKPOINT)
    message = fails(["train", "--config", tiny_json, "--run-dir", tmp_path / "resume", "--resume"], capsys)
    assert "checkpoint.pt was refused: loading it would run Python code" in message
    with pytest.raises(enhance.CheckpointError, match=refused):
        enhance.load_generator(tmp_path / "evil.pt")
    assert not marker.exists() and not (tmp_path / "out.wav").exists() and not (tmp_path / "new" / train.CHECKPOINT).exists()


class Shell:
    """Unpickling this object runs a shell command (``os.system``, pickled as ``posix.system``)."""

    def __init__(self, marker: pathlib.Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


class Call:
    """Unpickling this object runs a program (``subprocess.call``; protocol 2 spells it ``commands.call``)."""

    def __init__(self, marker: pathlib.Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return subprocess.call, (["touch", str(self.marker)],)


@pytest.mark.parametrize("payload, called", [(Shell, "posix.system"), (Call, "subprocess.call")])
@pytest.mark.parametrize("layout", ["legacy", "zip", "zip, protocol 4"])
def test_a_hostile_checkpoint_in_any_layout_names_what_it_would_call(run_dir, tmp_path, noisy, tiny_json, capsys,
                                                                     payload, called, layout):  # fmt: skip
    marker, evil = tmp_path / "ran", tmp_path / "evil.pt"
    options = {"legacy": dict(_use_new_zipfile_serialization=False), "zip": {}, "zip, protocol 4": dict(pickle_protocol=4)}
    torch.save(payload(marker), evil, **options[layout])
    for argv in (["enhance", noisy, tmp_path / "out.wav", "--checkpoint", evil],
                 ["evaluate", "--checkpoint", evil, "--out", tmp_path / "results"],
                 ["train", "--config", tiny_json, "--run-dir", tmp_path / "new", "--init", evil]):  # fmt: skip
        message = fails(argv, capsys)
        assert f"evil.pt was refused: loading it would run Python code ({called})" in message, message
        assert "weights_only" not in message and "truncated" not in message
    shutil.copytree(run_dir, tmp_path / "resume")
    shutil.copy(evil, tmp_path / "resume" / train.CHECKPOINT)
    message = fails(["train", "--config", tiny_json, "--run-dir", tmp_path / "resume", "--resume"], capsys)
    assert f"checkpoint.pt was refused: loading it would run Python code ({called})" in message
    assert not marker.exists()


def test_no_message_repeats_torchs_advice_to_load_unsafely(run_dir, tmp_path, monkeypatch):
    advice = ("Weights only load failed. Re-running `torch.load` with `weights_only` set to `False` will likely succeed, "
              "but it can result in arbitrary code execution.\n\nSomething else went wrong.\n\nCheck the documentation "
              "of torch.load to learn more about types accepted by default with weights_only")  # fmt: skip

    def refuse(*args, **kwargs):
        raise pickle.UnpicklingError(advice)

    monkeypatch.setattr(torch, "load", refuse)
    with pytest.raises(enhance.CheckpointError, match=r"truncated or damaged \(UnpicklingError: Something else went wrong.\)") as err:
        enhance.read_checkpoint(run_dir / train.GENERATOR)
    assert "weights_only" not in str(err.value)
    monkeypatch.undo()
    legacy = tmp_path / "cut.pt"  # a legacy checkpoint cut short: torch names a broken global and advises allowlisting it
    torch.save(torch.load(run_dir / train.GENERATOR, weights_only=True), legacy, _use_new_zipfile_serialization=False)
    legacy.write_bytes(legacy.read_bytes()[:2000])
    with pytest.raises(enhance.CheckpointError, match="truncated or damaged") as err:
        enhance.read_checkpoint(legacy)
    assert not enhance.ADVICE.search(str(err.value).split("(", 1)[1]), err.value


def test_tensor_bytes_are_not_read_as_code(tmp_path):
    # a legacy file's raw tensor bytes follow its pickles: bytes that spell a pickle GLOBAL are data, not code
    path = tmp_path / "bytes.pt"
    raw = bytearray(b"posix\nsystem\n.".ljust(99, b"\0"))  # 99 elements: the byte count's first byte is "c", pickle's GLOBAL
    torch.save({"t": torch.frombuffer(raw, dtype=torch.uint8)}, path, _use_new_zipfile_serialization=False)
    names = enhance.pickled_globals(path.read_bytes(), enhance.LEGACY_PICKLES)
    assert "torch._utils._rebuild_tensor_v2" in names and "posix.system" not in names, names


def test_what_a_run_saves_loads_as_tensors_and_plain_values(run_dir):
    for name in (train.CHECKPOINT, train.GENERATOR):
        assert torch.load(run_dir / name, weights_only=True)["step"] == 2  # would raise on anything else


# ------------------------------------------------------------------ 2. the NaN guard


@pytest.mark.parametrize("assignment, message", [
    ("loss.l1_weight=NaN", "config.loss.l1_weight = nan: should be a finite number"),
    ("stages.wavenet.lr_g=Infinity", "config.stages.wavenet.lr_g = inf: should be a finite number"),
    ("loss.l1_weight=-1", "loss.l1_weight must be >= 0"),
    ("stages.adversarial.lr_d=-1e-3", "stages.adversarial: steps, lr_g, lr_d and d_steps must be >= 0"),
    ("stages.wavenet.lr_g=1e30", r"stages.wavenet.lr_g must lie in \(0, 1\]"),
    ("stages.wavenet.lr_g=0", r"stages.wavenet.lr_g must lie in \(0, 1\]"),
    ("train.seed=-1", r"train.seed must lie in \[0, 2\*\*32\)"),
    ("train.seed=99999999999999999999999", r"train.seed must lie in \[0, 2\*\*32\)"),
    ("loss.l1_weight=1" + "0" * 400, "should be a finite number"),
    ("data.snr_range=[25,-5]", r"data.snr_range must be \[low, high\] with low <= high"),
])  # fmt: skip
def test_impossible_values_are_refused_by_the_config_check(tiny_config, tiny_json, tmp_path, assignment, message):
    with pytest.raises(config.ConfigError, match=message):
        config.override(tiny_config, [assignment])
    key, _, value = assignment.partition("=")  # the same value in a JSON file
    data = json.loads(tiny_json.read_text())
    *parents, last = key.split(".")
    node = data
    for part in parents:
        node = node[part]
    node[last] = json.loads(value)
    (tmp_path / "bad.json").write_text(json.dumps(data))  # json.dumps writes NaN and Infinity as json.loads reads them
    with pytest.raises(config.ConfigError, match=message):
        config.load(tmp_path / "bad.json")


def poison_every_second_update(monkeypatch, value: float) -> list:
    """Make every second Adam update fill the weights it trains with ``value`` after a finite
    loss and gradient (the tiny config checkpoints every 2 steps); returns the list of calls."""
    step, calls = torch.optim.Adam.step, []

    def poisoned(self, *args, **kwargs):
        out = step(self, *args, **kwargs)
        calls.append(1)
        if len(calls) % 2 == 0:
            with torch.no_grad():
                for p in self.param_groups[0]["params"]:
                    p.fill_(value)
        return out

    monkeypatch.setattr(torch.optim.Adam, "step", poisoned)
    return calls


def test_no_checkpoint_holds_a_non_finite_weight_and_the_message_says_what_is_on_disk(tiny_config, tmp_path, monkeypatch):
    poison_every_second_update(monkeypatch, float("nan"))
    with pytest.raises(train.NonFiniteLoss, match=r"after step 2 \(wavenet\): [\d,]+ of the [\d,]+ generator weights are NaN.*"
                                                  r"no checkpoint was written, so there is nothing to resume"):  # fmt: skip
        train.train(tiny_config, tmp_path / "fresh", progress=False)
    assert not (tmp_path / "fresh" / train.CHECKPOINT).exists() and not (tmp_path / "fresh" / train.GENERATOR).exists()
    monkeypatch.undo()
    train.train(tiny_config, tmp_path / "run", max_steps=2, progress=False)
    good = (tmp_path / "run" / train.CHECKPOINT).read_bytes()
    poison_every_second_update(monkeypatch, float("nan"))
    with pytest.raises(train.NonFiniteLoss, match=r"after step 4 \(postnet\).*checkpoint.pt holds step 2, the last checkpoint"):
        train.train(tiny_config, tmp_path / "run", resume=True, progress=False)
    assert (tmp_path / "run" / train.CHECKPOINT).read_bytes() == good


def test_huge_finite_weights_whose_output_is_not_finite_are_not_saved(tiny_config, tmp_path, monkeypatch):
    poison_every_second_update(monkeypatch, 1e30)  # finite, but the output overflows
    with pytest.raises(train.NonFiniteLoss, match=r"after step 2 .*the generator's output on a validation clip has [\d,]+ NaN or infinite"):
        train.train(tiny_config, tmp_path, progress=False)
    assert not (tmp_path / train.CHECKPOINT).exists()


# ------------------------------------------------------------------ 3. non-finite audio


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_a_nan_or_infinite_input_sample_is_repaired_with_a_note(run_dir, tmp_path, bad):
    x = 0.1 * np.random.default_rng(0).standard_normal(32000).astype(np.float32)
    x[1000] = bad
    sf.write(tmp_path / "float.wav", x, 16000, subtype="FLOAT")
    notes = enhance.enhance_file(tmp_path / "float.wav", tmp_path / "out.wav", run_dir / train.GENERATOR)
    assert any("1 NaN or infinite samples set to 0" in n for n in notes)
    y = audio.load(tmp_path / "out.wav")
    assert np.isfinite(y).all() and np.mean(np.abs(y) >= 0.999) < 0.001


def test_a_generator_with_broken_weights_writes_nothing(run_dir, tmp_path, noisy, capsys):
    state = torch.load(run_dir / train.GENERATOR, weights_only=True)
    first = next(iter(state["generator"]))
    nan = state | {"generator": state["generator"] | {first: torch.full_like(state["generator"][first], float("nan"))}}
    torch.save(nan, tmp_path / "nan.pt")
    assert "generator weights are NaN or infinite" in fails(["enhance", noisy, tmp_path / "a.wav", "--checkpoint", tmp_path / "nan.pt"], capsys)
    torch.save(state | {"generator": {k: torch.full_like(v, 1e30) for k, v in state["generator"].items()}}, tmp_path / "huge.pt")
    assert "the generator's output has" in fails(["enhance", noisy, tmp_path / "b.wav", "--checkpoint", tmp_path / "huge.pt"], capsys)
    assert not (tmp_path / "a.wav").exists() and not (tmp_path / "b.wav").exists()
    with pytest.raises(ValueError, match="NaN or infinite samples; nothing was written"):
        audio.save(tmp_path / "c.wav", np.full(100, np.nan, np.float32))


# ------------------------------------------------------------------ 5. clear messages


@pytest.mark.parametrize("damage, message", [
    ("truncated", "is not a PyTorch checkpoint, or it is truncated or damaged"),
    ("random", r"is not a PyTorch checkpoint, or it is truncated or damaged \(UnpicklingError: Unsupported operand \d+\)"),
    ("empty", r"is not a PyTorch checkpoint, or it is truncated or damaged \(the file is empty\)"),
    ("generator", r"is a generator export \(generator.pt\).*--init"),
    ("no stage_objects", "is a hifigan-checkpoint without its stage_objects"),
])  # fmt: skip
def test_resume_from_a_damaged_checkpoint_says_so(run_dir, tiny_json, capsys, damage, message):
    path = run_dir / train.CHECKPOINT
    data = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "random":
        path.write_bytes(np.random.default_rng(0).bytes(1000))
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "generator":
        shutil.copy(run_dir / train.GENERATOR, path)
    else:
        state = torch.load(path, weights_only=True)
        del state["stage_objects"]
        torch.save(state, path)
    assert re.search(message, fails(["train", "--config", tiny_json, "--run-dir", run_dir, "--resume"], capsys))
    with pytest.raises(enhance.CheckpointError, match=message):
        train.train(config.load(tiny_json), run_dir, resume=True, progress=False)


def test_a_run_checkpoint_of_an_older_version_says_what_to_do(run_dir, tiny_json, capsys):
    state = torch.load(run_dir / train.CHECKPOINT, weights_only=True)
    state["rng"]["numpy"] = np.random.get_state()  # as checkpoints stored it before: a numpy array inside
    torch.save(state, run_dir / train.CHECKPOINT)
    message = fails(["train", "--config", tiny_json, "--run-dir", run_dir, "--resume"], capsys)
    assert "was written by a hifigan-edu from before checkpoints held only plain values" in message and "--init" in message


def test_a_failed_export_still_reports_the_checkpoint_it_wrote(tiny_config, tmp_path, monkeypatch):
    save = torch.save

    def full(obj, f, *args, **kwargs):  # the disk fills up between checkpoint.pt and generator.pt
        if ".generator." in str(f):
            raise OSError(28, "No space left on device", str(f))
        return save(obj, f, *args, **kwargs)

    monkeypatch.setattr(torch, "save", full)
    with pytest.raises(files.CannotWrite, match=r"generator.pt: no space left.*checkpoint.pt holds step 2, the last checkpoint"):
        train.train(tiny_config, tmp_path, progress=False)
    assert torch.load(tmp_path / train.CHECKPOINT, weights_only=True)["step"] == 2


def test_a_header_without_audio_and_a_huge_chunk(run_dir, tmp_path):
    audio.save(tmp_path / "full.wav", np.zeros(48000, np.float32))
    (tmp_path / "empty.wav").write_bytes((tmp_path / "full.wav").read_bytes()[:44])  # the header alone
    with pytest.raises(ValueError, match="empty.wav holds no audio"):
        enhance.enhance_file(tmp_path / "empty.wav", tmp_path / "out.wav", run_dir / train.GENERATOR)
    G = enhance.load_generator(run_dir / train.GENERATOR)[0]
    x = 0.1 * np.random.default_rng(0).standard_normal(4000).astype(np.float32)
    np.testing.assert_array_equal(enhance.enhance(G, x, chunk_s=1e305), enhance.enhance(G, x, chunk_s=10.0))  # one chunk


def test_a_checkpoint_without_its_config_says_so(run_dir, tmp_path, noisy, capsys):
    state = torch.load(run_dir / train.GENERATOR, weights_only=True)
    del state["config"]
    torch.save(state, tmp_path / "noconfig.pt")
    assert "is a hifigan-generator without its config" in fails(["enhance", noisy, tmp_path / "o.wav", "--checkpoint", tmp_path / "noconfig.pt"], capsys)


def test_the_output_path_is_checked_before_the_enhancement(run_dir, tmp_path, noisy, capsys, monkeypatch):
    monkeypatch.setattr(enhance, "load_enhancer", lambda *a: pytest.fail("enhanced before checking the output path"))
    (tmp_path / "folder.wav").mkdir()
    (tmp_path / "folder.wav" / "keep").write_text("mine")
    assert "folder.wav: it is a folder" in fails(["enhance", noisy, tmp_path / "folder.wav", "--overwrite"], capsys)
    assert (tmp_path / "folder.wav" / "keep").read_text() == "mine"
    (tmp_path / "afile").write_text("mine")
    assert "afile is a file, not a folder" in fails(["enhance", noisy, tmp_path / "afile" / "out.wav"], capsys)
    assert (tmp_path / "afile").read_text() == "mine"


@pytest.mark.parametrize("argv, message", [
    (["enhance", "in.wav", "out.wav", "--chunk-s", "inf"], "argument --chunk-s: 'inf' is not a finite number of seconds >= 0.1"),
    (["enhance", "in.wav", "out.wav", "--chunk-s", "nan"], "argument --chunk-s: 'nan' is not a finite number"),
    (["enhance", "in.wav", "out.wav", "--chunk-s", "1e-300"], "argument --chunk-s: '1e-300' is not a finite number"),
    (["train", "--max-steps", "0"], "argument --max-steps: '0' is not a whole number of steps >= 1"),
    (["train", "--max-steps", "-5"], "argument --max-steps: '-5' is not a whole number of steps >= 1"),
    (["train", "--max-minutes", "nan"], "argument --max-minutes: 'nan' is not a finite number of minutes >= 0"),
])  # fmt: skip
def test_impossible_numbers_on_the_command_line_are_refused(capsys, argv, message):
    assert message in fails(argv, capsys)


def test_an_input_that_is_not_a_file_is_named_for_what_it_is(run_dir, tmp_path, noisy, capsys):
    (tmp_path / "folder").mkdir()
    out = tmp_path / "out.wav"
    assert "folder is a folder, not an audio file; give the path of one inside it" in fails(["enhance", tmp_path / "folder", out], capsys)
    assert "/dev/zero is a device, not an audio file" in fails(["enhance", "/dev/zero", out], capsys)
    for argv in (["enhance", noisy, out, "--checkpoint", tmp_path / "folder"], ["evaluate", "--checkpoint", "/dev/null", "--out", tmp_path]):
        assert re.search(r"(folder is a folder|/dev/null is a device), not a checkpoint file", fails(argv, capsys))
    assert "not found" in fails(["enhance", tmp_path / "none.wav", out], capsys) and not out.exists()


CHATTR = shutil.which("chattr") and shutil.which("lsattr") and os.geteuid() == 0


@pytest.mark.skipif(not CHATTR, reason="needs chattr and root to mark a file immutable")
@pytest.mark.parametrize("flag, name", [("i", "immutable"), ("a", "append-only")])
def test_an_immutable_output_is_named_not_its_folder(run_dir, tmp_path, noisy, capsys, flag, name):
    locked = tmp_path / "locked.wav"
    locked.write_bytes(b"mine")
    if subprocess.run(["chattr", f"+{flag}", locked], capture_output=True).returncode:
        pytest.skip(f"this file system has no {name} flag")
    try:
        message = fails(["enhance", noisy, locked, "--overwrite", "--checkpoint", run_dir / train.GENERATOR], capsys)
        (tmp_path / "later.wav").write_bytes(b"old")
        with pytest.raises(files.CannotWrite, match=f"later.wav is marked {name}"):  # locked after the check: the replace fails
            with files.atomic_path(tmp_path / "later.wav") as tmp:
                tmp.write_bytes(b"new")
                subprocess.run(["chattr", f"+{flag}", tmp_path / "later.wav"], check=True)
    finally:
        subprocess.run(["chattr", f"-{flag}", locked, tmp_path / "later.wav"], capture_output=True)
    assert f"cannot write {locked}: the file {locked} is marked {name} (chattr +{flag})" in message
    assert f"chattr -{flag} {locked}" in message and "no permission" not in message
    assert locked.read_bytes() == b"mine" and (tmp_path / "later.wav").read_bytes() == b"old"


def test_impossible_limits_are_refused_by_train_itself(tiny_config, tmp_path):
    for kwargs in (dict(max_steps=0), dict(max_steps=-5), dict(max_minutes=float("nan")), dict(max_minutes=-1.0)):
        with pytest.raises(ValueError, match="must be"):
            train.train(tiny_config, tmp_path, progress=False, **kwargs)
    assert not tmp_path.joinpath(train.METRICS).exists()


def test_a_truncated_wav_is_enhanced_with_a_note(run_dir, tmp_path):
    audio.save(tmp_path / "full.wav", 0.1 * np.random.default_rng(0).standard_normal(48000).astype(np.float32))
    (tmp_path / "cut.wav").write_bytes((tmp_path / "full.wav").read_bytes()[: 44 + 48000])  # 1.5 s of the 3 s promised
    notes = enhance.enhance_file(tmp_path / "cut.wav", tmp_path / "out.wav", run_dir / train.GENERATOR)
    assert any("truncated: its header promises 3.00 s but it holds 1.50 s" in n for n in notes)
    assert len(audio.load(tmp_path / "out.wav")) == 24000


def test_leftovers_of_a_killed_write_are_cleaned_on_the_next_start(tiny_config, run_dir):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout.strip()
    leftover = run_dir / f".checkpoint.{dead}.part.pt"
    leftover.write_bytes(b"")
    mine = run_dir / ".checkpoint.1.part.pt"  # a running process's (init): not touched
    mine.write_bytes(b"")
    train.train(tiny_config, run_dir, resume=True, max_steps=1, progress=False)
    assert not leftover.exists() and mine.exists()


def test_a_failing_clean_up_does_not_hide_the_first_error(tmp_path, monkeypatch):
    def unlink(self, missing_ok=False):
        raise OSError(30, "Read-only file system", str(self))

    monkeypatch.setattr(pathlib.Path, "unlink", unlink)
    with pytest.raises(RuntimeError, match="the writer's own error"):
        with files.atomic_path(tmp_path / "x.txt") as tmp:
            tmp.write_text("half")
            raise RuntimeError("the writer's own error")


# ------------------------------------------------------------------ 5. a full or read-only disk (real mounts)

MOUNTS = shutil.which("unshare") and subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode == 0


@pytest.mark.skipif(not MOUNTS, reason="needs `unshare -m` (a mount namespace, as root) to mount a small or read-only tmpfs")
def test_a_full_or_read_only_disk_gets_a_message_with_the_path(run_dir, tiny_json, noisy, tmp_path):
    script = f"""
set -u
mkdir -p {tmp_path}/full {tmp_path}/ro {tmp_path}/small
mount -t tmpfs -o size=256k tmpfs {tmp_path}/full && mount -t tmpfs -o ro tmpfs {tmp_path}/ro || exit 99
mount -t tmpfs -o size=76k tmpfs {tmp_path}/small || exit 99  # room for the 64 KiB spare, not for 16 kB more
cd {pathlib.Path(__file__).parent.parent}
py="{sys.executable} -m hifigan_edu"
$py train --config {tiny_json} --run-dir {tmp_path}/full/run 2>&1 | grep -E "^error:|Traceback"
$py train --config {tiny_json} --run-dir {tmp_path}/ro/run 2>&1 | grep -E "^error:|Traceback"
$py enhance {noisy} {tmp_path}/small/out.wav --checkpoint {run_dir / train.GENERATOR} 2>&1 | grep -E "^error:|Traceback"
$py enhance {noisy} {tmp_path}/ro/out.wav --checkpoint {run_dir / train.GENERATOR} 2>&1 | grep -E "^error:|Traceback"
ls -a {tmp_path}/full {tmp_path}/full/run {tmp_path}/small
"""
    out = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=300)
    if out.returncode == 99:
        pytest.skip("tmpfs cannot be mounted here")
    lines = out.stdout.splitlines()
    assert "Traceback" not in out.stdout, out.stdout  # each command prints its error line, or its traceback
    assert f"error: cannot write {tmp_path}/full/run/" in lines[0] and "no space left on its disk" in lines[0], lines
    assert "Training stopped at step" in lines[0] and ("holds step" in lines[0] or "no checkpoint was written" in lines[0]), lines
    assert lines[1] == f"error: cannot make the folder {tmp_path}/ro/run: its disk is mounted read-only; choose a folder on another disk"
    assert lines[2] == (f"error: cannot write {tmp_path}/small/out.wav: its disk has 0.08 MB free, it needs 0.02 MB "
                        "(64 KiB kept spare); free some space or choose another disk")
    assert lines[3] == f"error: cannot write {tmp_path}/ro/out.wav: its disk is mounted read-only; choose a folder on another disk"
    assert not [name for name in lines[4:] if ".part" in name], lines  # no half-written file left behind


def test_save_checkpoint_refuses_non_finite_weights(tiny_config, tmp_path):
    G, D = hifigan.build(tiny_config)
    with torch.no_grad():
        D.parameters().__next__()[0] = float("inf")
    run = train.Run(tiny_config, G, D)
    with pytest.raises(train.NonFiniteLoss, match=r"\d+ of the [\d,]+ discriminators weights are NaN or infinite"):
        train.save_checkpoint(run, tmp_path)
    assert run.saved_step is None and not list(tmp_path.iterdir())
