"""Degradation, the on-the-fly dataset, the RIR bank, and the committed test set."""

import numpy as np
import pytest
import torch

from hifigan_edu.audio import snr_db
from hifigan_edu.data import corpus, rooms, simulate
from hifigan_edu.data.rooms import reverberate, simulate_rir


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def dataset(cache):
    return simulate.PairDataset("train", segment=8000, length=20, seed=3, rirs=4, cache_dir=cache)


def test_degrade_hits_the_snr_against_reverberant_speech():
    rng = np.random.default_rng(0)
    clean = 0.05 * rng.standard_normal(16_000).astype(np.float32)
    rir = simulate_rir(0.5, seed=5)
    noise = rng.standard_normal(16_000).astype(np.float32)
    degraded, target = simulate.degrade(clean, rir, noise, 7.0)
    wet, direct = reverberate(clean, rir)
    gain = target[0] / direct[0]
    assert snr_db(gain * wet, degraded - gain * wet) == pytest.approx(7.0, abs=0.1)
    assert max(np.abs(degraded).max(), np.abs(target).max()) <= simulate.PEAK + 1e-6


def test_without_rooms_the_dataset_only_adds_noise(cache):
    dry = simulate.PairDataset("train", segment=8000, length=5, seed=3, rirs=0, snr_range=(5.0, 5.0), cache_dir=cache)
    for i in range(5):
        item = dry[i]
        clean, degraded = item["clean"][0].numpy(), item["degraded"][0].numpy()
        assert snr_db(clean, degraded - clean) == pytest.approx(5.0, abs=0.05)
        assert item["rt60_measured"] == 0.0


def test_dry_and_noiseless_shares_leave_the_other_pairs_as_they_were(cache):
    kwargs = dict(segment=8000, length=40, seed=3, rirs=4, cache_dir=cache)
    plain = simulate.PairDataset("train", **kwargs)
    clean = simulate.PairDataset("train", **kwargs, dry_fraction=1.0, noiseless_fraction=1.0)
    for i in range(3):  # no room and no noise: the input is the target
        torch.testing.assert_close(clean[i]["degraded"], clean[i]["clean"])
        assert clean[i]["rt60_measured"] == 0.0 and clean[i]["snr_db"] == float("inf")
    some = simulate.PairDataset("train", **kwargs, dry_fraction=0.25, noiseless_fraction=0.25)
    dry = [some[i]["rt60_measured"] == 0.0 for i in range(40)]
    noiseless = [some[i]["snr_db"] == float("inf") for i in range(40)]
    assert 3 <= sum(dry) <= 17 and 3 <= sum(noiseless) <= 17
    for i in range(40):  # the same speech, room (unless dry) and SNR (unless noiseless) as without the shares
        a, b = plain[i], some[i]
        assert a["noise_type"] == b["noise_type"] and (dry[i] or a["rt60_measured"] == b["rt60_measured"])
        assert noiseless[i] or a["snr_db"] == b["snr_db"]


def test_segments_are_never_digital_silence(cache):
    # MBROLA leaves pauses of exact zeros longer than a short segment: such a cut is drawn again
    short = simulate.PairDataset("train", segment=800, length=40, seed=3, rirs=0, cache_dir=cache)
    tone = np.sin(np.arange(1600) / 5).astype(np.float32)
    short.speech = [np.concatenate([np.zeros(16000, np.float32), tone, np.zeros(16000, np.float32)])]
    for i in range(40):
        assert np.any(short[i]["clean"].numpy()), i
    short.speech = [np.zeros(16000, np.float32)]
    with pytest.raises(ValueError, match="all silent"):
        short[0]


def test_dataset_items_are_pure_functions_of_seed_and_index(dataset):
    a, b = dataset[5], dataset[5]
    assert a["degraded"].shape == a["clean"].shape == (1, 8000)
    assert torch.equal(a["degraded"], b["degraded"]) and torch.equal(a["clean"], b["clean"])
    assert not torch.equal(dataset[6]["degraded"], a["degraded"])
    assert a["noise_type"] in ("colored", "hum", "fan", "babble")
    assert simulate.SNR_RANGE[0] <= a["snr_db"] <= simulate.SNR_RANGE[1]


def test_change_speed_moves_pitch_and_length_by_the_factor():
    t = np.arange(16_000) / 16_000
    tone = np.sin(2 * np.pi * 200 * t).astype(np.float32)
    faster = simulate.change_speed(tone, 1.1)
    assert len(faster) == pytest.approx(16_000 / 1.1, abs=2)
    spectrum = np.abs(np.fft.rfft(faster * np.hanning(len(faster))))
    assert np.argmax(spectrum) * 16_000 / len(faster) == pytest.approx(220, abs=2)
    assert simulate.change_speed(tone, 1.001) is tone  # rounds to 16,000 Hz: untouched


def test_speed_perturbation_changes_the_voice_and_keeps_items_pure(dataset, cache):
    plain = simulate.PairDataset("train", segment=8000, length=20, seed=3, rirs=4, cache_dir=cache, speed_range=(1.0, 1.0))
    assert all(torch.equal(plain[i]["clean"], dataset[i]["clean"]) for i in range(3))  # (1, 1) draws no factor: the default items
    varied = simulate.PairDataset("train", segment=8000, length=20, seed=3, rirs=4, cache_dir=cache, speed_range=(0.85, 1.15))
    a = varied[5]
    assert a["clean"].shape == (1, 8000) and torch.equal(a["clean"], varied[5]["clean"])
    assert not torch.equal(a["clean"], dataset[5]["clean"])


def test_dataset_batches_with_a_dataloader(dataset):
    batch = next(iter(torch.utils.data.DataLoader(dataset, batch_size=4)))
    assert batch["degraded"].shape == (4, 1, 8000)


@pytest.mark.parametrize("rirs", [4, 0])
def test_degrading_on_the_device_makes_the_loaders_pairs(cache, rirs):
    # the loaders hand over the parts (clean speech, room, noise, SNR); degrade_batch mixes them in torch
    data = simulate.PairDataset("train", segment=8000, length=8, seed=3, rirs=rirs, cache_dir=cache)
    wanted = [data[i] for i in range(8)]
    data.undegraded = True
    parts = next(iter(torch.utils.data.DataLoader(data, batch_size=8)))
    assert set(parts) == {"speech", "noise", "room", "snr_db", "noise_type"} and parts["speech"].shape == (8, 1, 8000)
    degraded, clean = simulate.degrade_batch(parts["speech"], parts["noise"], parts["snr_db"].float(), parts["room"],
                                             simulate.rooms_on(data.rooms, torch.device("cpu")))  # fmt: skip
    for got, key in ((degraded, "degraded"), (clean, "clean")):
        want = torch.stack([w[key] for w in wanted])
        assert got.shape == want.shape and got.dtype == torch.float32
        assert (got - want).abs().max() <= 1e-5 * want.abs().max(), key


def test_validation_items_do_not_repeat_the_training_noise(cache):
    """Item i of every split has its own random stream: the validation clips hear other noise than the first batch."""
    kwargs = dict(segment=8000, length=4, seed=3, rirs=0, snr_range=(5.0, 5.0), noise_types=("colored",), cache_dir=cache)
    train, valid = simulate.PairDataset("train", **kwargs), simulate.PairDataset("valid", **kwargs)
    for i in range(4):
        noise = [(d[i]["degraded"] - d[i]["clean"])[0].numpy() for d in (train, valid)]
        assert abs(np.corrcoef(*noise)[0, 1]) < 0.5


def test_rir_bank_is_read_from_its_cache(dataset, cache, monkeypatch):
    assert len(dataset.bank) == 4
    assert (cache / f"rirs-train-4-seed0-{simulate.RIRBank.key(rooms.DISTANCE_RANGE, simulate.DRR_RANGE)}.npz").is_file()
    assert all(simulate.DRR_RANGE[0] <= r.drr_db <= simulate.DRR_RANGE[1] for r in dataset.bank.rirs)

    def no_simulation(*args, **kwargs):
        raise AssertionError("the cached bank should have been read, not simulated again")

    monkeypatch.setattr(simulate, "simulate_rir", no_simulation)
    again = simulate.RIRBank("train", 4, cache_dir=cache)
    for a, b in zip(again.rirs, dataset.bank.rirs, strict=True):
        assert a.labels() == b.labels()
        np.testing.assert_array_equal(a.h, b.h)
        np.testing.assert_array_equal(a.h_direct, b.h_direct)


def test_room_seeds_of_splits_never_coincide():
    seeds = {p: {simulate.room_seed(p, s, i) for s in range(3) for i in range(2000)} for p in simulate.ROOM_PURPOSES}
    for i, a in enumerate(simulate.ROOM_PURPOSES):
        for b in simulate.ROOM_PURPOSES[i + 1 :]:
            assert not seeds[a] & seeds[b], (a, b)


def test_bad_split_names_have_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="train, valid, test"):
        simulate.RIRBank("dev", 2, cache_dir=tmp_path)
    with pytest.raises(ValueError, match="no utterances of split 'nope'"):
        simulate.PairDataset("nope")


@pytest.fixture(scope="module", params=list(simulate.REGIMES))
def regime(request):
    return simulate.REGIMES[request.param]


@pytest.fixture(scope="module")
def test_rows(regime):
    return corpus.read_manifest(regime.folder / "manifest.csv")


def test_testset_uses_only_unseen_speakers(test_rows, regime):
    test_speakers = {v.speaker for v in corpus.VOICES if v.split == "test"} | {"allison"}
    assert {r["speaker"] for r in test_rows} <= test_speakers
    assert {r["source"] for r in test_rows} == {"synthetic", "real"}
    assert {r["set"] for r in test_rows} == {regime.name} and all(r["id"].startswith(f"{regime.prefix}-") for r in test_rows)
    assert (regime.folder / "VERSION").read_text().strip() == str(regime.version)


def test_testset_fills_every_measured_condition_cell(test_rows, regime):
    counts = {}
    for r in test_rows:
        snr = next(b for b in regime.snr_bins if b[0] <= float(r["snr_db"]) <= b[1])
        rt60 = next(b for b in simulate.RT60_BINS if b[0] <= float(r["rt60_measured"]) <= b[1])
        counts[snr, rt60] = counts.get((snr, rt60), 0) + 1
        assert regime.drr_range[0] <= float(r["drr_db"]) <= regime.drr_range[1]
    assert len(counts) == len(regime.snr_bins) * len(simulate.RT60_BINS)
    assert set(counts.values()) == {4}  # 3 synthetic + 1 real per cell


def test_the_main_set_is_hifigans_regime_and_the_hard_one_is_harsher():
    main, hard = (corpus.read_manifest(r.folder / "manifest.csv") for r in (simulate.MAIN, simulate.HARD))
    snr, drr = ({name: np.array([float(r[key]) for r in rows]) for name, rows in (("main", main), ("hard", hard))}
                for key in ("snr_db", "drr_db"))  # fmt: skip
    assert snr["main"].min() >= 20 and snr["main"].max() <= 40 and drr["main"].min() >= -6 and drr["main"].max() <= 18
    assert np.median(snr["hard"]) < np.median(snr["main"]) - 10 and np.median(drr["hard"]) < np.median(drr["main"]) - 5
    assert not {r["room_seed"] for r in main} & {r["room_seed"] for r in hard}  # rooms of their own


def test_testset_files_match_their_checksums(regime):
    assert corpus.verify(regime.folder) == []


def test_testset_build_is_reproducible(test_rows, regime, tmp_path):
    """The rebuild equals the committed files bit for bit on the CPU that built them; another CPU's
    floating point may round a few samples to the neighbouring 16-bit value (3 of 30,528 samples of one
    item on an EPYC without AVX-512), never more. (The hard set is version 3 of the test set, renamed.)"""
    import soundfile as sf

    rebuilt = simulate.build_testset(regime, out_dir=tmp_path / "testset")
    assert [r["id"] for r in rebuilt] == [r["id"] for r in test_rows]
    for new, old in zip(rebuilt, test_rows):
        for key in ("degraded", "clean"):
            if new[f"{key}_sha256"] != old[f"{key}_sha256"]:
                a = sf.read(tmp_path / "testset" / new[key], dtype="int16")[0].astype(int)
                b = sf.read(regime.folder / old[key], dtype="int16")[0].astype(int)
                assert a.shape == b.shape and np.abs(a - b).max() <= 1 and np.mean(a != b) < 1e-3, (new["id"], key)


def test_testset_loads_and_matches_its_labels(test_rows, regime):
    items = simulate.load_testset(regime.name, source="synthetic")
    assert len(items) == sum(r["source"] == "synthetic" for r in test_rows)
    for item in items[:3]:
        assert item.degraded.shape == item.clean.shape
        assert item.degraded.shape[0] / 16_000 == pytest.approx(float(item.info["duration_s"]), abs=1e-3)


def test_testset_is_never_replaced_silently(tmp_path):
    (tmp_path / "testset").mkdir()
    with pytest.raises(FileExistsError, match="--overwrite"):
        simulate.build_testset(out_dir=tmp_path / "testset")
