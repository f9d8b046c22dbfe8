"""Shared pytest set-up: tests run in the ci profile on the CPU, with fixed seeds."""

import os

os.environ.setdefault("HIFIGAN_EDU_PROFILE", "ci")


import pytest  # noqa: E402


@pytest.fixture
def tiny_config():
    """A HiFi-GAN config small enough to train a few steps in a second: 2 steps per stage, no rooms."""
    from hifigan_edu import config

    c = config.load("ci").to_dict()
    c.update(name="tiny")
    c["generator"].update(channels=4, layers=3, stacks=1, skip_channels=4, out_channels=[8, 4], postnet_channels=4,
                          postnet_layers=2, postnet_kernel=5)
    c["discriminator"].update(channels=[4, 8, 8, 1], kernels=[15, 41, 5, 3], strides=[1, 4, 1, 1], groups=[1, 4, 1, 1],
                              mel_channels=4)
    c["data"].update(segment_s=0.5, batch_size=2, rirs=0, valid_items=2, valid_seconds=0.25)
    for name in ("wavenet", "postnet", "adversarial"):
        c["stages"][name]["steps"] = 2
    c["train"].update(log_every=1, valid_every=2, checkpoint_every=2)
    return config.validate(config.from_dict(config.Config, c))


@pytest.fixture
def tiny_config2(tiny_config):
    """The HiFi-GAN-2 version of ``tiny_config``: a tiny MFCC predictor (2 steps) conditions the WaveNet."""
    from hifigan_edu import config

    c = tiny_config.to_dict()
    c.update(name="tiny2", model="hifigan2")
    c["conditioning"].update(n_mfcc=8, n_mels=16, n_fft=256, hop=64, rnn_hidden=8, rnn_layers=1)
    c["stages"]["predictor"].update(steps=2, lr_g=1e-3)
    return config.validate(config.from_dict(config.Config, c))
