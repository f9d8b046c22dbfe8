"""How fast are the heaviest convolutions of training on this CPU, forward and backward, fp32 and bf16?

Times, for the ``cpu`` config's shapes (batch 8 x 0.5 s at 16 kHz), the postnet's kernel-31
convolution as ``nn.Conv1d`` and as ``hifigan_edu.nn.SameConv1d`` (whose backward is two forward
convolutions; under bf16 on a CPU with AMX it is ``nn.Conv1d`` itself), the full-rate waveform
discriminator's second convolution (kernel 41, stride 4, 4 groups) both ways, and the WaveNet's output
stack (32 -> 256 -> 64 channels, kernel 3): the forward pass alone, then forward and backward
(every gradient), median of ``--repeats`` calls, in float32 and under bf16 autocast. The numbers
behind ``SameConv1d``'s docstring and docs/benchmarks.md:

    python scripts/conv_speed.py            # about 1 minute on 2 cores
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
from torch import nn

from hifigan_edu import nn as hnn
from hifigan_edu import runtime, train


def median_ms(f: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``f()`` in ms, after two warm-up calls."""
    for _ in range(2):
        f()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=8)
    args = parser.parse_args()
    runtime.set_threads()
    torch.manual_seed(0)
    native = nn.Conv1d(16, 16, 31, padding="same")
    same = hnn.SameConv1d(16, 16, 31)
    same.load_state_dict(native.state_dict())
    strided = nn.Conv1d(16, 64, 41, stride=4, groups=4, padding=20)
    fast = hnn.FastConv1d(16, 64, 41, stride=4, groups=4, padding=20)
    fast.load_state_dict(strided.state_dict())
    stack = hnn.WaveNet(channels=32, skip_channels=32, out_channels=(256, 64), negative_slope=0.2).out
    cases = {"postnet conv 16 -> 16, k 31, nn.Conv1d      ": (native, 16), "postnet conv 16 -> 16, k 31, SameConv1d     ": (same, 16),
             "disc. conv 16 -> 64, k 41 / 4, g 4, nn.Conv1d": (strided, 16), "disc. conv 16 -> 64, k 41 / 4, g 4, FastConv1d": (fast, 16),
             "WaveNet output stack 32 -> 256 -> 64         ": (stack, 32)}  # fmt: skip
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, bf16 native: {train.cpu_has_bf16()}")
    for precision in ("fp32", "bf16"):
        for name, (module, channels) in cases.items():
            x = torch.randn(8, channels, 8000, requires_grad=True)

            def forward() -> torch.Tensor:
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
                    return module(x)

            def both() -> None:
                forward().float().square().mean().backward()

            with torch.no_grad():
                alone = median_ms(forward, args.repeats)
            print(f"{precision} {name}: forward {alone:6.1f} ms, forward and backward {median_ms(both, args.repeats):6.1f} ms")


if __name__ == "__main__":
    main()
