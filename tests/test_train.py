"""The trainer: two separate passes, exact resume, NaN stop, no overwriting, atomic checkpoints."""

import dataclasses
import itertools
import json

import pytest
import torch

from hifigan_edu import config, hifigan, train


def snapshot(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def batch():
    torch.manual_seed(3)
    clean = 0.1 * torch.randn(2, 1, 8000)
    return clean + 0.05 * torch.randn_like(clean), clean


def test_discriminator_step_leaves_the_generator_unchanged_and_judges_the_postnet_output(tiny_config):
    G, D = hifigan.build(tiny_config)
    degraded, clean = batch()
    seen = []
    D.register_forward_pre_hook(lambda module, args: seen.append(args[0].detach().clone()))
    before_g, before_d = snapshot(G), snapshot(D)
    opt = torch.optim.Adam(D.parameters(), lr=1e-3)
    train.discriminator_step(G, D, degraded, clean, opt, "least_squares")
    assert same(snapshot(G), before_g) and all(p.grad is None for p in G.parameters())
    assert not same(snapshot(D), before_d)
    assert torch.equal(seen[0], clean) and torch.equal(seen[1], G(degraded)[1].detach())  # real, then the postnet output


def test_generator_step_leaves_the_discriminators_unchanged(tiny_config):
    G, D = hifigan.build(tiny_config)
    degraded, clean = batch()
    seen = []
    D.register_forward_pre_hook(lambda module, args: seen.append(args[0].detach().clone()))
    expected_final = G(degraded)[1].detach()
    before_g, before_d = snapshot(G), snapshot(D)
    opt = torch.optim.Adam(G.parameters(), lr=1e-3)
    terms = train.generator_step(G, D, degraded, clean, opt, "adversarial", tiny_config.loss)
    assert set(terms) == {"wavenet", "postnet", "adversarial", "feature_matching"}
    assert same(snapshot(D), before_d) and all(p.grad is None for p in D.parameters())
    assert all(p.requires_grad for p in D.parameters())  # unfrozen again for its own step
    assert not same(snapshot(G), before_g)
    assert torch.equal(seen[1], expected_final)  # the discriminators judged the postnet output


@pytest.mark.parametrize("postnet_trains_wavenet", [True, False])
def test_each_stage_optimises_what_the_paper_says(tiny_config, postnet_trains_wavenet):
    c = dataclasses.replace(tiny_config, train=dataclasses.replace(tiny_config.train, postnet_trains_wavenet=postnet_trains_wavenet))
    G, D = hifigan.build(c)
    ids = lambda params: {id(p) for p in params}  # noqa: E731
    optimised = {stage: train.optimisers(c, stage, G, D) for stage in c.stage_names}
    assert c.stage_names == ("wavenet", "postnet", "adversarial")  # HiFi-GAN has no predictor stage
    assert ids(optimised["wavenet"]["g_opt"].param_groups[0]["params"]) == ids(G.wavenet.parameters())
    stage2 = G.parameters() if postnet_trains_wavenet else G.postnet.parameters()
    assert ids(optimised["postnet"]["g_opt"].param_groups[0]["params"]) == ids(stage2)
    assert ids(optimised["adversarial"]["d_opt"].param_groups[0]["params"]) == ids(D.parameters())
    degraded, clean = batch()
    before = snapshot(G.wavenet)
    terms = train.generator_step(G, D, degraded, clean, optimised["postnet"]["g_opt"], "postnet", c.loss)
    assert set(terms) == {"wavenet", "postnet"}
    assert same(snapshot(G.wavenet), before) != postnet_trains_wavenet  # a frozen WaveNet stays put in stage 2


def test_stage_at():
    c = config.load("ci")
    assert train.stage_at(c, 0) == ("wavenet", 0)
    assert train.stage_at(c, 400) == ("postnet", 0)
    assert train.stage_at(c, 451) == ("adversarial", 1)
    assert train.stage_at(c, 500) == ("done", 0)


@pytest.mark.parametrize(
    "stop, data", [(3, {}), (5, {}), (3, dict(rirs=4, workers=1))],
    ids=["in postnet", "in adversarial", "with rooms and a loader process"],  # the last loads data as the shipped configs do
)
def test_resume_continues_exactly(tiny_config, tmp_path, stop, data):
    tiny_config = dataclasses.replace(tiny_config, data=dataclasses.replace(tiny_config.data, **data))
    straight = train.train(tiny_config, tmp_path / "straight", progress=False)
    first = train.train(tiny_config, tmp_path / "split", max_steps=stop, progress=False)
    assert first.step == stop
    resumed = train.train(tiny_config, tmp_path / "split", resume=True, progress=False)
    assert resumed.step == straight.step == 6
    assert same(snapshot(resumed.G), snapshot(straight.G)) and same(snapshot(resumed.D), snapshot(straight.D))
    # the same losses and learning rates at every step (the interrupted run also validated at its stop)
    losses = lambda rows: [{k: r[k] for k in ("step", "stage", "wavenet", "postnet", "discriminator", "lr_g")} for r in rows]  # noqa: E731
    split, straight_rows = train.read_metrics(tmp_path / "split"), train.read_metrics(tmp_path / "straight")
    assert losses(split) == losses(straight_rows) and split[-1]["valid_si_sdr"] == straight_rows[-1]["valid_si_sdr"]
    export = torch.load(tmp_path / "split" / train.GENERATOR, weights_only=True)
    assert export["kind"] == "hifigan-generator" and export["step"] == 6


def test_a_time_limit_stops_at_a_checkpoint_that_resumes(tiny_config, tmp_path):
    run = train.train(tiny_config, tmp_path, max_minutes=0.0, progress=False)  # time is up after the first step
    assert run.step == 1 and torch.load(tmp_path / train.GENERATOR, weights_only=True)["step"] == 1
    assert train.read_metrics(tmp_path)[-1]["valid_si_sdr"]  # the stop was validated
    assert train.train(tiny_config, tmp_path, resume=True, progress=False).step == 6


def test_no_overwrite_and_no_resume_with_another_config(tiny_config, tmp_path):
    train.train(tiny_config, tmp_path, max_steps=1, progress=False)
    with pytest.raises(FileExistsError, match="--resume"):
        train.train(tiny_config, tmp_path, progress=False)
    other = dataclasses.replace(tiny_config, loss=dataclasses.replace(tiny_config.loss, l1_weight=2.0))
    with pytest.raises(config.ConfigError, match=r"loss.l1_weight: 20.0 -> 2.0"):
        train.train(other, tmp_path, resume=True, progress=False)
    with pytest.raises(FileNotFoundError, match="start without --resume"):
        train.train(tiny_config, tmp_path / "empty", resume=True, progress=False)


def test_resume_accepts_new_values_of_how_the_run_computes(tiny_config, tmp_path):
    train.train(tiny_config, tmp_path, max_steps=1, progress=False)
    changed = dataclasses.replace(tiny_config, train=dataclasses.replace(tiny_config.train, precision="bf16", valid_every=2))
    assert train.train(changed, tmp_path, resume=True, progress=False).step == 6


def test_init_starts_a_new_run_from_a_generators_weights(tiny_config, tmp_path):
    trained = train.train(tiny_config, tmp_path / "a", max_steps=2, progress=False)
    finer = dataclasses.replace(tiny_config, loss=dataclasses.replace(tiny_config.loss, l1_weight=100.0))
    tuned = train.train(finer, tmp_path / "b", max_steps=1, progress=False, init=tmp_path / "a" / train.GENERATOR)
    assert tuned.step == 1 and tuned.stage == "wavenet" and tuned.init == str(tmp_path / "a" / train.GENERATOR)
    # the weights it started from are the trained ones: one step moved them only a little
    start, after = snapshot(trained.G), snapshot(tuned.G)
    assert all(torch.allclose(start[k], after[k], atol=1e-2) for k in start) and not same(start, after)
    assert torch.load(tmp_path / "b" / train.GENERATOR, weights_only=True)["init"] == tuned.init
    assert train.train(finer, tmp_path / "b", resume=True, max_steps=1, progress=False).init == tuned.init  # kept on resume
    with pytest.raises(config.ConfigError, match="Drop --init or --resume"):
        train.train(finer, tmp_path / "b", resume=True, progress=False, init=tmp_path / "a" / train.GENERATOR)
    wider = dataclasses.replace(tiny_config, generator=dataclasses.replace(tiny_config.generator, channels=6))
    with pytest.raises(config.ConfigError, match=r"not the one config 'tiny' builds; differences: generator.channels: 4 -> 6"):
        train.train(wider, tmp_path / "c", progress=False, init=tmp_path / "a" / train.GENERATOR)
    with pytest.raises(FileNotFoundError, match="--init: no checkpoint at .*none.pt; give a generator.pt"):
        train.train(finer, tmp_path / "d", progress=False, init=tmp_path / "none.pt")


def test_training_batches_follow_the_configs_speed_range(tiny_config):
    cpu = torch.device("cpu")
    faster = dataclasses.replace(tiny_config, data=dataclasses.replace(tiny_config.data, speed_range=(1.2, 1.2)))
    plain, varied = next(train.batches(tiny_config, 0, cpu))[1], next(train.batches(faster, 0, cpu))[1]
    assert plain.shape == varied.shape and not torch.equal(plain, varied)


def test_batches_degraded_on_the_device_are_the_loaders_pairs(tiny_config):
    cpu = torch.device("cpu")
    roomy = dataclasses.replace(tiny_config, data=dataclasses.replace(tiny_config.data, rirs=4, workers=1))
    on_device = dataclasses.replace(roomy, data=dataclasses.replace(roomy.data, degrade_on_device=True))
    for want, got in zip(itertools.islice(train.batches(roomy, 3, cpu), 2), itertools.islice(train.batches(on_device, 3, cpu), 2)):
        for a, b in zip(want, got):
            assert a.shape == b.shape == (2, 1, 8000) and (a - b).abs().max() <= 1e-5 * a.abs().max()


def test_the_train_command_takes_overrides_and_an_init(tiny_config, tmp_path, capsys):
    from hifigan_edu.__main__ import main

    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(tiny_config.to_dict()))
    main(["train", "--config", str(path), "--run-dir", str(tmp_path / "a"), "--max-steps", "1"])
    main(["train", "--config", str(path), "--run-dir", str(tmp_path / "b"), "--max-steps", "1",
          "--set", "loss.l1_weight=50", "--init", str(tmp_path / "a" / train.GENERATOR)])  # fmt: skip
    saved = torch.load(tmp_path / "b" / train.CHECKPOINT, weights_only=True)
    assert saved["config"]["loss"]["l1_weight"] == 50.0 and saved["init"] == str(tmp_path / "a" / train.GENERATOR)
    assert "stopped at step 1" in capsys.readouterr().out
    with pytest.raises(SystemExit, match=r"error: .*loss.l1_weight: 50.0 -> 20.0"):  # a resume repeats the --set
        main(["train", "--config", str(path), "--run-dir", str(tmp_path / "b"), "--resume"])
    with pytest.raises(SystemExit, match=r"error: --set 'loss.l1=3': no key 'loss.l1'"):
        main(["train", "--config", str(path), "--run-dir", str(tmp_path / "c"), "--set", "loss.l1=3"])


def test_a_nan_loss_stops_training_and_keeps_the_last_good_checkpoint(tiny_config, tmp_path, monkeypatch):
    train.train(tiny_config, tmp_path, max_steps=2, progress=False)  # checkpoint at step 2
    good = (tmp_path / train.CHECKPOINT).read_bytes()
    monkeypatch.setattr(hifigan, "reconstruction_loss", lambda *args: torch.tensor(float("nan"), requires_grad=True))
    with pytest.raises(train.NonFiniteLoss, match=r"step 3 \(postnet\): the wavenet loss is nan.*checkpoint.pt holds step 2, the last checkpoint written"):
        train.train(tiny_config, tmp_path, resume=True, progress=False)
    assert (tmp_path / train.CHECKPOINT).read_bytes() == good
    assert not list(tmp_path.glob(".*part*"))  # no half-written file left behind


def test_metrics_are_logged_and_plotted(tiny_config, tmp_path):
    train.train(tiny_config, tmp_path, progress=False)
    rows = train.read_metrics(tmp_path)
    assert rows[0]["stage"] == "input" and rows[-1]["step"] == "6"
    assert [r["stage"] for r in rows[1:]] == ["wavenet"] * 2 + ["postnet"] * 2 + ["adversarial"] * 2
    assert all(float(r["discriminator"]) > 0 for r in rows if r["stage"] == "adversarial")
    fig = train.plot_metrics(tmp_path)
    assert fig.axes[1].get_ylabel() == "SI-SDR (dB)"


def test_a_nan_gradient_stops_the_step_before_it_poisons_the_weights(tiny_config):
    G, D = hifigan.build(tiny_config)
    degraded, clean = batch()
    G.wavenet.inp.weight.register_hook(lambda grad: grad * float("nan"))
    before = snapshot(G)
    opt = torch.optim.Adam(G.wavenet.parameters(), lr=1e-3)
    with pytest.raises(train.NonFiniteLoss, match="gradient norm is nan"):
        train.generator_step(G, D, degraded, clean, opt, "wavenet", tiny_config.loss)
    assert same(snapshot(G), before)


def test_bf16_on_a_cpu_without_it_falls_back_to_fp32_with_a_note(tiny_config, monkeypatch, capsys):
    bf16 = dataclasses.replace(tiny_config, train=dataclasses.replace(tiny_config.train, precision="bf16"))
    monkeypatch.setattr(train, "cpu_has_bf16", lambda: False)
    train.note_once.cache_clear()
    assert train.precision_on(bf16, torch.device("cpu")) == "fp32" and train.precision_on(bf16, torch.device("cpu")) == "fp32"
    assert capsys.readouterr().out.count("this CPU has no native bfloat16") == 1  # one line, once
    with train.autocast_for(bf16, torch.device("cpu"))():
        assert not torch.is_autocast_enabled("cpu")
    assert train.precision_on(tiny_config, torch.device("cpu")) == "fp32"
    monkeypatch.setattr(train, "cpu_has_bf16", lambda: True)
    with train.autocast_for(bf16, torch.device("cpu"))():
        assert torch.is_autocast_enabled("cpu") and torch.get_autocast_dtype("cpu") == torch.bfloat16


@pytest.mark.skipif(not train.cpu_has_bf16(), reason="this CPU has no native bf16")
def test_cpu_autocast_changes_the_judgement_and_the_losses_by_rounding_only():
    # oneDNN's bf16 Conv2d returns NaN or 1e14 where a stride-2 output is one frame wide, as the mel
    # discriminator's last block is for 0.5 s segments: that block stays in float32 on the CPU
    c = config.load("cpu")
    torch.manual_seed(0)
    G, D = hifigan.build(c)
    clean = 0.1 * torch.randn(8, 1, 8000)
    degraded = clean + 0.05 * torch.randn_like(clean)
    with torch.no_grad():
        reference = [s for s, _ in D(clean)]
        for _ in range(5):  # the garbage came and went from call to call
            with torch.autocast("cpu", dtype=torch.bfloat16):
                judged = [s for s, _ in D(clean)]
            for r, j in zip(reference, judged):
                assert torch.isfinite(j).all() and (j.float() - r).abs().max() < 0.05 * r.abs().max() + 1e-3
        loss = hifigan.reconstruction_loss(G(degraded)[1], clean, c.loss)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            rounded = hifigan.reconstruction_loss(G(degraded)[1], clean, c.loss)
    assert rounded.dtype == torch.float32 and rounded.item() == pytest.approx(loss.item(), rel=0.01)
