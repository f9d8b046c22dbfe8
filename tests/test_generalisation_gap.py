"""scripts/generalisation_gap.py runs end to end at toy sizes and prints one row per setting."""

import re
import subprocess
import sys
from pathlib import Path

from hifigan_edu.data import corpus

ROOT = Path(__file__).resolve().parents[1]


def test_generalisation_gap_prints_a_row_per_setting():
    script = [sys.executable, str(ROOT / "scripts" / "generalisation_gap.py"), "--pairs", "2", "--rooms", "4", "--seen", "2", "--sentences", "1"]
    run = subprocess.run(script, capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    rows = [line for line in run.stdout.splitlines() if re.fullmatch(r"\| [a-z ,]+ \| -?\d+\.\d\d \| -?\d+\.\d\d \| [+-]\d+\.\d\d \|", line)]
    engines_here = all(corpus.engine_problem(v.engine) is None for v in corpus.VOICES[: corpus.FIRST_EDITION])
    assert len(rows) == (5 if engines_here else 4), run.stdout
    assert rows[-1].startswith("| validation voices and rooms")
