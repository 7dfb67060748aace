"""Fixtures shared by the tests: offline data, and chapters executed the way a learner runs them."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import papermill
import pytest

from tools import course

CHAPTERS = course.chapter_paths()
PROBE_MARKER = "EXERCISE-PROBES "


def chapter_params(**marks):
    """pytest.param per chapter notebook, named by its stem (01_tensors ...)."""
    return [pytest.param(path, id=path.stem, **marks) for path in CHAPTERS]


@pytest.fixture(scope="session")
def course_data_dir(tmp_path_factory) -> Path:
    """COURSE_DATA_DIR for every notebook the tests run.

    On development and CI machines MNIST is decompressed from ../shared/data/mnist into a
    temporary folder (checked against MD5SUMS.raw), so torchvision's download=True finds it and
    never touches the network. Where ../shared is absent (a user's machine), the repository's
    data/ folder is used and torchvision downloads into it once.
    """
    if course.SHARED_MNIST_DIR.is_dir():
        data_dir = course.seed_mnist(tmp_path_factory.mktemp("data"))
    else:
        data_dir = course.DEFAULT_DATA_DIR
    previous = os.environ.get("COURSE_DATA_DIR")
    os.environ["COURSE_DATA_DIR"] = str(data_dir)
    yield Path(data_dir)
    if previous is None:
        os.environ.pop("COURSE_DATA_DIR", None)
    else:
        os.environ["COURSE_DATA_DIR"] = previous


def add_exercise_probes(nb):
    """A copy of the notebook that also runs each exercise's check against the blank stub.

    Right after each answer cell (the stub a student starts from) a probe runs the check's
    code and records whether it failed, as it must. The solution and the real check then run
    as usual, so the check must pass on the solution or the execution fails. A last cell
    prints what the probes saw.
    """
    probed = nbformat.from_dict(json.loads(json.dumps(nb)))
    exercises = course.exercises(nb)
    answer_at = {parts["answer"]: exercise_id for exercise_id, parts in exercises.items()}
    cells = [nbformat.v4.new_code_cell("__exercise_probes = {}")]
    for index, cell in enumerate(probed.cells):
        cells.append(cell)
        if index in answer_at:
            exercise_id = answer_at[index]
            check_source = nb.cells[exercises[exercise_id]["check"]].source
            cells.append(nbformat.v4.new_code_cell(_probe_source(exercise_id, check_source)))
    cells.append(nbformat.v4.new_code_cell(
        f"import json as __json\nprint({PROBE_MARKER!r} + __json.dumps(__exercise_probes))"))
    probed.cells = cells
    return probed


def _probe_source(exercise_id: str, check_source: str) -> str:
    return f"""
__probe_code = {check_source!r}
try:
    exec(compile(__probe_code, "<check of exercise {exercise_id} on the blank stub>", "exec"), globals())
except (AssertionError, NotImplementedError) as __probe_error:
    __exercise_probes[{exercise_id!r}] = ("failed", f"{{type(__probe_error).__name__}}: {{__probe_error}}")
except Exception as __probe_error:
    __exercise_probes[{exercise_id!r}] = ("error", f"{{type(__probe_error).__name__}}: {{__probe_error}}")
else:
    __exercise_probes[{exercise_id!r}] = ("passed", "")
""".strip()


@dataclass
class Execution:
    notebook: nbformat.NotebookNode  # the executed copy
    seconds: float
    workdir: Path  # the working directory it ran in (empty at the start)

    def exercise_probes(self) -> dict[str, tuple[str, str]]:
        for output in self.notebook.cells[-1].outputs:
            if output.get("name") == "stdout" and output.text.startswith(PROBE_MARKER):
                return {k: tuple(v) for k, v in json.loads(output.text[len(PROBE_MARKER):]).items()}
        raise AssertionError("the exercise probes printed nothing")


def execute_chapter(path: Path, tmp_path: Path, nb=None, **papermill_options) -> Execution:
    """Execute a chapter with papermill in an empty working directory, as in Colab.

    The notebook files live in a separate folder, so the working directory holds nothing from
    the repository; a chapter that tried to read one of its files would fail here.
    """
    workdir, files = tmp_path / "workdir", tmp_path / "files"
    workdir.mkdir()
    files.mkdir()
    source = files / path.name
    course.write_notebook(nb if nb is not None else course.read_notebook(path), source)
    start = time.perf_counter()
    executed = papermill.execute_notebook(
        str(source), str(files / "executed.ipynb"), cwd=str(workdir),
        kernel_name="python3", progress_bar=False, log_output=False, **papermill_options,
    )
    return Execution(executed, time.perf_counter() - start, workdir)


@pytest.fixture(scope="session")
def probed_executions(course_data_dir, tmp_path_factory):
    """Each chapter executed once, with exercise probes, shared by the tests that read it."""
    cache: dict[str, Execution] = {}

    def get(path: Path) -> Execution:
        if path.stem not in cache:
            nb = add_exercise_probes(course.read_notebook(path))
            cache[path.stem] = execute_chapter(path, tmp_path_factory.mktemp(path.stem), nb=nb)
        return cache[path.stem]

    return get


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> Path:
    """The website, built as `make book` builds it (zero warnings allowed), in a temporary folder."""
    output = tmp_path_factory.mktemp("site")
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    run = subprocess.run(
        [str(jupyter_book), "build", str(course.REPO_ROOT), "--path-output", str(output),
         "-W", "-n", "--keep-going"],
        capture_output=True, text=True, timeout=900,
    )
    assert run.returncode == 0, f"the build failed or warned:\n{run.stdout[-5000:]}\n{run.stderr[-5000:]}"
    return output / "_build" / "html"
