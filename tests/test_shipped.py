"""The shipped checkpoints (``data/checkpoints``): small enough to commit, loadable, and documented."""

import pytest

from hifigan_edu import enhance, evaluate, train
from hifigan_edu.files import ROOT

CHECKPOINTS = enhance.SHIPPED.parent


@pytest.mark.parametrize(("file", "model", "name"), [("hifigan-long-run.pt", "HiFi-GAN", "cpu"),
                                                    ("hifigan-gpu-budget.pt", "HiFi-GAN", "gpu-budget"), ("hifigan-cpu.pt", "HiFi-GAN", "cpu"),
                                                    ("hifigan2-gpu-budget.pt", "HiFi-GAN-2", "hifigan2-gpu-budget"), ("hifigan2-cpu.pt", "HiFi-GAN-2", "hifigan2-cpu")])
def test_shipped_checkpoint_loads_and_matches_its_documents(file, model, name):
    path = CHECKPOINTS / file
    assert path.stat().st_size <= 25 * 2**20  # the limit for a committed checkpoint
    enhancer = enhance.load_enhancer(path)
    step = enhancer.info["step"]
    assert enhancer.config.name == name and enhancer.label == f"{model} ({name}, step {step})"
    readme = (CHECKPOINTS / "README.md").read_text()
    assert f"`{path.name}`: {model}, `{name}` config, step {step:,d} of" in readme  # the README names the step the file holds
    rows = evaluate.read(CHECKPOINTS / path.stem / "evaluation.csv")
    systems = {r["system"] for r in rows}
    assert enhancer.label in systems and set(evaluate.baselines()) <= systems
    assert {r["id"] for r in rows} == {item.info["id"] for item in evaluate.all_test_items()}  # every item of both test sets
    assert int(train.read_metrics(CHECKPOINTS / path.stem)[-1]["step"]) == step  # the curves end where the weights were saved


def test_the_default_is_the_best_shipped_generator_by_the_readme_rule():
    """README.md: the default is the shipped generator with the highest mean PESQ-WB on the main test set's
    synthetic items, from its committed evaluation."""
    scores = {}
    for path in sorted(CHECKPOINTS.glob("*.pt")):
        label = enhance.load_enhancer(path).label
        rows = evaluate.read(CHECKPOINTS / path.stem / "evaluation.csv")
        scores[path.name] = evaluate.summarise(rows, "main", "synthetic")[label]["PESQ-WB"]
    assert len(scores) >= 5 and max(scores, key=scores.get) == enhance.SHIPPED.name, scores
    readme = (ROOT / "README.md").read_text()
    assert "highest mean PESQ-WB" in readme and f"`data/checkpoints/{enhance.SHIPPED.name}`" in readme
