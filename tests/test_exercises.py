"""The notebooks' exercises (``hifigan_edu.exercises``): the student version has no solutions, and both
versions' check cells print a verdict instead of raising."""

import re

import nbformat
import pytest
import torch
from nbclient import NotebookClient

from hifigan_edu import course, exercises
from hifigan_edu.__main__ import main

SOLVED = '''def f(x):
    """doc"""
    ### BEGIN SOLUTION
    y = x + 1
    return y
    ### END SOLUTION


def g():
    ### BEGIN SOLUTION
    return 2
    ### END SOLUTION
'''


def test_the_student_version_replaces_each_solution_block_by_the_stub_at_its_indentation():
    student = exercises.student_source(SOLVED)
    assert student == f'def f(x):\n    """doc"""\n    {exercises.STUB}\n\n\ndef g():\n    {exercises.STUB}\n'
    namespace = {}
    exec(student, namespace)
    with pytest.raises(NotImplementedError):
        namespace["f"](1)
    with pytest.raises(ValueError, match="not closed"):
        exercises.student_source("def f():\n    ### BEGIN SOLUTION\n    return 1\n")


def test_check_prints_one_verdict_and_never_raises(capsys):
    def length(n: int, k: int) -> int:
        raise NotImplementedError("exercise")

    exercises.check(length, lambda n, k: n - k + 1, [(10, 3)])
    assert capsys.readouterr().out == "length: not done yet. Write its body in the exercise cell, run that cell, then this one.\n"

    def length(n: int, k: int) -> int:
        return n - k

    exercises.check(length, lambda n, k: n - k + 1, [(10, 3)], hint="count the first position")
    assert capsys.readouterr().out == "length(10, 3) returned 7, expected 8. Hint: count the first position\n"

    def length(n: int, k: int) -> int:
        return n // 0

    exercises.check(length, lambda n, k: n - k + 1, [(10, 3)])
    assert capsys.readouterr().out == "length(10, 3) raised ZeroDivisionError: integer division or modulo by zero.\n"

    def scaled(x: torch.Tensor) -> torch.Tensor:
        x.mul_(2)  # changes its input: the reference must still see the original
        return x[:1]

    exercises.check(scaled, lambda x: 2 * x, [(torch.ones(3),)])
    assert capsys.readouterr().out == "scaled(Tensor of shape (3,)) returned Tensor of shape (1,), expected Tensor of shape (3,).\n"
    exercises.check(lambda x: x + 1, lambda x: 2 * x, [(torch.ones(2),), (torch.arange(3.0),)])
    assert capsys.readouterr().out == "<lambda>(Tensor of shape (3,)) returned Tensor of shape (3,), expected Tensor of shape (3,) (largest difference 1).\n"
    exercises.check(lambda x: x.sum(), lambda x: 3, [(torch.ones(2),)])
    assert capsys.readouterr().out == "<lambda>(Tensor of shape (2,)) returned Tensor 2.0, expected 3.\n"
    exercises.check(lambda n: True, lambda n: 1, [(0,)])  # True is not the number 1
    assert capsys.readouterr().out == "<lambda>(0) returned True, expected 1.\n"
    exercises.check(lambda pairs: 0.0, lambda pairs: len(pairs), [([(torch.ones(1), [torch.ones(2)])],)])  # nested: by length
    assert capsys.readouterr().out == "<lambda>(list of 1 items) returned 0.0, expected 1.\n"
    exercises.check(lambda x: 2.0 * x, lambda x: x + x, [(torch.ones(3),), (torch.arange(4.0),)])
    assert capsys.readouterr().out == "<lambda>: correct on all 2 inputs.\n"


def exercise_notebook(student: bool) -> nbformat.NotebookNode:
    """Every notebook's exercise and check cells, in course order, as one notebook (solved or the student's)."""
    cells = [cell for path in course.notebooks() for cell in exercises.exercise_cells(nbformat.read(path, as_version=4))]
    nb = nbformat.v4.new_notebook(cells=cells)
    return exercises.student_notebook(nb) if student else nb


@pytest.mark.parametrize("student", [False, True], ids=["solved", "student"])
def test_every_check_cell_prints_a_verdict_for_both_versions(student):
    nb = exercise_notebook(student)
    checks = [c for c in nb.cells if "check" in c.metadata.get("tags", [])]
    assert len(checks) >= 5  # notebook 04 has two, 05 three
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(course.NOTEBOOKS)}}).execute()
    want = r"not done yet\. Write its body" if student else r"correct on all \d+ inputs\."
    for cell in checks:
        text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        assert re.fullmatch(rf"\w+: {want}[^\n]*\n", text), (cell.source, cell.outputs)


def test_course_student_writes_notebooks_without_solutions_or_outputs(tmp_path, capsys):
    before = {p: p.read_bytes() for p in course.notebooks(["04", "05"])}
    main(["course", "--student", "--only", "04", "05", "--out", str(tmp_path)])
    assert "wrote 2 student notebook(s)" in capsys.readouterr().out
    for path, original in before.items():
        assert path.read_bytes() == original  # the committed notebook keeps its solutions
        student = nbformat.read(tmp_path / "student" / path.name, as_version=4)
        code = [c for c in student.cells if c.cell_type == "code"]
        assert not any(c.outputs or c.execution_count for c in code)
        assert not any(exercises.BEGIN in c.source or exercises.END in c.source for c in code)
        assert sum(exercises.STUB in c.source for c in code) >= 2


def test_course_student_into_a_folder_it_cannot_write_says_so(tmp_path):
    (tmp_path / "file").write_text("in the way")
    with pytest.raises(SystemExit, match="^error: "):
        main(["course", "--student", "--only", "04", "--out", str(tmp_path / "file")])
