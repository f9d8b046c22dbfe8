"""Training configs: the shipped ones load, and mistakes get messages that name the key."""

import dataclasses
import json

import pytest

from hifigan_edu import config


@pytest.mark.parametrize("name", ["ci", "cpu", "gpu-budget", "gpu-long", "full", "hifigan2-ci", "hifigan2-cpu", "hifigan2-gpu-budget", "hifigan2-full"])
def test_shipped_configs_load_and_round_trip(name):
    c = config.load(name)
    assert c.name == name
    assert config.validate(config.from_dict(config.Config, c.to_dict())) == c


def test_full_config_is_the_papers():
    c = config.load("full")
    assert (c.generator.channels, c.generator.layers, c.generator.stacks, c.generator.kernel_size) == (128, 10, 2, 3)
    assert c.generator.out_channels == (2048, 256) and not c.generator.residual and c.generator.out_negative_slope == 0
    assert (c.generator.postnet_layers, c.generator.postnet_channels) == (12, 128)
    assert c.discriminator.rates == (16000, 8000, 4000) and c.discriminator.mel
    assert c.loss.spectral_resolutions == ((2048, 512), (512, 128))
    s = c.stages
    assert (s["wavenet"].lr_g, s["postnet"].lr_g, s["adversarial"].lr_g, s["adversarial"].lr_d, s["adversarial"].d_steps) == (
        1e-3, 1e-4, 1e-5, 1e-3, 2)
    assert c.data.segment_s == 2.0 and c.train.precision == "bf16"


def test_hifigan_configs_need_no_predictor_stage_and_hifigan2_has_one():
    data = config.load("ci").to_dict()
    del data["stages"]["predictor"], data["model"], data["conditioning"]  # a config written before HiFi-GAN-2 existed
    old = config.validate(config.from_dict(config.Config, data))
    assert old == config.load("ci") and old.stage_names == ("wavenet", "postnet", "adversarial")
    c = config.load("hifigan2-full")
    assert c.model == "hifigan2" and c.stage_names == ("predictor", "wavenet", "postnet", "adversarial")
    assert c.generator == config.load("full").generator and c.discriminator == config.load("full").discriminator


def test_gpu_long_is_gpu_budget_with_speed_perturbation_and_a_longer_wavenet_stage():
    # the multi-lease run must stay comparable with the one-lease run it extends
    budget, long = config.load("gpu-budget").to_dict(), config.load("gpu-long").to_dict()
    assert long["data"].pop("speed_range") == [0.85, 1.15] and budget["data"].pop("speed_range") == [1.0, 1.0]
    assert (long["stages"]["wavenet"].pop("steps"), budget["stages"]["wavenet"].pop("steps")) == (12000, 4000)
    for d in (budget, long):
        del d["name"], d["train"]["valid_every"]
    assert long == budget


@pytest.mark.parametrize("size", ["cpu", "gpu-budget", "full"])
def test_hifigan2_configs_differ_from_hifigan_only_by_the_conditioning(size):
    # a fair head-to-head: the same WaveNet, discriminators, losses, data and schedule; at the `cpu` size the
    # precision differs, as each config's own check decided (docs/benchmarks.md: bf16 for `cpu`, fp32 for `hifigan2-cpu`)
    def core(name: str) -> dict:
        d = config.load(name).to_dict()
        for key in ("name", "model", "conditioning"):
            del d[key]
        del d["stages"]["predictor"]
        if size == "cpu":
            del d["train"]["precision"]
        return d

    assert core(size) == core(f"hifigan2-{size}")


def write(tmp_path, change):
    data = config.load("ci").to_dict()
    change(data)
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d["generator"].update(chanels=8), r"config.generator: unknown key\(s\) 'chanels'"),
        (lambda d: d["generator"].update(channels="16"), r"config.generator.channels should be int, got str"),
        (lambda d: d["generator"].update(channels=16.5), r"config.generator.channels should be int"),
        (lambda d: d["generator"].update(residual=1), r"config.generator.residual should be bool"),
        (lambda d: d["generator"].update(out_negative_slope=1.0), r"generator.out_negative_slope must lie in \[0, 1\)"),
        (lambda d: d["loss"].update(adversarial="wgan"), r"config.loss.adversarial = 'wgan': choose one of"),
        (lambda d: d["data"].update(snr_range=[0]), r"config.data.snr_range should have 2 entries"),
        (lambda d: d["data"].update(noise_types=["rain"]), r"data.noise_types: choose from"),
        (lambda d: d["stages"].pop("postnet"), r"missing stage\(s\) postnet"),
        (lambda d: d["stages"].update(finetune={"steps": 1, "lr_g": 1.0}), r"unknown stage\(s\) finetune"),
        (lambda d: d["stages"]["wavenet"].pop("steps"), r"config.stages.wavenet: missing required key\(s\) steps"),
        (lambda d: d["discriminator"].update(groups=[1, 4, 8, 16, 3, 1, 1]), r"discriminator layer 4: groups=3 must divide"),
        (lambda d: d["stages"]["adversarial"].update(d_steps=0), r"stages.adversarial: needs d_steps >= 1"),
        (lambda d: d["data"].update(segment_s=0.1), r"segment_s is shorter than the largest spectral loss window"),
        (lambda d: d["data"].update(segment_s=0.25), r"segment_s must be >= 0.5 s: the mel discriminator"),
        (lambda d: d["data"].update(valid_seconds=0.05), r"valid_seconds is shorter than the largest spectral loss window"),
        (lambda d: d["data"].update(valid_items=0), r"data.valid_items must be >= 1"),
        (lambda d: d["generator"].update(postnet_kernel=0), r"generator.postnet_kernel must be >= 1"),
        (lambda d: d["generator"].update(out_channels=[256, 0]), r"generator.out_channels must be >= 1"),
        (lambda d: d["loss"].update(spectral_resolutions=[]), r"loss.spectral_resolutions: needs at least one \[n_fft, hop\] pair"),
        (lambda d: d["loss"].update(spectral_resolutions=[[512, 0]]), r"with 0 < hop <= n_fft"),
        (lambda d: d["discriminator"].update(rates=[]), r"discriminator.rates: needs at least one sample rate"),
        (lambda d: d["discriminator"].update(groups=[1, 4, 16, 32, 0, 1, 1]), r"groups must all be >= 1"),
        (lambda d: d["data"].update(corpus=" "), r"data.corpus: name a corpus folder under data/"),
        (lambda d: d["data"].update(speed_range=[1.2, 0.8]), r"data.speed_range must be \[low, high\] with 0.5 <= low <= high <= 2"),
        (lambda d: d["data"].update(drr_range=[18, -6]), r"data.drr_range must be \[low, high\] with low <= high"),
        (lambda d: d["data"].update(distance_range=[0.0, 1.5]), r"data.distance_range must be \[low, high\] in metres with 0.05 <= low"),
        (lambda d: d["data"].update(dry_fraction=1.5), r"data.dry_fraction and data.noiseless_fraction are shares of the pairs"),
        (lambda d: d["loss"].update(spectral_floor=0.0), r"loss.spectral_floor must lie in \(0, 1\]"),
        (lambda d: d["stages"]["adversarial"].update(lr_end_factor=1.5), r"stages.adversarial.lr_end_factor must lie in \[0, 1\]"),
        (lambda d: d["stages"]["predictor"].update(steps=10), r"stages.predictor trains HiFi-GAN-2's MFCC predictor"),
        (lambda d: d.update(model="hifigan3"), r"config.model = 'hifigan3': choose one of 'hifigan', 'hifigan2'"),
        (lambda d: d.update(model="hifigan2") or d["conditioning"].update(n_mfcc=100), r"conditioning: needs 1 <= n_mfcc <= n_mels"),
        (lambda d: d["conditioning"].update(upsampler="cubic"), r"config.conditioning.upsampler = 'cubic': choose one of"),
    ],
)
def test_mistakes_are_named(tmp_path, change, message):
    with pytest.raises(config.ConfigError, match=message) as err:
        config.load(write(tmp_path, change))
    assert "mine.json" in str(err.value)


def test_missing_and_broken_files(tmp_path):
    with pytest.raises(config.ConfigError, match="give one of ci, cpu, full"):
        config.load("fast")
    path = tmp_path / "broken.json"
    path.write_text("{")
    with pytest.raises(config.ConfigError, match="not valid JSON"):
        config.load(path)


def test_overrides_change_one_value_and_are_checked():
    c = config.load("cpu", ["loss.l1_weight=100", "stages.wavenet.lr_g=1e-4", "train.precision=bf16"])
    assert (c.loss.l1_weight, c.stages["wavenet"].lr_g, c.train.precision) == (100.0, 1e-4, "bf16")
    assert dataclasses.replace(c, loss=config.load("cpu").loss, stages=config.load("cpu").stages,
                               train=config.load("cpu").train) == config.load("cpu")  # fmt: skip
    with pytest.raises(config.ConfigError, match=r"no key 'loss.l1'; the keys there are l1_weight, spectral_weight"):
        config.load("cpu", ["loss.l1=3"])
    with pytest.raises(config.ConfigError, match=r"no key 'loss.l1_weight.x'; .* loss.l1_weight is a value"):
        config.load("cpu", ["loss.l1_weight.x=3"])
    with pytest.raises(config.ConfigError, match=r"write it as key=value"):
        config.load("cpu", ["loss.l1_weight"])
    with pytest.raises(config.ConfigError, match=r"config.loss.l1_weight should be float, got str 'much'"):
        config.load("cpu", ["loss.l1_weight=much"])
    with pytest.raises(config.ConfigError, match=r"stages.wavenet.lr_end_factor must lie in \[0, 1\]"):
        config.load("cpu", ["stages.wavenet.lr_end_factor=2"])
