"""Where a generator gains or loses SI-SDR: item by item, with its level in each octave band.

For every synthetic item of a test set, sorted from the mildest input to the harshest, prints the
item's SNR and DRR, the SI-SDR of the input and of the generator's output, and the output's level
against the clean target's in six bands (Welch spectra, dB) next to the input's. A generator that
tilts the spectrum shows it in the bands; one that adds a broadband error shows SI-SDR falling on
the mild items while its bands stay near 0 dB:

    python scripts/per_item.py runs/cpu-recorded/generator.pt          # about 15 s on 2 cores
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy.signal import welch

from hifigan_edu import enhance, runtime
from hifigan_edu.audio import SAMPLE_RATE, si_sdr
from hifigan_edu.data import simulate

EDGES = (0, 250, 500, 1000, 2000, 4000, 8000)  # Hz: the bands' edges


def band_powers(x: np.ndarray) -> np.ndarray:
    """The power of (T,) ``x`` in each band between :data:`EDGES` (6,)."""
    f, p = welch(x, SAMPLE_RATE, nperseg=1024)
    return np.array([p[(f >= lo) & (f < hi)].sum() for lo, hi in zip(EDGES[:-1], EDGES[1:])])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", type=Path, help="a generator.pt")
    parser.add_argument("--set", default="main", choices=list(simulate.REGIMES), help="the test set (default main)")
    args = parser.parse_args()
    runtime.set_threads()
    model = enhance.load_enhancer(args.checkpoint)
    items = sorted(simulate.load_testset(args.set, source="synthetic"), key=lambda i: -si_sdr(i.degraded, i.clean))
    bands = " ".join(f"{lo}-{hi}" for lo, hi in zip(EDGES[:-1], EDGES[1:]))
    print(f"{model.label}, {args.set} set: SI-SDR input -> output (dB); level against the target's in the bands {bands} Hz")
    for item in items:
        y, clean = model(item.degraded), item.clean
        out, inp = (10 * np.log10(band_powers(x) / band_powers(clean)) for x in (y, item.degraded))
        print(f"{item.info['id']}  SNR {float(item.info['snr_db']):4.1f}  DRR {float(item.info['drr_db']):5.1f}  "
              f"SI-SDR {si_sdr(item.degraded, clean):5.1f} -> {si_sdr(y, clean):5.1f}  |  output "
              + " ".join(f"{v:+5.1f}" for v in out) + "  |  input " + " ".join(f"{v:+5.1f}" for v in inp))  # fmt: skip


if __name__ == "__main__":
    main()
