"""Run the course: execute every notebook in order and render the executed chain to HTML.

``python -m hifigan_edu course`` (what ``make course`` runs) executes copies of
``notebooks/*.ipynb`` into ``build/notebooks`` in the ci profile and renders
``build/html/index.html`` plus a page per notebook. ``--record`` writes the outputs back into
``notebooks/`` instead: that is how the committed outputs, which nbval checks, are recorded.
``--html`` (what ``make html`` runs) renders the committed notebooks as they are, without
executing anything, in seconds: the instructor's copy of the course.
"""

from __future__ import annotations

import html
import os
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbconvert import HTMLExporter

from hifigan_edu.files import ROOT, atomic_path

NOTEBOOKS = ROOT / "notebooks"
CELL_TIMEOUT_S = {"ci": 600, "full": None}  # in ci a cell that hangs fails the run instead of stalling CI


def notebooks(only: list[str] | None = None) -> list[Path]:
    """The course's notebooks in order (file names start with their number).

    ``only`` picks some by file name or by number: ``["03"]`` and ``["03_mode_collapse.ipynb"]`` agree.
    """
    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if only:

        def picked(path: Path, name: str) -> bool:
            return name in (path.name, path.stem, path.name[:2])

        unknown = [name for name in only if not any(picked(p, name) for p in paths)]
        if unknown:
            raise SystemExit(f"no such notebook(s): {', '.join(unknown)}; choose from {[p.name for p in paths]}")
        paths = [p for p in paths if any(picked(p, name) for name in only)]
    return paths


def execute(path: Path, profile: str = "ci") -> nbformat.NotebookNode:
    """Execute ``path`` in a fresh kernel, with ``notebooks/`` as the working directory."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT_S[profile], kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()
    return nb


def title(nb: nbformat.NotebookNode, fallback: str) -> str:
    """A notebook's title: its first markdown cell's first line without the ``#`` marks."""
    return next((c.source.splitlines()[0].lstrip("# ") for c in nb.cells if c.cell_type == "markdown" and c.source), fallback)


def _index(entries: list[tuple[str, str, float | None]], profile: str) -> str:
    """The contents page: one link per notebook (its title already carries its number), with how long it took."""
    rows = "\n".join(
        f'<li><a href="{html.escape(page)}">{html.escape(name)}</a>' + (f" <small>({seconds:.0f} s)</small>" if seconds is not None else "") + "</li>"
        for page, name, seconds in entries
    )
    if all(seconds is None for *_, seconds in entries):
        how = f"The committed outputs (recorded in the <b>{html.escape(profile)}</b> profile), rendered on {time.strftime('%Y-%m-%d %H:%M')}."
    else:
        how = (f"Executed in the <b>{html.escape(profile)}</b> profile on {time.strftime('%Y-%m-%d %H:%M')}, "
               f"{sum(s for *_, s in entries if s is not None):.0f} s in all. Rebuild with <code>make course</code>.")
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>hifigan-edu</title>"
        "<style>body{font-family:sans-serif;max-width:48em;margin:2em auto;line-height:1.6}ul{list-style:none;padding:0}</style>"
        "</head><body><h1>hifigan-edu: from GANs to HiFi-GAN speech enhancement</h1>"
        f"<p>{how}</p><ul>{rows}</ul></body></html>"
    )


def render(nbs: list[tuple[Path, nbformat.NotebookNode, float | None]], out_dir: Path, profile: str = "ci") -> Path:
    """Write a page per (path, notebook, seconds it took or None) into ``out_dir / "html"``, each titled with its
    notebook's title, and the index page; return the index."""
    exporter = HTMLExporter()
    entries = []
    for path, nb, seconds in nbs:
        name = title(nb, path.stem)
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": name}})
        page = out_dir / "html" / path.with_suffix(".html").name
        with atomic_path(page) as tmp:
            tmp.write_text(body, encoding="utf-8")
        entries.append((page.name, name, seconds))
    index = out_dir / "html" / "index.html"
    with atomic_path(index) as tmp:
        tmp.write_text(_index(entries, profile), encoding="utf-8")
    return index


def html_only(out_dir: Path = ROOT / "build", only: list[str] | None = None) -> Path:
    """Render the committed notebooks (their recorded outputs, nothing executed) and say where."""
    index = render([(path, nbformat.read(path, as_version=4), None) for path in notebooks(only)], out_dir)
    print(f"course rendered from the committed outputs: {index.resolve()}")
    return index


def run(record: bool = False, out_dir: Path = ROOT / "build", only: list[str] | None = None, profile: str = "ci") -> None:
    """Execute the notebooks in order (in ``profile``) and render them; see the module docstring."""
    os.environ["HIFIGAN_EDU_PROFILE"] = profile  # inherited by the kernels
    paths = notebooks(only)
    executed = []
    for i, path in enumerate(paths, 1):
        print(f"[{i}/{len(paths)}] executing {path.name} ...", flush=True)
        start = time.perf_counter()
        nb = execute(path, profile)
        seconds = time.perf_counter() - start
        print(f"[{i}/{len(paths)}] {path.name} done in {seconds:.0f} s", flush=True)
        with atomic_path(path if record else out_dir / "notebooks" / path.name) as tmp:
            nbformat.write(nb, tmp)
        executed.append((path, nb, seconds))
    if record:
        print(f"recorded {len(paths)} notebook(s) in {NOTEBOOKS}")
        return
    index = render(executed, out_dir, profile)
    print(f"course rendered: {index.resolve()}")
