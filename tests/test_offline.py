"""No network, no data: a chapter needing MNIST stops in seconds, saying what to do."""

from __future__ import annotations

import ast
import copy

import papermill
import pytest

from harness import CHAPTERS
from tools import course, execution

MAX_SECONDS = 30

USES_MNIST = [p for p in CHAPTERS if "datasets.MNIST(" in p.read_text()]


@pytest.mark.slow
@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in USES_MNIST])
def test_missing_mnist_without_network_fails_fast_and_clearly(
    path, tmp_path, no_network
):
    empty_data_dir = tmp_path / "no-data"
    empty_data_dir.mkdir()

    run = execution.execute(
        up_to_first_mnist_load(path), empty_data_dir, timeout=120, raise_on_error=False
    )

    error = run.error
    assert isinstance(error, papermill.PapermillExecutionError), (
        f"no cell error but {error!r}"
    )
    assert error.ename == "RuntimeError", f"{error.ename}: {error.evalue}"
    assert "COURSE_DATA_DIR" in error.evalue and "internet" in error.evalue, (
        error.evalue
    )
    failed = [
        c
        for c in run.notebook.cells
        if c.get("metadata", {}).get("papermill", {}).get("exception")
    ]
    assert len(failed) == 1 and "datasets.MNIST(" in failed[0].source
    seconds = failed[0].metadata["papermill"]["duration"]
    assert seconds < MAX_SECONDS, f"the failing cell took {seconds:.0f} s"
    traceback_lines = sum(line.count("\n") + 1 for line in error.traceback)
    assert traceback_lines < 40, (
        f"a {traceback_lines}-line traceback buries the message"
    )


def up_to_first_mnist_load(path):
    """The chapter's setup and parameters cells, then the cell that first loads MNIST.

    What comes between them is the lesson, which does not matter here and can take a
    while.
    """
    nb = course.read_notebook(path)
    code = course.code_cells(nb)
    parameters = next(
        i for i, c in enumerate(code) if course.TAG_PARAMETERS in course.tags(c)
    )
    loader = next(c for c in code if "datasets.MNIST(" in c.source)
    nb.cells = code[: parameters + 1] + [with_a_call(loader)]
    return nb


def with_a_call(cell):
    """The cell, calling its MNIST loader when it only defines it (chapter 9 defines
    `load_mnist` in one cell and first calls it later, after cells that need more than
    the setup): the first call raises what a learner without data would see."""
    tree = ast.parse(cell.source)
    defines = [
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
        and "datasets.MNIST(" in (ast.get_source_segment(cell.source, node) or "")
    ]
    runs = [
        node
        for node in tree.body
        if not isinstance(node, (ast.FunctionDef, ast.Import, ast.ImportFrom))
        and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
    ]
    if defines and not runs:
        cell = copy.deepcopy(cell)
        cell.source += f"\n\n{defines[0]}(train=False)"
    return cell


def test_some_chapter_uses_mnist():
    assert USES_MNIST, "no chapter loads MNIST: the offline test would test nothing"
