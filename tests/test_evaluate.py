"""Evaluation: the metrics' fixed points, the baselines, condition groups and the tables."""

import numpy as np
import pytest

from hifigan_edu import evaluate
from hifigan_edu.data import simulate


@pytest.fixture(scope="module")
def items():
    test = simulate.load_testset()
    return [next(i for i in test if i.info["source"] == s) for s in ("synthetic", "real")]


def test_both_test_sets_are_evaluated():
    ids = [item.info["id"] for item in evaluate.all_test_items()]
    assert len(ids) == len(set(ids)) == 72 and ids[0] == "test-000" and ids[-1] == "hard-035"
    assert [i.info["id"] for i in evaluate.select(["hard-002", "test-001"])] == ["test-001", "hard-002"]
    with pytest.raises(ValueError, match="the ids run from test-000 to test-035 and from hard-000 to hard-035"):
        evaluate.select(["test-036"])


def test_clean_speech_scores_at_the_top_of_every_scale(items):
    clean = items[0].clean
    almost = clean + 1e-6 * np.random.default_rng(0).standard_normal(len(clean)).astype(np.float32)
    m = evaluate.intrusive(almost, clean)
    assert m["PESQ-WB"] > 4.5 and m["STOI"] > 0.99 and m["ESTOI"] > 0.99 and m["SI-SDR"] > 60 and m["LTCD"] < 0.01
    noisy = evaluate.intrusive(items[0].degraded, clean)
    assert noisy["PESQ-WB"] < m["PESQ-WB"] and noisy["SI-SDR"] < 30 and noisy["LTCD"] > 0.1
    quieter = evaluate.intrusive(0.3 * clean, clean)
    assert quieter["LTCD"] < 0.01  # a level change is not a change of voice
    assert quieter["level"] == pytest.approx(20 * np.log10(0.3), abs=1e-4) and abs(m["level"]) < 1e-3  # but it is one of level


def test_baselines_keep_the_length_and_change_the_signal(items):
    x = items[0].degraded
    for name, system in evaluate.baselines().items():
        y = system(x)
        assert y.shape == x.shape and y.dtype == np.float32, name
        assert (name == "degraded") == np.array_equal(y, x), name


def test_condition_groups():
    row = dict(set="hard", source="real", snr_db="5.00", rt60_measured="0.812")
    assert evaluate.condition_groups(row) == ["hard", "real", "SNR -5..5 dB", "RT60 0.8..1.2 s", evaluate.HARD]
    row = dict(set="hard", source="synthetic", snr_db="12.0", rt60_measured="0.3")
    assert evaluate.condition_groups(row) == ["hard", "synthetic", "SNR 5..15 dB", "RT60 0.2..0.5 s"]
    row = dict(set="main", source="synthetic", snr_db="21.0", rt60_measured="0.9")
    assert evaluate.condition_groups(row) == ["main", "synthetic", "SNR 20..26 dB", "RT60 0.8..1.2 s"]  # long rooms, mild noise


def test_evaluate_and_tables(items, tmp_path):
    rows = evaluate.evaluate({"degraded": lambda x: x, "gain": lambda x: 0.5 * x}, items, progress=False)
    assert len(rows) == 4 and all(r["DNSMOS"] == "" for r in rows if "synthetic" in r["groups"])
    real = [r for r in rows if "real" in r["groups"]]
    assert all(1 <= r["DNSMOS"] <= 5 for r in real)
    assert real[0]["SI-SDR"] == pytest.approx(real[1]["SI-SDR"], abs=1e-6)  # scale-invariant
    csv_path, md_path = evaluate.write(rows, tmp_path)
    assert len(evaluate.read(csv_path)) == 4
    text = md_path.read_text()
    assert "**main set, synthetic speech** (1 test items)" in text and "| gain |" in text and "**main set: STOI per condition**" in text
    level = {(r["id"], r["system"]): r["level"] for r in rows}
    assert [level[i, "gain"] - level[i, "degraded"] for i, _ in level] == pytest.approx([20 * np.log10(0.5)] * 4, abs=1e-4)
    old = [{k: v for k, v in r.items() if k != "level"} for r in evaluate.read(csv_path)]  # written before the column existed
    assert "level" not in evaluate.summarise(old)["gain"] and "| level |" not in evaluate.markdown(old)
    assert "**main set: margins on the target metrics**" in text and "| gain | PESQ-WB |" in text and "| gain | SI-SDR |" in text
    assert "hard set" not in text
    hard = [simulate.load_testset("hard", source=s)[0] for s in ("synthetic", "real")]
    both = rows + evaluate.evaluate({"degraded": lambda x: x, "gain": lambda x: 0.5 * x}, hard, progress=False)
    text = evaluate.markdown(both)
    assert text.index("**main set, synthetic speech**") < text.index("**hard set, synthetic speech**") < text.index("**hard set: margins")
    assert f"{evaluate.HARD} (n=" in text
    real_only = [r for r in rows if "real" in r["groups"]]
    assert "Margins" not in evaluate.markdown(real_only)  # nothing to pair without synthetic items
    for chosen, absent in ((real_only, "synthetic"), ([r for r in rows if "synthetic" in r["groups"]], "real")):
        text = evaluate.markdown(chosen)  # e.g. --items test-000: no table for the source it did not choose
        assert f"{absent} speech**" not in text and "|  |" not in text
        for table in text.split("\n\n"):  # every table's rows have as many cells as its header
            cells = {line.count("|") for line in table.splitlines() if line.startswith("|")}
            assert len(cells) <= 1, table


def test_margin_pairs_items_and_bounds_the_mean():
    rng = np.random.default_rng(0)
    base = rng.normal(size=40)
    delta = 0.5 + 0.1 * rng.normal(size=40)
    rows = [{"id": f"i{k}", "system": name, "groups": "main|synthetic|x", "SI-SDR": value}
            for k in range(40) for name, value in (("ref", base[k]), ("model", base[k] + delta[k]))]
    rows += [{"id": "r0", "system": "model", "groups": "main|real", "SI-SDR": 99.0},  # other groups: left out
             {"id": "h0", "system": "model", "groups": "hard|synthetic", "SI-SDR": 99.0}]
    m = evaluate.margin(rows, "model", "ref", "SI-SDR")
    assert m["n"] == 40 and m["ahead"] == int((delta > 0).sum())
    assert m["mean"] == pytest.approx(delta.mean()) and m["low"] < m["mean"] < m["high"]
    assert m["high"] - m["low"] < 0.1  # paired: the items' spread (sd 1) cancels, only delta's (sd 0.1) is left
