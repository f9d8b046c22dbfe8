"""The shipped checkpoint (``data/checkpoints``): small enough to commit, loadable, and documented."""

from hifigan_edu import enhance, evaluate

CHECKPOINTS = enhance.SHIPPED.parent


def test_shipped_checkpoint_loads_and_matches_its_documents():
    assert enhance.SHIPPED.stat().st_size <= 25 * 2**20  # the limit for a committed checkpoint
    G, config, info = enhance.load_generator(enhance.SHIPPED)
    assert config.name == "cpu"
    assert f"{info['step']:,d} of" in (CHECKPOINTS / "README.md").read_text()  # the README names the step the file holds
    rows = evaluate.read(CHECKPOINTS / "hifigan-cpu" / "evaluation.csv")
    systems = {r["system"] for r in rows}
    assert f"HiFi-GAN (cpu, step {info['step']})" in systems and set(evaluate.baselines()) <= systems
    assert len({r["id"] for r in rows}) == 36  # every item of the fixed test set
    last_logged = (CHECKPOINTS / "hifigan-cpu" / "metrics.csv").read_text().splitlines()[-1]
    assert int(last_logged.split(",")[0]) == info["step"]  # the curves end where the weights were saved
