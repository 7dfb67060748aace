"""No network and no data: a chapter that needs MNIST stops within seconds and says what to do."""
from __future__ import annotations

import papermill
import pytest

from conftest import CHAPTERS, execute_chapter
from tools import course

MAX_SECONDS = 30

USES_MNIST = [p for p in CHAPTERS if "datasets.MNIST(" in p.read_text()]


@pytest.mark.slow
@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in USES_MNIST])
def test_missing_mnist_without_network_fails_fast_and_clearly(path, tmp_path, monkeypatch, no_network):
    empty_data_dir = tmp_path / "no-data"
    empty_data_dir.mkdir()
    monkeypatch.setenv("COURSE_DATA_DIR", str(empty_data_dir))

    with pytest.raises(papermill.PapermillExecutionError) as failure:
        execute_chapter(path, tmp_path, nb=up_to_first_mnist_load(path), execution_timeout=120)

    error = failure.value
    assert error.ename == "RuntimeError", f"{error.ename}: {error.evalue}"
    assert "COURSE_DATA_DIR" in error.evalue and "internet" in error.evalue, error.evalue
    executed = course.read_notebook(tmp_path / "files" / "executed.ipynb")
    failed = [c for c in executed.cells if c.get("metadata", {}).get("papermill", {}).get("exception")]
    assert len(failed) == 1 and "datasets.MNIST(" in failed[0].source
    seconds = failed[0].metadata["papermill"]["duration"]
    assert seconds < MAX_SECONDS, f"the failing cell took {seconds:.0f} s"
    traceback_lines = sum(line.count("\n") + 1 for line in error.traceback)
    assert traceback_lines < 40, f"a {traceback_lines}-line traceback buries the message"


def up_to_first_mnist_load(path):
    """The chapter's setup and parameters cells, then the cell that first loads MNIST.

    What comes between them is the lesson, which does not matter here and can take a while.
    """
    nb = course.read_notebook(path)
    code = course.code_cells(nb)
    parameters = next(i for i, c in enumerate(code) if course.TAG_PARAMETERS in course.tags(c))
    loader = next(c for c in code if "datasets.MNIST(" in c.source)
    nb.cells = code[:parameters + 1] + [loader]
    return nb


def test_some_chapter_uses_mnist():
    assert USES_MNIST, "no chapter loads MNIST: the offline test would test nothing"
