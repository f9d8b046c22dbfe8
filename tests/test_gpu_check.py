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
    # one stage of another config, with a value changed (bf16 applies on CUDA only: the line says fp32 here)
    one = subprocess.run(script + ["--device", "cpu", "--steps", "1", "--enhance-s", "1", "--stages", "wavenet",
                                   "--set", "train.precision=bf16"], capture_output=True, text=True, cwd=ROOT)  # fmt: skip
    assert one.returncode == 0, one.stderr
    assert [line.split(":")[0].strip() for line in one.stdout.splitlines()] == ["device", "stage wavenet", "enhance"]
    wrong = subprocess.run(script + ["--device", "cpu", "--stages", "warmup"], capture_output=True, text=True, cwd=ROOT)
    assert wrong.returncode != 0 and "--stages: warmup not in config ci" in wrong.stderr
