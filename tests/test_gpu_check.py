"""scripts/gpu_check.py runs end to end (on the CPU, with the ci config)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_gpu_check_prepares_and_runs_on_the_cpu(tmp_path):
    pairs = tmp_path / "pairs.pt"
    script = [sys.executable, str(ROOT / "scripts" / "gpu_check.py"), "--config", "ci", "--pairs", str(pairs)]
    prepared = subprocess.run(script + ["--prepare"], capture_output=True, text=True, cwd=ROOT)
    assert prepared.returncode == 0, prepared.stderr
    run = subprocess.run(script + ["--device", "cpu", "--steps", "1", "--enhance-s", "1"], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("device: CPU") and len(lines) == 5
    assert all("generator steps/s" in line for line in lines[1:4]) and "real-time factor" in lines[4]
    # one stage of another config, with a value changed (bf16 where the device has it, fp32 with a note elsewhere)
    one = subprocess.run(script + ["--device", "cpu", "--steps", "1", "--enhance-s", "1", "--stages", "wavenet",
                                   "--set", "train.precision=bf16"], capture_output=True, text=True, cwd=ROOT)  # fmt: skip
    assert one.returncode == 0, one.stderr
    assert [line.split(":")[0].strip() for line in one.stdout.splitlines() if not line.startswith("note:")] == ["device", "stage wavenet", "enhance"]
    wrong = subprocess.run(script + ["--device", "cpu", "--stages", "warmup"], capture_output=True, text=True, cwd=ROOT)
    assert wrong.returncode != 0 and "--stages: warmup not in config ci" in wrong.stderr


def test_compare_times_todays_path_against_the_faster_ones_side_by_side():
    script = [sys.executable, str(ROOT / "scripts" / "gpu_check.py"), "--config", "ci", "--device", "cpu", "--compare",
              "--steps", "1", "--stages", "wavenet", "postnet", "--rounds", "2"]  # fmt: skip
    run = subprocess.run(script, capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    lines = [line for line in run.stdout.splitlines() if not line.startswith("note:")]
    assert lines[0].startswith("device: CPU")
    assert [line.split(" (")[0] + " " + line.split("stage ")[1].split(":")[0].strip() for line in lines[1:13]] == [
        f"round {r}, {path} {stage}" for r in (1, 2) for path in ("today", "fp32 ", "bf16 ") for stage in ("wavenet", "postnet")]  # fmt: skip
    assert all("audio s/s" in line and "% of the time waiting for batches" in line for line in lines[1:13])
    assert [line.split(":")[0] for line in lines[13:]] == [f"speed-up of {p} over today, stage {s:11s}" for p in ("fp32", "bf16")
                                                         for s in ("wavenet", "postnet")]  # fmt: skip
    assert all(line.endswith("medians of 2 rounds)") for line in lines[13:])
