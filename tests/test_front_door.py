"""The front door stays true: the README is short, its links and the docs' links resolve, the commands
they name exist, and the README's headline table is what scripts/headline.py prints from the CSV."""

import argparse
import csv
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hifigan_edu import enhance

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MAX_README_LINES = 120
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
INSTRUCTIONS = [README, *(p for p in PAGES[1:] if p.name not in ("benchmarks.md", "changelog.md"))]  # not the diaries
HEADLINE = ROOT / "scripts" / "headline.py"
EVALUATION = enhance.SHIPPED.with_suffix("") / "evaluation.csv"  # the default generator's committed evaluation


def without_code_blocks(text: str) -> str:
    """The markdown ``text`` without its fenced code blocks."""
    return re.sub(r"^[ \t]*```.*?^[ \t]*```", "", text, flags=re.M | re.S)


def code_of(text: str) -> list[str]:
    """The code in markdown ``text``: each fenced block's lines, with ``\\`` continuations joined, and each inline span."""
    blocks = re.findall(r"^[ \t]*```[^\n]*\n(.*?)^[ \t]*```", text, flags=re.M | re.S)
    lines = [line for b in blocks for line in b.replace("\\\n", " ").splitlines()]
    return lines + re.findall(r"`([^`\n]+)`", without_code_blocks(text))


def links(text: str) -> list[str]:
    """The targets of the markdown links ``[text](target)`` outside code."""
    prose = re.sub(r"`[^`\n]*`", "", without_code_blocks(text))
    return re.findall(r"\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)", prose)


def slugs(markdown: str) -> set[str]:
    """The anchors GitHub gives the headings of ``markdown``: lower case, punctuation dropped, spaces to hyphens,
    a repeated one numbered -1, -2, ..."""
    seen: dict[str, int] = {}
    out = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", without_code_blocks(markdown), flags=re.M):
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading keeps its text
        slug = re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else f"{slug}-{n}")
    return out


def broken_links(page: Path) -> list[str]:
    """Each relative link of ``page`` whose file, or whose anchor in a markdown file, does not exist, with why."""
    problems = []
    for target in links(page.read_text()):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto: ...
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            problems.append(f"{target} (no such file)")
        elif anchor and file.suffix == ".md" and anchor not in slugs(file.read_text()):
            problems.append(f"{target} (no heading with that anchor in {file.name})")
    return problems


def test_the_readme_is_short():
    lines = README.read_text().splitlines()
    assert len(lines) <= MAX_README_LINES, f"README.md has {len(lines)} lines; move detail into docs/ (at most {MAX_README_LINES})"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page):
    assert broken_links(page) == []


def test_links_are_found_and_a_broken_link_or_anchor_is_caught(tmp_path):
    assert len(links(README.read_text())) >= 10
    (tmp_path / "other.md").write_text("# Other page\n\n## Profiles: ci and `full`\n\n```bash\n# not a heading\n```\n")
    page = tmp_path / "page.md"
    page.write_text("[ok](other.md) [ok](other.md#profiles-ci-and-full) [ok](#a-title) [web](https://example.org/x)\n"
                    "# A title\n[gone](missing.md) [bad anchor](other.md#not-a-heading) `[in code](nowhere.md)`\n")
    assert broken_links(page) == ["missing.md (no such file)", "other.md#not-a-heading (no heading with that anchor in other.md)"]


def test_every_page_of_the_docs_is_linked_from_the_readme():
    linked = {(ROOT / target.partition("#")[0]).resolve() for target in links(README.read_text())}
    assert [p.name for p in PAGES[1:] if p.resolve() not in linked] == []


def make_targets() -> set[str]:
    """The targets the Makefile defines."""
    targets = set()
    for line in (ROOT / "Makefile").read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-/$() ]+):(?!=)", line)
        if match and not line.startswith((".", "\t")):
            targets.update(match.group(1).split())
    return targets


def test_every_make_target_the_readme_and_docs_name_exists():
    targets = make_targets()
    assert {"course", "test", "lab", "record", "data"} <= targets  # the parser reads this Makefile
    named = {(page.name, t) for page in INSTRUCTIONS for code in code_of(page.read_text())
             for t in re.findall(r"(?:^|[\s;&|(])make\s+([a-z][\w-]*)", code)}  # fmt: skip
    assert [f"{page}: make {t}" for page, t in sorted(named) if t not in targets] == []
    assert {t for page, t in named if page == "README.md"} >= {"course", "test", "lab"}


@pytest.fixture(scope="module")
def cli() -> argparse.ArgumentParser:
    """The parser of ``python -m hifigan_edu``."""
    from hifigan_edu import __main__

    return __main__.build_parser()


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """``parser``'s subcommands by name (none for a command without them)."""
    return {name: sub for action in parser._actions if isinstance(action, argparse._SubParsersAction)
            for name, sub in action.choices.items()}  # fmt: skip


def commands_named(page: Path) -> list[tuple[list[str], str]]:
    """(the words after ``-m hifigan_edu``, up to a comment or the next command; the line) of each command in ``page``'s code."""
    found = []
    for code in code_of(page.read_text()):
        for match in re.finditer(r"-m hifigan_edu((?:\s+[^\s#;&|`]+)*)", code):
            if match.group(1).split():  # not the bare name, as prose uses it
                found.append((match.group(1).split(), code))
    return found


def unknown_commands(parser: argparse.ArgumentParser, words: list[str]) -> list[str]:
    """What is wrong with ``python -m hifigan_edu WORDS...``: a subcommand that does not exist, an option its command lacks."""
    command, name = parser, "python -m hifigan_edu"
    rest = list(words)
    while subcommands(command):
        if not rest or rest[0] not in subcommands(command):
            return [f"{name} has no subcommand {rest[0] if rest else '(none given)'!r}"]
        word = rest.pop(0)
        command, name = subcommands(command)[word], f"{name} {word}"
    return [f"{name} has no option {o}" for o in rest if o.startswith("--") and o.split("=")[0] not in command._option_string_actions]


def test_every_hifigan_edu_command_the_readme_and_docs_name_exists(cli):
    assert {"data", "course", "train", "enhance", "evaluate"} <= set(subcommands(cli))
    assert {"build", "recorded", "import", "info", "testset"} <= set(subcommands(subcommands(cli)["data"]))
    problems, seen = [], set()
    for page in INSTRUCTIONS:
        for words, line in commands_named(page):
            seen.add((page.name, words[0]))
            problems += [f"{page.name}: {p} (in: {line.strip()})" for p in unknown_commands(cli, words)]
    assert {"train", "enhance", "evaluate", "data", "course"} <= {w for _, w in seen}
    assert problems == []


def test_a_wrong_command_is_caught(cli):
    assert unknown_commands(cli, ["data", "import", "daps", "/x", "--workers", "8"]) == []
    assert unknown_commands(cli, ["enhance", "a.wav", "b.wav", "--chunk-s", "5"]) == []
    assert unknown_commands(cli, ["train", "--config", "ci", "--resum"]) == ["python -m hifigan_edu train has no option --resum"]
    assert unknown_commands(cli, ["data", "rebuild"]) == ["python -m hifigan_edu data has no subcommand 'rebuild'"]
    assert unknown_commands(cli, ["denoise", "x.wav"]) == ["python -m hifigan_edu has no subcommand 'denoise'"]


def headline(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(HEADLINE), *args], capture_output=True, text=True, cwd=ROOT)


def table_of(text: str) -> dict[tuple[str, str], dict[str, float]]:
    """{(system, speech): {column: value}} of the markdown table ``text``."""
    lines = [line for line in text.splitlines() if line.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    out = {}
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        out[cells[0], cells[1]] = {h: float(c) for h, c in zip(header[2:], cells[2:])}
    return out


def main_rows(path: Path, system: str, source: str) -> list[dict[str, str]]:
    """The rows of ``system`` on the main set's ``source`` speech in the evaluation CSV at ``path``."""
    with path.open(newline="") as f:
        return [r for r in csv.DictReader(f) if r["system"] == system and {"main", source} <= set(r["groups"].split("|"))]


def mean_in(path: Path, system: str, source: str, metric: str) -> float:
    """The mean of ``metric`` over :func:`main_rows`."""
    return float(np.mean([float(r[metric]) for r in main_rows(path, system, source)]))


def test_the_headline_table_is_the_evaluation_and_the_readmes():
    run = headline()
    assert run.returncode == 0, run.stderr
    table = table_of(run.stdout)
    with EVALUATION.open(newline="") as f:
        evaluated = list(csv.DictReader(f))
    names = {"input (degraded)": "degraded", "WPE": "WPE"}  # the table's names of the baselines; the model's is its own
    systems = list(dict.fromkeys(system for system, _ in table))
    assert systems[:2] == list(names) and len(systems) == 3 and systems[2] in {r["system"] for r in evaluated}
    level = all(r.get("level") not in ("", None) for r in evaluated)
    assert {speech for _, speech in table} == {f"{source} ({len(main_rows(EVALUATION, 'WPE', source))})" for source in ("synthetic", "real")}
    for (system, speech), values in table.items():
        assert list(values) == ["PESQ-WB", "STOI", "SI-SDR (dB)", *(["level (dB)"] if level else [])]
        for column, value in values.items():
            expected = mean_in(EVALUATION, names.get(system, system), speech.split()[0], column.removesuffix(" (dB)"))
            assert value == pytest.approx(expected, abs=0.005), (system, speech, column)
    assert run.stdout.strip() in README.read_text(), "paste the output of `python scripts/headline.py` into README.md"


def test_the_headline_table_shows_the_level_when_the_evaluation_has_it(tmp_path):
    with EVALUATION.open(newline="") as f:
        rows = list(csv.DictReader(f))
    for k, r in enumerate(rows):
        r["level"] = f"{-0.25 * (k % 5):.2f}"
    with_level = tmp_path / "evaluation.csv"
    with with_level.open("w", newline="") as f:
        writer = csv.DictWriter(f, [*rows[0]])
        writer.writeheader()
        writer.writerows(rows)
    run = headline("--evaluation", str(with_level))
    assert run.returncode == 0, run.stderr
    table = table_of(run.stdout)
    wpe_real = table["WPE", f"real ({len(main_rows(with_level, 'WPE', 'real'))})"]
    assert list(wpe_real) == ["PESQ-WB", "STOI", "SI-SDR (dB)", "level (dB)"]
    assert wpe_real["level (dB)"] == pytest.approx(mean_in(with_level, "WPE", "real", "level"), abs=0.005)
    missing = headline("--evaluation", str(tmp_path / "none.csv"))
    assert missing.returncode != 0 and missing.stderr.startswith("error: no ") and "hifigan_edu evaluate" in missing.stderr
