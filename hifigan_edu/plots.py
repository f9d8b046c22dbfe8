"""Figures and listening aids shared by the notebooks.

Introduced in ``notebooks/00_the_problem_and_the_data.ipynb``.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import ipywidgets as widgets
import librosa
import librosa.display
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import HTML, Audio, display

from hifigan_edu.audio import SAMPLE_RATE


def spectrogram(ax: plt.Axes, x: np.ndarray, title: str, sr: int = SAMPLE_RATE, top_db: float = 80.0):
    """Draw the log-magnitude STFT (n_fft 512, hop 128) of (T,) ``x`` on ``ax`` with labelled axes.

    Levels are dB relative to full scale, clipped ``top_db`` below 0 dBFS, so panels compare.
    """
    stft = np.abs(librosa.stft(x, n_fft=512, hop_length=128))
    db = librosa.amplitude_to_db(stft, ref=512 / 4, top_db=None).clip(-top_db, 0)  # ~0 dB for a full-scale sine
    image = librosa.display.specshow(db, sr=sr, hop_length=128, x_axis="time", y_axis="hz", ax=ax, vmin=-top_db, vmax=0)
    ax.set(title=title, xlabel="time (s)", ylabel="frequency (Hz)")
    return image


def players(signals: dict[str, np.ndarray], sr: int = SAMPLE_RATE) -> HTML:
    """A row of labelled audio players, one per (T,) signal (not normalised, so levels compare)."""
    cells = "".join(
        f"<td style='text-align:center'><b>{html.escape(name)}</b><br>"
        f"{Audio(np.clip(x, -1, 1), rate=sr, normalize=False)._repr_html_()}</td>"
        for name, x in signals.items()
    )
    style = "<style>table.hifigan-players{width:100%;table-layout:fixed} table.hifigan-players audio{width:100%}</style>"
    return HTML(f"{style}<table class='hifigan-players'><tr>{cells}</tr></table>")


def listen(signals: dict[str, np.ndarray], sr: int = SAMPLE_RATE, height: float = 2.6) -> tuple[plt.Figure, HTML]:
    """Spectrograms of several (T,) signals side by side, and their players in the same order.

    Returns (figure, players); show them with ``display``.
    """
    fig, axes = plt.subplots(1, len(signals), figsize=(4 * len(signals), height), sharey=True, squeeze=False)
    for ax, (name, x) in zip(axes[0], signals.items()):
        image = spectrogram(ax, x, name, sr)
    for ax in axes[0][1:]:
        ax.set_ylabel("")
    fig.colorbar(image, ax=axes[0].tolist(), format="%+.0f dB", pad=0.01)
    return fig, players(signals, sr)


def live(draw: Callable[..., None], **controls: widgets.ValueWidget) -> None:
    """Show ``draw(**defaults)`` now, then the ``controls`` and an area that ``draw`` refills on every change.

    Unlike ``ipywidgets.interactive``, nothing is captured into an Output widget while the
    notebook is executed non-interactively (nbclient/nbval sometimes stall on that), and the
    default drawing stays in the saved notebook and its HTML rendering.
    """
    draw(**{name: c.value for name, c in controls.items()})
    area = widgets.Output()

    def redraw(_: object) -> None:
        with area:
            area.clear_output(wait=True)
            draw(**{name: c.value for name, c in controls.items()})

    for control in controls.values():
        control.observe(redraw, names="value")
    display(widgets.HBox(list(controls.values())), area)
