"""The course runner: executes notebooks in order, renders HTML, or records outputs in place."""

import nbformat
import pytest

from hifigan_edu import course


@pytest.fixture
def tiny_course(tmp_path, monkeypatch):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    for name, text in (("00_first.ipynb", "print(6 * 7)"), ("01_second.ipynb", "import os; print(os.environ['HIFIGAN_EDU_PROFILE'])")):
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(f"# {name[:2]} · title"), nbformat.v4.new_code_cell(text)])
        nbformat.write(nb, folder / name)
    monkeypatch.setattr(course, "NOTEBOOKS", folder)
    return folder


def test_run_renders_every_notebook_in_order_without_touching_the_sources(tiny_course, tmp_path, capsys):
    course.run(out_dir=tmp_path / "build", profile="ci")
    printed = capsys.readouterr().out
    assert printed.index("[1/2] executing 00_first") < printed.index("[2/2] executing 01_second")
    assert f"course rendered: {tmp_path / 'build/html/index.html'}" in printed
    executed = nbformat.read(tmp_path / "build/notebooks/01_second.ipynb", 4)
    assert executed.cells[1].outputs[0]["text"] == "ci\n"
    assert nbformat.read(tiny_course / "00_first.ipynb", 4).cells[1].outputs == []
    index = (tmp_path / "build/html/index.html").read_text()
    assert index.index("00_first.html") < index.index("01_second.html") and "00 · title" in index
    assert "42" in (tmp_path / "build/html/00_first.html").read_text()


def test_record_writes_outputs_back(tiny_course, tmp_path):
    course.run(record=True, out_dir=tmp_path / "build", only=["00_first.ipynb"])
    assert nbformat.read(tiny_course / "00_first.ipynb", 4).cells[1].outputs[0]["text"] == "42\n"
    assert not (tmp_path / "build").exists()


def test_notebooks_are_picked_by_name_or_number(tiny_course):
    assert [p.name for p in course.notebooks(["01"])] == ["01_second.ipynb"]
    assert [p.name for p in course.notebooks(["01_second", "00_first.ipynb"])] == ["00_first.ipynb", "01_second.ipynb"]


def test_unknown_notebook_is_named(tiny_course):
    with pytest.raises(SystemExit, match="no such notebook"):
        course.notebooks(["99_missing.ipynb"])


def test_html_renders_the_committed_notebooks_without_executing_them(tiny_course, tmp_path, capsys):
    nb = nbformat.read(tiny_course / "00_first.ipynb", 4)
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="recorded earlier\n")]
    nbformat.write(nb, tiny_course / "00_first.ipynb")
    before = {p.name: p.read_bytes() for p in tiny_course.iterdir()}
    index = course.html_only(tmp_path / "build")
    assert f"course rendered from the committed outputs: {index}" in capsys.readouterr().out
    page = (tmp_path / "build/html/00_first.html").read_text()
    assert "<pre>recorded earlier" in page and "<pre>42" not in page  # the committed output, nothing executed
    assert "<title>00 · title</title>" in page  # each page is titled with its notebook's title
    text = index.read_text()
    assert "<ol" not in text and text.count("00 · title") == 1  # numbered once, by the title itself
    assert not (tmp_path / "build/notebooks").exists() and {p.name: p.read_bytes() for p in tiny_course.iterdir()} == before


def test_the_command_line_renders_html(tiny_course, tmp_path, capsys):
    from hifigan_edu.__main__ import main

    main(["course", "--html", "--out", str(tmp_path / "out"), "--only", "01"])
    assert (tmp_path / "out/html/01_second.html").is_file() and not (tmp_path / "out/html/00_first.html").exists()
