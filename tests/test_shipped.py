"""The shipped checkpoint (``data/checkpoints``): small enough to commit, loadable, and documented."""

from hifigan_edu import enhance, evaluate, train
from hifigan_edu.data import simulate

CHECKPOINTS = enhance.SHIPPED.parent


def test_shipped_checkpoint_loads_and_matches_its_documents():
    assert enhance.SHIPPED.stat().st_size <= 25 * 2**20  # the limit for a committed checkpoint
    _, config, info = enhance.load_generator(enhance.SHIPPED)
    assert config.name == "cpu"
    assert f"{info['step']:,d} of" in (CHECKPOINTS / "README.md").read_text()  # the README names the step the file holds
    rows = evaluate.read(CHECKPOINTS / "hifigan-cpu" / "evaluation.csv")
    systems = {r["system"] for r in rows}
    assert f"HiFi-GAN (cpu, step {info['step']})" in systems and set(evaluate.baselines()) <= systems
    assert {r["id"] for r in rows} == {item.info["id"] for item in simulate.load_testset()}  # every item of the fixed test set
    assert int(train.read_metrics(CHECKPOINTS / "hifigan-cpu")[-1]["step"]) == info["step"]  # the curves end where the weights were saved
