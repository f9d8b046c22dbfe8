"""Training configurations: one JSON file per variant, checked on load.

Taught in ``notebooks/07_training_hifigan.ipynb``. The files live in ``hifigan_edu/configs/``:

* ``ci.json``   -- tiny models, a few hundred steps on 2 CPU cores (the notebooks' live runs);
* ``cpu.json``  -- the CPU-sized model of the shipped checkpoints, trained in hours on 2 cores;
* ``gpu-budget.json`` -- the same model at 16 times the audio per step, for a GPU lease of minutes;
* ``full.json`` -- the paper's scale (Su et al. 2020), for a GPU, in bf16 mixed precision;
* ``hifigan2-ci.json``, ``hifigan2-cpu.json``, ``hifigan2-gpu-budget.json``, ``hifigan2-full.json`` -- the same for HiFi-GAN-2
  (``"model": "hifigan2"``, notebook 08), which adds the ``predictor`` stage and ``conditioning``.

The dataclasses below hold the paper's values as defaults and say where the paper is silent
and we chose. :func:`load` accepts a profile name or a path and refuses unknown keys, wrong
types and impossible values with a message naming the key and the file.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from hifigan_edu.audio import SAMPLE_RATE
from hifigan_edu.data.noise import NOISE_TYPES

CONFIG_DIR = Path(__file__).parent / "configs"
STAGES = ("predictor", "wavenet", "postnet", "adversarial")  # always in this order; "predictor" is HiFi-GAN-2's
OPTIONAL_STAGES = ("predictor",)  # may be left out of a config file: it then has 0 steps


@dataclass(frozen=True)
class GeneratorConfig:
    """The WaveNet (``hifigan_edu.nn.WaveNet``) and its postnet (``nn.Postnet``)."""

    channels: int = 128
    layers: int = 10
    stacks: int = 2
    kernel_size: int = 3
    skip_channels: int = 128
    out_channels: tuple[int, int] = (2048, 256)
    out_kernel: int = 3
    # our choice, not the paper's: True makes the WaveNet predict a correction added to its input,
    # with the last convolution scaled by 0.01, so training starts near the identity (notebook 04)
    residual: bool = False
    # our choice for the small configs, not the paper's (0: ReLU): with only 32-64 output units,
    # ReLUs die early in training (all 32 of the ci WaveNet's last ones within 20 steps at lr 3e-3,
    # 47 of the cpu run's 64 by step 2,500), freezing the generator; 0.2 makes them leaky
    out_negative_slope: float = 0.0
    postnet_channels: int = 128
    postnet_layers: int = 12
    postnet_kernel: int = 32  # "about 32" in the paper's description; 31 in some reimplementations


@dataclass(frozen=True)
class ConditioningConfig:
    """HiFi-GAN-2's MFCC predictor and upsampler (``hifigan_edu.hifigan2``); used when ``model`` is
    ``hifigan2``. The paper gives none of these values: all are our choice."""

    n_mfcc: int = 40  # half the mel bands: the spectral envelope without the pitch harmonics
    n_mels: int = 80
    n_fft: int = 1024  # 64 ms frames
    hop: int = 256  # 16 ms; the upsampler's factor
    rnn: Literal["gru", "lstm"] = "gru"
    rnn_hidden: int = 256  # per direction
    rnn_layers: int = 2
    upsampler: Literal["repeat", "linear", "transposed"] = "linear"


@dataclass(frozen=True)
class DiscriminatorConfig:
    """Three waveform discriminators (one per rate in ``rates``) and the mel discriminator."""

    rates: tuple[int, ...] = (16000, 8000, 4000)
    channels: tuple[int, ...] = (16, 64, 256, 1024, 1024, 1024, 1)
    kernels: tuple[int, ...] = (15, 41, 41, 41, 41, 5, 3)
    strides: tuple[int, ...] = (1, 4, 4, 4, 4, 1, 1)
    groups: tuple[int, ...] = (1, 4, 16, 64, 256, 1, 1)
    mel: bool = True
    mel_channels: int = 32


@dataclass(frozen=True)
class LossConfig:
    """Weights of the generator's loss terms; the paper gives no weights, these are our choice."""

    # L1 between samples. Weight 20 puts it on the order of the spectral terms at the start; with
    # weight 1 the spectral terms dominate, and the cpu config's validation SI-SDR fell from -5.4 to
    # -24.5 dB in its first 250 steps while its loss fell (phase is free under a magnitude loss)
    l1_weight: float = 20.0
    spectral_weight: float = 1.0  # L1 between log magnitudes, summed over the resolutions
    spectral_resolutions: tuple[tuple[int, int], ...] = ((2048, 512), (512, 128))  # (n_fft, hop)
    # The floor under the magnitudes before the log (the paper gives none). A magnitude far below it
    # counts as the floor: at 1e-5 (the default) almost every bin of a 16-bit signal counts, the
    # near-empty ones as much as speech, and turning everything down pays (the gain plateau). Every
    # shipped config uses 1e-2: in HiFi-GAN's regime the ci config's steps then end 8 % below the
    # input's loss instead of 1 % above it, and 15 minutes of the cpu config 11 % below the gain
    # yardstick instead of at it (docs/benchmarks.md, "Probes in HiFi-GAN's regime"). The default
    # stays 1e-5, what a log magnitude needs to stay finite, for checkpoints that predate the key.
    spectral_floor: float = 1e-5
    adversarial: Literal["least_squares", "hinge"] = "least_squares"  # the paper leaves it open
    adversarial_weight: float = 1.0
    feature_matching_weight: float = 1.0


@dataclass(frozen=True)
class DataConfig:
    """Training pairs from ``hifigan_edu.data.simulate.PairDataset``."""

    # The speech the pairs are cut from: a folder under data/ (or an absolute path) with a manifest.csv
    # in the starter corpus's format: "starter" (committed, 8 min of training speech), "full"
    # (`data build --preset full`, 5 min per voice) or a real corpus that `data import` converted
    # ("daps", "vctk"; the paper trains on DAPS). The shipped configs use "starter", the corpus the
    # course ships, except `cpu` and `hifigan2-cpu`: they train on "recorded" (`data recorded`: the
    # starter's voices and two real speakers, the probes' best recipe, docs/benchmarks.md). A
    # paper-scale run should use a larger one (docs/data.md, "Training on more speech").
    corpus: str = "starter"
    segment_s: float = 2.0
    batch_size: int = 8  # not given in the paper
    rirs: int = 256  # size of the training room bank; 0 trains denoising only
    # HiFi-GAN's regime, as its public reimplementation reads the paper (the paper's text is not at
    # hand): noise at 20-40 dB SNR, rooms with a DRR of -6..18 dB (ours: the direct path within
    # 2.5 ms, rooms.drr_db), talkers 0.1-1.5 m from the microphone (log-uniform). The course's first
    # regime, now its hard test set: snr_range [-5, 25], distance_range [0.5, 2.5], drr_range [-100, 100].
    snr_range: tuple[float, float] = (20.0, 40.0)
    drr_range: tuple[float, float] = (-6.0, 18.0)
    distance_range: tuple[float, float] = (0.1, 1.5)
    noise_types: tuple[str, ...] = ("colored", "hum", "fan", "babble")
    # Speed perturbation of the clean speech (our choice; the paper trains on DAPS's 20 real
    # speakers). Synthetic training voices are few (9, then 17 in the corpus's second edition):
    # new sentences of them enhance as well as the training ones, unseen voices far worse
    # (docs/benchmarks.md). (1.0, 1.0) turns it off.
    speed_range: tuple[float, float] = (1.0, 1.0)
    # Shares of the training pairs left without a room (dry) and without noise (noiseless), so that
    # the model learns to leave clean speech alone; the HiFi-GAN reimplementation uses 0.1 each
    # (recipes.md). 0 draws nothing: the pairs stay as they were.
    dry_fraction: float = 0.0
    noiseless_fraction: float = 0.0
    workers: int = 2  # DataLoader worker processes (0: make the batches in the training process)
    # True: the loaders hand over clean speech, noise and the room's number, and the training device
    # convolves and mixes them (simulate.degrade_batch): the same pairs to float32 rounding, with the
    # RIR convolutions off the loaders' CPU cores (for a GPU; on a CPU the loaders' cores are the same ones).
    degrade_on_device: bool = False
    valid_items: int = 8  # fixed validation clips, from the valid speakers
    valid_seconds: float = 2.0


@dataclass(frozen=True)
class StageConfig:
    """One training stage: ``steps`` generator updates (0 skips it) at ``lr_g``, decaying linearly to
    ``lr_g * lr_end_factor``; the adversarial stage also trains the discriminators at ``lr_d``,
    ``d_steps`` updates per generator update."""

    steps: int
    lr_g: float
    lr_d: float = 0.0
    d_steps: int = 0
    lr_end_factor: float = 1.0


def _paper_stages() -> dict[str, StageConfig]:
    return {  # Su et al. 2020; the adversarial stage's length is not settled (50 K or 500 K)
        "predictor": StageConfig(steps=0, lr_g=0.0),  # HiFi-GAN has no predictor
        "wavenet": StageConfig(steps=500_000, lr_g=1e-3),
        "postnet": StageConfig(steps=500_000, lr_g=1e-4),
        "adversarial": StageConfig(steps=50_000, lr_g=1e-5, lr_d=1e-3, d_steps=2),
    }


@dataclass(frozen=True)
class TrainConfig:
    """Bookkeeping: seed, precision and how often to log, validate and checkpoint (in steps)."""

    seed: int = 0
    precision: Literal["fp32", "bf16"] = "bf16"  # bf16 autocast on CUDA and on a CPU with native bf16; losses stay in float32
    compile: bool = False  # torch.compile the generator and the discriminators (compiled once per process, on the first steps)
    postnet_trains_wavenet: bool = True  # stage 2 keeps updating the WaveNet (not frozen), at the stage's lr
    log_every: int = 50
    valid_every: int = 1000
    checkpoint_every: int = 1000


@dataclass(frozen=True)
class Config:
    """A whole training run."""

    name: str
    model: Literal["hifigan", "hifigan2"] = "hifigan"  # hifigan2 conditions the WaveNet on predicted MFCCs
    generator: GeneratorConfig = field(default_factory=GeneratorConfig)
    conditioning: ConditioningConfig = field(default_factory=ConditioningConfig)
    discriminator: DiscriminatorConfig = field(default_factory=DiscriminatorConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    data: DataConfig = field(default_factory=DataConfig)
    stages: dict[str, StageConfig] = field(default_factory=_paper_stages)
    train: TrainConfig = field(default_factory=TrainConfig)

    @property
    def stage_names(self) -> tuple[str, ...]:
        """The stages this model trains through, in order (HiFi-GAN has no ``predictor`` stage)."""
        return tuple(s for s in STAGES if s != "predictor" or self.model == "hifigan2")

    def to_dict(self) -> dict:
        """Plain JSON-able dict (tuples become lists); :func:`from_dict` reads it back."""
        return json.loads(json.dumps(dataclasses.asdict(self)))


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message names the key and what to do."""


def _convert(value: object, hint: object, where: str) -> object:
    """``value`` from JSON checked against the type ``hint`` (tuples from lists, dataclasses from dicts)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if dataclasses.is_dataclass(hint):
        return from_dict(hint, value, where)
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"{where} = {value!r}: choose one of {', '.join(map(repr, args))}")
        return value
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where} should be an object with keys {', '.join(STAGES)}, got {value!r}")
        unknown = set(value) - set(STAGES)
        if unknown:
            raise ConfigError(f"{where}: unknown stage(s) {', '.join(sorted(unknown))}; the stages are {', '.join(STAGES)}")
        missing = set(STAGES) - set(value) - set(OPTIONAL_STAGES)
        if missing:
            raise ConfigError(f"{where}: missing stage(s) {', '.join(sorted(missing))}; give steps 0 to skip a stage")
        value = {"predictor": {"steps": 0, "lr_g": 0.0}} | value
        return {name: _convert(value[name], args[1], f"{where}.{name}") for name in STAGES}
    if origin is tuple:
        if not isinstance(value, list):
            raise ConfigError(f"{where} should be a list, got {value!r}")
        if args[-1] is Ellipsis:
            return tuple(_convert(v, args[0], f"{where}[{i}]") for i, v in enumerate(value))
        if len(value) != len(args):
            raise ConfigError(f"{where} should have {len(args)} entries, got {len(value)}: {value!r}")
        return tuple(_convert(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args)))
    ok = {bool: isinstance(value, bool), int: isinstance(value, int) and not isinstance(value, bool),
          float: isinstance(value, (int, float)) and not isinstance(value, bool), str: isinstance(value, str)}  # fmt: skip
    if not ok[hint]:
        raise ConfigError(f"{where} should be {hint.__name__}, got {type(value).__name__} {value!r}")
    if hint is float and not abs(value) < 1e300:  # False for NaN, Infinity and 10**400, which JSON and --set accept
        raise ConfigError(f"{where} = {value!r}: should be a finite number")
    return float(value) if hint is float else value


def from_dict(cls: type, data: object, where: str = "config") -> typing.Any:
    """Build dataclass ``cls`` from a JSON object; missing keys keep their defaults.

    Raises:
        ConfigError: an unknown key, a wrong type, or a missing required key, named with its path.
    """
    if not isinstance(data, dict):
        raise ConfigError(f"{where} should be an object, got {data!r}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = [k for k in data if k not in names]
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; the known keys are {', '.join(names)}")
    required = [f.name for f in dataclasses.fields(cls)
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]  # fmt: skip
    missing = [k for k in required if k not in data]
    if missing:
        raise ConfigError(f"{where}: missing required key(s) {', '.join(missing)}")
    return cls(**{k: _convert(v, hints[k], f"{where}.{k}") for k, v in data.items()})


def validate(config: Config) -> Config:
    """Check what types cannot: positive sizes, one entry per discriminator layer, a runnable schedule.

    Raises:
        ConfigError: naming the first problem found.
    """
    problems = []
    d = config.discriminator
    if not len(d.channels) == len(d.kernels) == len(d.strides) == len(d.groups):
        problems.append("discriminator: channels, kernels, strides and groups need one entry per layer")
    if min((*d.channels, *d.kernels, *d.strides, *d.groups), default=0) < 1:
        problems.append("discriminator: channels, kernels, strides and groups must all be >= 1")
    else:
        ins = (1,) + d.channels[:-1]
        for i, (a, b, g) in enumerate(zip(ins, d.channels, d.groups)):
            if a % g or b % g:
                problems.append(f"discriminator layer {i}: groups={g} must divide its {a} input and {b} output channels")
    if not d.rates or not all(0 < r <= SAMPLE_RATE for r in d.rates):
        problems.append(f"discriminator.rates: needs at least one sample rate in (0, {SAMPLE_RATE}] Hz")
    resolutions = config.loss.spectral_resolutions
    if not resolutions or not all(0 < hop <= n_fft for n_fft, hop in resolutions):
        problems.append("loss.spectral_resolutions: needs at least one [n_fft, hop] pair with 0 < hop <= n_fft")
    longest_window = max((n_fft for n_fft, _ in resolutions), default=0)
    if not config.data.corpus.strip():
        problems.append('data.corpus: name a corpus folder under data/ ("starter", "full", ...) or give its path')
    unknown_noise = set(config.data.noise_types) - set(NOISE_TYPES)
    if unknown_noise or not config.data.noise_types:
        problems.append(f"data.noise_types: choose from {', '.join(NOISE_TYPES)}")
    if config.generator.kernel_size % 2 == 0:
        problems.append("generator.kernel_size must be odd for the non-causal WaveNet")
    if not 0 <= config.generator.out_negative_slope < 1:
        problems.append("generator.out_negative_slope must lie in [0, 1): 0 is the paper's ReLU, 0.2 a leaky one")
    if config.data.segment_s * SAMPLE_RATE < longest_window:
        problems.append("data.segment_s is shorter than the largest spectral loss window")
    if config.discriminator.mel and config.data.segment_s < 0.5:
        problems.append("data.segment_s must be >= 0.5 s: the mel discriminator's four stride-2 blocks need 16 frames")
    if config.data.valid_seconds * SAMPLE_RATE < longest_window:
        problems.append("data.valid_seconds is shorter than the largest spectral loss window")
    sizes = {"data.batch_size": config.data.batch_size, "data.valid_items": config.data.valid_items,
             "generator.channels": config.generator.channels, "generator.layers": config.generator.layers,
             "generator.stacks": config.generator.stacks, "generator.postnet_layers": config.generator.postnet_layers,
             "generator.skip_channels": config.generator.skip_channels, "generator.out_channels": min(config.generator.out_channels),
             "generator.out_kernel": config.generator.out_kernel, "generator.postnet_channels": config.generator.postnet_channels,
             "generator.postnet_kernel": config.generator.postnet_kernel, "generator.kernel_size": config.generator.kernel_size,
             "discriminator.mel_channels": config.discriminator.mel_channels}  # fmt: skip
    problems += [f"{key} must be >= 1" for key, value in sizes.items() if value < 1]
    if config.data.workers < 0 or config.data.rirs < 0:
        problems.append("data.workers and data.rirs must be >= 0")
    if not 0 <= config.train.seed < 2**32:
        problems.append("train.seed must lie in [0, 2**32)")
    low, high = config.data.snr_range
    if low > high:
        problems.append(f"data.snr_range must be [low, high] with low <= high (in dB), got [{low:g}, {high:g}]")
    low, high = config.data.drr_range
    if low > high:
        problems.append(f"data.drr_range must be [low, high] with low <= high (in dB), got [{low:g}, {high:g}]")
    low, high = config.data.distance_range
    if not 0.05 <= low <= high <= 5.0:
        problems.append(f"data.distance_range must be [low, high] in metres with 0.05 <= low <= high <= 5, got [{low:g}, {high:g}]")
    if not 0 < config.loss.spectral_floor <= 1:
        problems.append("loss.spectral_floor must lie in (0, 1]: the magnitude below which log spectra stop telling bins apart")
    weights = {k: v for k, v in dataclasses.asdict(config.loss).items() if k.endswith("_weight")}
    problems += [f"loss.{k} must be >= 0 (0 turns the term off)" for k, v in weights.items() if v < 0]
    if not (0 <= config.data.dry_fraction <= 1 and 0 <= config.data.noiseless_fraction <= 1):
        problems.append("data.dry_fraction and data.noiseless_fraction are shares of the pairs: each must lie in [0, 1]")
    low, high = config.data.speed_range
    if not 0.5 <= low <= high <= 2.0:
        problems.append("data.speed_range must be [low, high] with 0.5 <= low <= high <= 2 ([1, 1] turns it off)")
    for name, stage in config.stages.items():
        if stage.steps < 0 or stage.lr_g < 0 or stage.lr_d < 0 or stage.d_steps < 0:
            problems.append(f"stages.{name}: steps, lr_g, lr_d and d_steps must be >= 0")
        if stage.steps and not 0 < stage.lr_g <= 1:
            problems.append(f"stages.{name}.lr_g must lie in (0, 1] for a stage that trains (or steps 0 to skip it)")
        if stage.lr_d > 1:
            problems.append(f"stages.{name}.lr_d must be <= 1")
        if not 0.0 <= stage.lr_end_factor <= 1.0:
            problems.append(f"stages.{name}.lr_end_factor must lie in [0, 1]")
    if config.model == "hifigan" and config.stages["predictor"].steps:
        problems.append('stages.predictor trains HiFi-GAN-2\'s MFCC predictor: set "model": "hifigan2", or its steps to 0')
    k = config.conditioning
    if config.model == "hifigan2" and not (1 <= k.n_mfcc <= k.n_mels and 1 <= k.hop <= k.n_fft and k.rnn_hidden >= 1 and k.rnn_layers >= 1):
        problems.append("conditioning: needs 1 <= n_mfcc <= n_mels, 1 <= hop <= n_fft, rnn_hidden >= 1 and rnn_layers >= 1")
    adv = config.stages["adversarial"]
    if adv.steps and (adv.d_steps < 1 or adv.lr_d <= 0):
        problems.append("stages.adversarial: needs d_steps >= 1 and lr_d > 0 (or steps 0 to skip it)")
    if sum(s.steps for s in config.stages.values()) == 0:
        problems.append("stages: every stage has 0 steps; nothing would train")
    for key in ("log_every", "valid_every", "checkpoint_every"):
        if getattr(config.train, key) < 1:
            problems.append(f"train.{key} must be >= 1")
    if problems:
        raise ConfigError("; ".join(problems))
    return config


def load(name_or_path: str | Path, overrides: typing.Sequence[str] = ()) -> Config:
    """A config by name (``"ci"``, ``"cpu"``, ``"full"``, ``"hifigan2-ci"``, ...) or a JSON file, checked,
    with ``overrides`` such as ``"loss.l1_weight=100"`` applied (see :func:`override`).

    Raises:
        ConfigError: the file is missing, is not JSON, or fails the checks (the message says which key).
    """
    path = Path(name_or_path)
    if path.suffix != ".json":
        path = CONFIG_DIR / f"{name_or_path}.json"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in CONFIG_DIR.glob("*.json")))
        raise ConfigError(f"no config {name_or_path!r}: give one of {known} or the path of a .json file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ConfigError(f"{path} is not valid JSON: {err}") from err
    try:
        config = validate(from_dict(Config, data))
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from None
    return override(config, overrides) if overrides else config


def override(config: Config, assignments: typing.Sequence[str]) -> Config:
    """``config`` with each ``"dotted.key=value"`` of ``assignments`` set, checked like a file.

    The value is read as JSON (``100``, ``1e-4``, ``true``, ``[1, 2]``) or else taken as a string,
    so ``--set loss.l1_weight=100 --set stages.wavenet.lr_g=1e-4`` on the command line changes two
    values of a named config without writing a new file.

    Raises:
        ConfigError: an assignment without ``=``, a key the config does not have, or a value that fails the checks.
    """
    data = config.to_dict()
    for assignment in assignments:
        key, sep, text = assignment.partition("=")
        if not sep:
            raise ConfigError(f"--set {assignment!r}: write it as key=value, e.g. loss.l1_weight=100")
        parts = key.strip().split(".")
        node = data
        for depth, part in enumerate(parts):
            if not isinstance(node, dict) or part not in node:
                known = ", ".join(node) if isinstance(node, dict) else f"none: {'.'.join(parts[:depth])} is a value"
                raise ConfigError(f"--set {assignment!r}: no key {'.'.join(parts[: depth + 1])!r}; the keys there are {known}")
            if depth < len(parts) - 1:
                node = node[part]
        try:
            node[parts[-1]] = json.loads(text)
        except json.JSONDecodeError:
            node[parts[-1]] = text
    try:
        return validate(from_dict(Config, data))
    except ConfigError as err:
        raise ConfigError(f"--set {' '.join(assignments)}: {err}") from None

