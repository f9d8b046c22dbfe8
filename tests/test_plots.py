import ipywidgets as widgets
import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402

from hifigan_edu import plots  # noqa: E402


def test_live_draws_the_default_then_redraws_on_change():
    calls = []
    slider = widgets.FloatSlider(value=0.5, min=0, max=1)
    plots.live(lambda level: calls.append(level), level=slider)
    assert calls == [0.5]
    slider.value = 0.75
    assert calls == [0.5, 0.75]


def test_listen_makes_one_labelled_panel_and_player_per_signal():
    x = np.sin(np.arange(8000) / 10).astype(np.float32) * 0.5
    fig, players = plots.listen({"a": x, "b & c": 0.1 * x})
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ["a", "b & c"]
    assert all(ax.get_xlabel() == "time (s)" for ax in fig.axes[:2])
    assert players.data.count("<audio") == 2 and "b &amp; c" in players.data
