"""Exercises that check themselves: solution markers, the student version, and the check cells.

Every notebook ends with exercises (``notebooks/04_dilated_convolutions_and_wavenet.ipynb`` is the
first to use this module). A coding exercise is a code cell tagged ``exercise`` that defines a function whose body
lies between nbgrader's markers::

    def output_length(length: int, kernel: int, stride: int, padding: int) -> int:
        ### BEGIN SOLUTION
        return (length + 2 * padding - kernel) // stride + 1
        ### END SOLUTION

The committed notebooks hold the solutions (so CI checks them). ``python -m hifigan_edu course
--student`` writes the student version into ``build/student/``: each marked block becomes
``raise NotImplementedError(...)`` and every output is cleared. The cell after an exercise, tagged
``check``, calls :func:`check`, which runs the student's function and the package's reference on the
same inputs and prints one verdict line ("not done yet", what was wrong with a hint, or "correct"),
never a traceback.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import nbformat
import numpy as np
import torch

from hifigan_edu.files import atomic_path

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = 'raise NotImplementedError("exercise: write your code here, then run the check cell below")'
TAGS = ("exercise", "check")  # cell tags: the exercise (solution inside the markers) and the cell that checks it


def student_source(source: str) -> str:
    """``source`` with every solution block (markers included) replaced by :data:`STUB` at the block's indentation.

    Raises:
        ValueError: a ``### BEGIN SOLUTION`` without its ``### END SOLUTION`` (or the reverse).
    """
    pattern = re.compile(rf"^([ \t]*){re.escape(BEGIN)}[ \t]*\n.*?^[ \t]*{re.escape(END)}[ \t]*$", re.M | re.S)
    out = pattern.sub(lambda m: m.group(1) + STUB, source)
    if BEGIN in out or END in out:
        raise ValueError(f"a solution block is not closed: every {BEGIN!r} needs an {END!r} below it, alone on its line")
    return out


def student_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` as a student gets it: solutions replaced by stubs, every output and execution count cleared."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = student_source(cell.source)
            cell.outputs, cell.execution_count = [], None
    return nb


def write_student_versions(paths: Sequence[Path], out_dir: Path) -> list[Path]:
    """Write the student version of each notebook in ``paths`` into ``out_dir`` (the originals are untouched)."""
    written = []
    for path in paths:
        target = Path(out_dir) / path.name
        if target.resolve() == path.resolve():
            raise ValueError(f"the student version of {path} would overwrite it; choose another folder")
        with atomic_path(target) as tmp:
            nbformat.write(student_notebook(nbformat.read(path, as_version=4)), tmp)
        written.append(target)
    return written


def exercise_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    """The code cells tagged ``exercise`` or ``check``, in order: together they run without the rest of the
    notebook (a check cell imports what it and the exercises after it need)."""
    return [c for c in nb.cells if c.cell_type == "code" and set(TAGS) & set(c.metadata.get("tags", []))]


def same(got: object, want: object, rtol: float = 1e-5, atol: float = 1e-6) -> bool:
    """Whether ``got`` equals ``want``: numbers and arrays to a tolerance, tensors also in shape, sequences item by item."""
    if isinstance(want, torch.Tensor):
        return isinstance(got, torch.Tensor) and got.shape == want.shape and torch.allclose(got.double(), want.double(), rtol, atol)
    if isinstance(want, np.ndarray):
        return isinstance(got, np.ndarray) and got.shape == want.shape and np.allclose(got, want, rtol, atol)
    if isinstance(want, (tuple, list)):
        return isinstance(got, (tuple, list)) and len(got) == len(want) and all(same(g, w, rtol, atol) for g, w in zip(got, want))
    if isinstance(want, (int, float)) and not isinstance(want, bool):
        number = isinstance(got, (int, float, np.number)) and not isinstance(got, bool)
        return number and math.isclose(float(got), float(want), rel_tol=rtol, abs_tol=atol)
    return got == want


def shown(value: object) -> str:
    """A short description of a value for a verdict: a tensor's or array's shape (its value if it has one element),
    a sequence of tensors or sequences by its length, anything else's repr (cut at 80 characters)."""
    if isinstance(value, (torch.Tensor, np.ndarray)):
        if value.ndim == 0:
            return f"{type(value).__name__} {value.item()!r}"
        return f"{type(value).__name__} of shape {tuple(value.shape)}"
    if isinstance(value, (tuple, list)) and any(isinstance(v, (torch.Tensor, np.ndarray, tuple, list)) for v in value):
        return f"{type(value).__name__} of {len(value)} items"  # e.g. a Judgement: one (score, features) per discriminator
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check(student: Callable, reference: Callable, cases: Sequence[tuple], hint: str = "") -> None:
    """Run ``student(*case)`` and ``reference(*case)`` for every case and print one verdict line.

    The verdict is "not done yet" while the exercise still raises the stub's ``NotImplementedError``,
    the first input on which the student's code raised or disagreed (with ``hint``), or "correct".
    """
    if not cases:
        raise ValueError("check needs at least one case to run")
    name = getattr(student, "__name__", "your function")
    advice = f" Hint: {hint}" if hint else ""
    for case in cases:
        want = reference(*copy.deepcopy(case))
        try:
            got = student(*copy.deepcopy(case))
        except NotImplementedError:
            print(f"{name}: not done yet. Write its body in the exercise cell, run that cell, then this one.")
            return
        except Exception as err:  # the student's code: any error becomes a verdict, not a traceback
            print(f"{name}({', '.join(map(shown, case))}) raised {type(err).__name__}: {err}.{advice}")
            return
        if not same(got, want):
            off = ""
            if isinstance(want, (torch.Tensor, np.ndarray)) and getattr(got, "shape", None) == want.shape and want.ndim:
                off = f" (largest difference {float(np.abs(np.asarray(got, dtype=float) - np.asarray(want, dtype=float)).max()):.3g})"
            print(f"{name}({', '.join(map(shown, case))}) returned {shown(got)}, expected {shown(want)}{off}.{advice}")
            return
    print(f"{name}: correct on all {len(cases)} inputs.")
