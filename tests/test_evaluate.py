"""Evaluation: the metrics' fixed points, the baselines, condition groups and the tables."""

import numpy as np
import pytest

from hifigan_edu import evaluate
from hifigan_edu.data import simulate


@pytest.fixture(scope="module")
def items():
    test = simulate.load_testset()
    return [next(i for i in test if i.info["source"] == s) for s in ("synthetic", "real")]


def test_clean_speech_scores_at_the_top_of_every_scale(items):
    clean = items[0].clean
    almost = clean + 1e-6 * np.random.default_rng(0).standard_normal(len(clean)).astype(np.float32)
    m = evaluate.intrusive(almost, clean)
    assert m["PESQ-WB"] > 4.5 and m["STOI"] > 0.99 and m["ESTOI"] > 0.99 and m["SI-SDR"] > 60 and m["LTCD"] < 0.01
    noisy = evaluate.intrusive(items[0].degraded, clean)
    assert noisy["PESQ-WB"] < m["PESQ-WB"] and noisy["SI-SDR"] < 30 and noisy["LTCD"] > 0.1
    assert evaluate.intrusive(0.3 * clean, clean)["LTCD"] < 0.01  # a level change is not a change of voice


def test_baselines_keep_the_length_and_change_the_signal(items):
    x = items[0].degraded
    for name, system in evaluate.baselines().items():
        y = system(x)
        assert y.shape == x.shape and y.dtype == np.float32, name
        assert (name == "degraded") == np.array_equal(y, x), name


def test_condition_groups():
    row = dict(source="real", snr_db="5.00", rt60_measured="0.812")
    assert evaluate.condition_groups(row) == ["real", "SNR -5..5 dB", "RT60 0.8..1.2 s", evaluate.HARD]
    row = dict(source="synthetic", snr_db="12.0", rt60_measured="0.3")
    assert evaluate.condition_groups(row) == ["synthetic", "SNR 5..15 dB", "RT60 0.2..0.5 s"]


def test_evaluate_and_tables(items, tmp_path):
    rows = evaluate.evaluate({"degraded": lambda x: x, "gain": lambda x: 0.5 * x}, items, progress=False)
    assert len(rows) == 4 and all(r["DNSMOS"] == "" for r in rows if "synthetic" in r["groups"])
    real = [r for r in rows if "real" in r["groups"]]
    assert all(1 <= r["DNSMOS"] <= 5 for r in real)
    assert real[0]["SI-SDR"] == pytest.approx(real[1]["SI-SDR"], abs=1e-6)  # scale-invariant
    csv_path, md_path = evaluate.write(rows, tmp_path)
    assert len(evaluate.read(csv_path)) == 4
    text = md_path.read_text()
    assert "**synthetic speech** (1 test items)" in text and "| gain |" in text and "**STOI per condition**" in text
    assert "**Margins on the target metrics**" in text and "| gain | PESQ-WB |" in text and "| gain | SI-SDR |" in text
    assert f"{evaluate.HARD} (n=" in text
    real_only = [r for r in rows if "real" in r["groups"]]
    assert "Margins" not in evaluate.markdown(real_only)  # nothing to pair without synthetic items
    for chosen, absent in ((real_only, "synthetic"), ([r for r in rows if "synthetic" in r["groups"]], "real")):
        text = evaluate.markdown(chosen)  # e.g. --items test-000: no table for the source it did not choose
        assert f"**{absent} speech**" not in text and "|  |" not in text
        for table in text.split("\n\n"):  # every table's rows have as many cells as its header
            cells = {line.count("|") for line in table.splitlines() if line.startswith("|")}
            assert len(cells) <= 1, table


def test_margin_pairs_items_and_bounds_the_mean():
    rng = np.random.default_rng(0)
    base = rng.normal(size=40)
    delta = 0.5 + 0.1 * rng.normal(size=40)
    rows = [{"id": f"i{k}", "system": name, "groups": "synthetic|x", "SI-SDR": value}
            for k in range(40) for name, value in (("ref", base[k]), ("model", base[k] + delta[k]))]
    rows.append({"id": "r0", "system": "model", "groups": "real", "SI-SDR": 99.0})  # another group: left out
    m = evaluate.margin(rows, "model", "ref", "SI-SDR")
    assert m["n"] == 40 and m["ahead"] == int((delta > 0).sum())
    assert m["mean"] == pytest.approx(delta.mean()) and m["low"] < m["mean"] < m["high"]
    assert m["high"] - m["low"] < 0.1  # paired: the items' spread (sd 1) cancels, only delta's (sd 0.1) is left
