"""Measuring enhancement: PESQ, STOI, ESTOI, SI-SDR and DNSMOS on the fixed test set, next to baselines.

Taught in ``notebooks/07_training_hifigan.ipynb``; from the shell:
``python -m hifigan_edu evaluate --checkpoint data/checkpoints/hifigan-long-run.pt --out results/``.

Every system maps degraded audio (T,) to enhanced audio (T,) at 16 kHz. The baselines:

* ``degraded`` -- the input itself;
* ``spectral gating`` -- ``noisereduce`` (non-stationary spectral gating, its defaults);
* ``WPE`` -- weighted prediction error dereverberation (``nara_wpe``; 512-point STFT, hop 128,
  10 taps, delay 3, 3 iterations, the values of its examples for 16 kHz);
* ``WPE + gating`` -- the two in sequence.

Intrusive metrics (against the clean direct-path target) are computed for every item of both
test sets (``hifigan_edu.data.simulate``: the **main** set, in HiFi-GAN's regime, and the
**hard** set) and averaged per set and condition: its SNR and measured-RT60 bins, and in the hard
set the hardest conditions, where HiFi-GAN-2 claims its gain (SNR <= 5 dB or RT60 >= 0.8 s). LTCD, the
long-term cepstral distance of ``hifigan_edu.hifigan2`` (notebook 08), measures how far the
enhanced voice's average timbre is from the clean one's. ``level`` is how much louder (dB, by RMS)
the output is than the clean target: 0 is right, and a generator that learned only to turn its input
down shows it as a negative level however its other scores read. DNSMOS (``speechmos``,
non-intrusive) is computed on the real-speech items.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from hifigan_edu.audio import SAMPLE_RATE, level_db, si_sdr
from hifigan_edu.data import simulate

System = Callable[[np.ndarray], np.ndarray]
METRICS = ("PESQ-WB", "STOI", "ESTOI", "SI-SDR", "LTCD", "level")  # evaluations written before "level" lack it
HARD = "hard (SNR <= 5 dB or RT60 >= 0.8 s)"
SNR_GROUP, RT60_GROUP = "SNR {:g}..{:g} dB", "RT60 {:g}..{:g} s"  # the names of a bin's group


def spectral_gating(x: np.ndarray) -> np.ndarray:
    """``noisereduce`` with its defaults (non-stationary gating)."""
    import noisereduce

    return noisereduce.reduce_noise(y=x, sr=SAMPLE_RATE).astype(np.float32)


def wpe(x: np.ndarray, taps: int = 10, delay: int = 3, iterations: int = 3) -> np.ndarray:
    """Single-channel WPE dereverberation (``nara_wpe``) of (T,) audio."""
    from nara_wpe.utils import istft, stft
    from nara_wpe.wpe import wpe as nara_wpe

    spec = stft(x[None], size=512, shift=128)  # (1, frames, bins)
    dereverberated = nara_wpe(spec.transpose(2, 0, 1), taps=taps, delay=delay, iterations=iterations)
    y = istft(dereverberated.transpose(1, 2, 0), size=512, shift=128)[0]
    return y[: len(x)].astype(np.float32)


def baselines() -> dict[str, System]:
    """The reference systems, by name."""
    return {
        "degraded": lambda x: x,
        "spectral gating": spectral_gating,
        "WPE": wpe,
        "WPE + gating": lambda x: spectral_gating(wpe(x)),
    }


def intrusive(estimate: np.ndarray, clean: np.ndarray) -> dict[str, float]:
    """PESQ (wide band), STOI, ESTOI, SI-SDR, LTCD and the level (dB) of (T,) ``estimate`` against (T,) ``clean``."""
    from pesq import pesq
    from pystoi import stoi

    from hifigan_edu.hifigan2 import long_term_cepstral_distance

    return {
        "PESQ-WB": float(pesq(SAMPLE_RATE, clean, estimate, "wb")),
        "STOI": float(stoi(clean, estimate, SAMPLE_RATE)),
        "ESTOI": float(stoi(clean, estimate, SAMPLE_RATE, extended=True)),
        "SI-SDR": si_sdr(estimate, clean),
        "LTCD": long_term_cepstral_distance(estimate, clean),
        "level": level_db(estimate, clean),
    }


def dnsmos(x: np.ndarray) -> float:
    """DNSMOS P.835 overall quality (1-5) of (T,) audio in [-1, 1]."""
    from speechmos import dnsmos as speechmos_dnsmos

    return float(speechmos_dnsmos.run(np.clip(x, -1.0, 1.0), SAMPLE_RATE)["ovrl_mos"])


def condition_groups(info: dict[str, str]) -> list[str]:
    """The groups a test item counts in: its test set ("main" or "hard"), its source, its SNR bin and
    measured-RT60 bin, and :data:`HARD` if it is one of the hard set's hardest conditions."""
    regime, snr, rt60 = simulate.REGIMES[info["set"]], float(info["snr_db"]), float(info["rt60_measured"])
    snr_bin = next((lo, hi) for lo, hi in regime.snr_bins if lo <= snr <= hi)
    rt60_bin = next((lo, hi) for lo, hi in simulate.RT60_BINS if lo <= rt60 <= hi)
    groups = [regime.name, info["source"], SNR_GROUP.format(*snr_bin), RT60_GROUP.format(*rt60_bin)]
    return groups + ([HARD] if regime is simulate.HARD and (snr <= 5.0 or rt60 >= 0.8) else [])


def all_test_items() -> list[simulate.TestItem]:
    """Every item of both test sets: the main set's, then the hard set's."""
    return [item for name in simulate.REGIMES for item in simulate.load_testset(name)]


def select(ids: list[str] | None = None) -> list[simulate.TestItem]:
    """The test items with these ids, in the test sets' order (all of both sets for None or []).

    Raises:
        ValueError: an id the test sets do not have (the message gives the ranges of known ids).
    """
    items = all_test_items()
    if not ids:
        return items
    known = {item.info["id"] for item in items}
    unknown = [i for i in ids if i not in known]
    if unknown:
        sets = [[i.info["id"] for i in items if i.info["set"] == name] for name in simulate.REGIMES]  # not read again
        ranges = [f"{of_set[0]} to {of_set[-1]}" for of_set in sets if of_set]
        raise ValueError(f"no test item {', '.join(unknown)}; the ids run from {' and from '.join(ranges)}")
    return [item for item in items if item.info["id"] in ids]


def evaluate(systems: dict[str, System], items: list[simulate.TestItem] | None = None, progress: bool = True) -> list[dict[str, object]]:
    """One row per (test item, system): id, system, groups, the intrusive metrics, and DNSMOS for real
    speech; over ``items`` (default: both test sets)."""
    items = all_test_items() if items is None else items
    rows = []
    for item in tqdm(items, desc="evaluating", unit="item", disable=not progress):
        for name, system in systems.items():
            y = system(item.degraded)
            row: dict[str, object] = {"id": item.info["id"], "system": name, "groups": "|".join(condition_groups(item.info))}
            row.update(intrusive(y, item.clean))
            row["DNSMOS"] = dnsmos(y) if item.info["source"] == "real" else ""
            rows.append(row)
    return rows


def in_groups(row: dict[str, object], groups: tuple[str, ...]) -> bool:
    """Whether the evaluation ``row`` counts in every one of ``groups``."""
    return set(groups) <= set(str(row["groups"]).split("|"))


def summarise(rows: list[dict[str, object]], *groups: str) -> dict[str, dict[str, float]]:
    """{system: {metric: mean}} over the rows in all of ``groups`` (all rows if none); DNSMOS over the rows
    that have it, and each metric only if the rows have it (an evaluation written before it existed)."""
    out: dict[str, dict[str, float]] = {}
    for system in dict.fromkeys(r["system"] for r in rows):
        chosen = [r for r in rows if r["system"] == system and in_groups(r, groups)]
        means = {m: float(np.mean([float(r[m]) for r in chosen])) for m in METRICS if chosen and chosen[0].get(m, "") != ""}
        scored = [float(r["DNSMOS"]) for r in chosen if r.get("DNSMOS") not in ("", None)]
        if scored:
            means["DNSMOS"] = float(np.mean(scored))
        out[system] = means | {"n": len(chosen)}
    return out


def margin(rows: list[dict[str, object]], system: str, other: str, metric: str, groups: tuple[str, ...] = ("main", "synthetic"),
           resamples: int = 10_000, seed: int = 0) -> dict[str, float]:  # fmt: skip
    """``system`` minus ``other`` on ``metric``, paired by test item over the items in all ``groups``: the mean
    difference, its 95 % bootstrap interval (the items resampled with replacement), and the items ``system`` is ahead on."""

    def scores(name: str) -> dict[str, float]:
        return {str(r["id"]): float(r[metric]) for r in rows if r["system"] == name and in_groups(r, groups)}

    mine, theirs = scores(system), scores(other)
    diff = np.array([mine[i] - theirs[i] for i in mine])
    boot = diff[np.random.default_rng(seed).integers(0, len(diff), (resamples, len(diff)))].mean(axis=1)
    low, high = np.percentile(boot, [2.5, 97.5])
    return {"mean": float(diff.mean()), "low": float(low), "high": float(high), "ahead": int((diff > 0).sum()), "n": len(diff)}


def conditions_of(rows: list[dict[str, object]], regime: simulate.Regime) -> list[str]:
    """The condition groups of ``regime``'s test set that ``rows`` hold, in a stable order: SNR bins, RT60 bins, hardest."""
    seen = dict.fromkeys(g for r in rows if in_groups(r, (regime.name,)) for g in str(r["groups"]).split("|"))
    order = [*(SNR_GROUP.format(*b) for b in regime.snr_bins), *(RT60_GROUP.format(*b) for b in simulate.RT60_BINS), HARD]
    return [g for g in order if g in seen]


def markdown(rows: list[dict[str, object]]) -> str:
    """The evaluation as markdown, for each test set that ``rows`` hold (main, then hard): every metric
    by system (synthetic and real speech, each where it has items), each model's paired margins over
    the baselines on PESQ-WB and SI-SDR, then PESQ-WB, STOI and SI-SDR per condition."""
    lines = []
    for regime in simulate.REGIMES.values():
        if any(in_groups(r, (regime.name,)) for r in rows):
            lines += set_markdown(rows, regime)
    return "\n".join(lines)


def set_markdown(rows: list[dict[str, object]], regime: simulate.Regime) -> list[str]:
    """:func:`markdown`'s lines for one test set."""
    lines, title = [], f"{regime.name} set"
    for source in ("synthetic", "real"):
        table = summarise(rows, regime.name, source)
        n = next(iter(table.values()))["n"] if table else 0
        if not n:  # e.g. --items chose no real-speech item
            continue
        metrics = [m for m in (*METRICS, "DNSMOS") if any(m in v for v in table.values())]
        lines += [f"**{title}, {source} speech** ({n} test items)", "", "| system | " + " | ".join(metrics) + " |",
                  "|---|" + "---:|" * len(metrics)]  # fmt: skip
        lines += [f"| {s} | " + " | ".join(f"{v[m]:.2f}" for m in metrics) + " |" for s, v in table.items()]
        lines.append("")
    references = [s for s in baselines() if any(r["system"] == s for r in rows)]
    models = [s for s in dict.fromkeys(r["system"] for r in rows) if s not in references]
    n = summarise(rows, regime.name, "synthetic")[models[0]]["n"] if models else 0
    if references and n:  # margins need a baseline, and synthetic items: the target is set on those
        lines += [f"**{title}: margins on the target metrics** (synthetic speech: the model minus each system, paired "
                  f"by item; mean [95 % bootstrap interval], items ahead of {n})", "",
                  "| model | metric | " + " | ".join(references) + " |", "|---|---|" + "---:|" * len(references)]  # fmt: skip
        for model in models:
            for metric in ("PESQ-WB", "SI-SDR"):
                cells = [margin(rows, model, ref, metric, (regime.name, "synthetic")) for ref in references]
                lines.append(f"| {model} | {metric} | " + " | ".join(
                    f"{c['mean']:+.2f} [{c['low']:+.2f}, {c['high']:+.2f}], {c['ahead']}" for c in cells) + " |")  # fmt: skip
        lines.append("")
    conditions = conditions_of(rows, regime)
    for metric in ("PESQ-WB", "STOI", "SI-SDR"):
        per = {g: summarise(rows, regime.name, g) for g in conditions}
        lines += [f"**{title}: {metric} per condition** (all its test items)", "", "| system | " + " | ".join(
            f"{g} (n={next(iter(per[g].values()))['n']})" for g in conditions) + " |", "|---|" + "---:|" * len(conditions)]  # fmt: skip
        systems = list(per[conditions[0]])
        lines += [f"| {s} | " + " | ".join(f"{per[g][s][metric]:.2f}" for g in conditions) + " |" for s in systems]
        lines.append("")
    return lines


def write(rows: list[dict[str, object]], out_dir: str | Path) -> tuple[Path, Path]:
    """Save ``evaluation.csv`` (one row per item and system) and ``evaluation.md`` (the tables) in ``out_dir``."""
    from hifigan_edu.files import atomic_path

    out_dir = Path(out_dir)
    csv_path, md_path = out_dir / "evaluation.csv", out_dir / "evaluation.md"
    with atomic_path(csv_path) as tmp, tmp.open("w", newline="") as f:
        writer = csv.DictWriter(f, ["id", "system", "groups", *METRICS, "DNSMOS"])
        writer.writeheader()
        writer.writerows(rows)
    with atomic_path(md_path) as tmp:
        tmp.write_text(markdown(rows) + "\n")
    return csv_path, md_path


def read(path: str | Path) -> list[dict[str, object]]:
    """Rows saved by :func:`write`."""
    with Path(path).open(newline="") as f:
        return list(csv.DictReader(f))
