"""environment.yml, constraints.txt and pyproject.toml describe one environment."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pins(lines: list[str]) -> dict[str, str]:
    pins = {}
    for line in lines:
        line = line.split("#")[0].strip().lstrip("- ").strip()
        if "==" in line:
            name, version = line.split("==")
            pins[_name(name)] = version.strip()
    return pins


def _environment_pins() -> dict[str, str]:
    text = (ROOT / "environment.yml").read_text()
    pip_section = text.split("- pip:")[1]
    return _pins(pip_section.splitlines())


def test_environment_yml_lists_what_make_env_installs():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    required = {_name(r) for r in project["dependencies"] + extras["dev"] + extras["data"]}
    assert '-e ".[dev,data]"' in (ROOT / "Makefile").read_text()
    assert set(_environment_pins()) == required


def test_environment_yml_pins_what_constraints_txt_pins():
    constraints = _pins((ROOT / "constraints.txt").read_text().splitlines())
    env = _environment_pins()
    assert {name: constraints[name] for name in env} == env
    assert env["torch"] == "2.14.1" and env["torchaudio"] == "2.11.0"
    assert "python=3.11" in (ROOT / "environment.yml").read_text()


def test_every_pinned_requirement_is_a_declared_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {_name(r) for group in project["optional-dependencies"].values() for r in group}
    declared |= {_name(r) for r in project["dependencies"]}
    constraints = _pins((ROOT / "constraints.txt").read_text().splitlines())
    assert set(constraints) <= declared


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    assert "```bash\nmake test\n```" in readme
    ci = [line for line in (ROOT / ".ci/run").read_text().splitlines() if line and not line.startswith(("#", "set ", "cd "))]
    assert ci == ["make test"]
