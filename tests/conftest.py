"""Fixtures shared by the tests: offline data, and chapters executed the way a learner runs them."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import papermill
import pytest

from tools import course

CHAPTERS = course.chapter_paths()


def chapter_params(**marks):
    """pytest.param per chapter notebook, named by its stem (01_tensors ...)."""
    return [pytest.param(path, id=path.stem, **marks) for path in CHAPTERS]


@pytest.fixture
def no_network(monkeypatch):
    """Every download goes through a proxy on a closed local port: refused at once, as offline.

    No test depends on the network, and none sends anything to it.
    """
    for variable in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(variable, "http://127.0.0.1:9")
    for variable in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(variable, raising=False)


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


def instrument(nb, record: Path):
    """A copy of the chapter that records, as it runs, what the tests need to know.

    - It first moves into an empty working directory, as in Colab: a chapter that tried to read
      one of the repository's files would fail.
    - Right after each answer cell (the blank stub a student starts from) the exercise's check
      runs on the stub, and its outcome is recorded: it must fail. Right after the check cell
      (which follows the solution) the check runs again: it must pass.
    - At the end, the `results` dict and the exercise outcomes are written to `record` (JSON).

    The chapter's own cells are unchanged, so nbval still compares their stored outputs.
    """
    probed = nbformat.from_dict(json.loads(json.dumps(nb)))
    exercises = course.exercises(nb)
    probe_after = {}
    for exercise_id, parts in exercises.items():
        check_source = nb.cells[parts["check"]].source
        probe_after[parts["answer"]] = _probe_source(exercise_id, check_source, "stub")
        probe_after[parts["check"]] = _probe_source(exercise_id, check_source, "solution")
    cells = [nbformat.v4.new_code_cell(
        "import os as __os\n__os.makedirs('workdir', exist_ok=True)\n__os.chdir('workdir')\n"
        "del __os\n__exercise_probes = {}")]
    for index, cell in enumerate(probed.cells):
        cells.append(cell)
        if index in probe_after:
            cells.append(nbformat.v4.new_code_cell(probe_after[index]))
    cells.append(nbformat.v4.new_code_cell(
        f"import json as __json\nwith open({str(record)!r}, 'w') as __file:\n"
        "    __json.dump({'results': results, 'probes': __exercise_probes}, __file)"))
    probed.cells = cells
    return probed


def _probe_source(exercise_id: str, check_source: str, answer: str) -> str:
    return f"""
__probe_code = {check_source!r}
try:
    exec(compile(__probe_code, "<check of exercise {exercise_id} on the {answer}>", "exec"), globals())
except (AssertionError, NotImplementedError) as __probe_error:
    __outcome = ("failed", f"{{type(__probe_error).__name__}}: {{__probe_error}}")
except Exception as __probe_error:
    __outcome = ("error", f"{{type(__probe_error).__name__}}: {{__probe_error}}")
else:
    __outcome = ("passed", "")
__exercise_probes.setdefault({exercise_id!r}, {{}})[{answer!r}] = __outcome
""".strip()


@dataclass
class Execution:
    """One execution of a chapter under nbval, and what its instrumentation recorded."""
    returncode: int
    report: str  # what nbval printed
    record: dict | None  # {"results": ..., "probes": ...}, None if the end was not reached

    def failure(self) -> str:
        return f"nbval output (last lines):\n{self.report[-6000:]}"


@pytest.fixture(scope="session")
def executions(course_data_dir, tmp_path_factory):
    """Each chapter executed once, top to bottom, under nbval (`--nbval-lax`).

    That one execution serves three concerns: nbval compares the stored outputs of the cells
    tagged `nbval-check-output`; the recorded `results` are checked against the chapter's
    claims; the recorded exercise outcomes prove each check fails on its stub and passes on
    its solution.
    """
    cache: dict[str, Execution] = {}

    def get(path: Path) -> Execution:
        if path.stem not in cache:
            folder = tmp_path_factory.mktemp(path.stem)
            record = folder / "record.json"
            course.write_notebook(instrument(course.read_notebook(path), record), folder / path.name)
            run = subprocess.run(
                [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env", "-p", "no:cacheprovider",
                 "-q", "--color=no", path.name],
                cwd=folder, capture_output=True, text=True, timeout=1800,
            )
            cache[path.stem] = Execution(
                run.returncode, run.stdout + run.stderr,
                json.loads(record.read_text()) if record.exists() else None)
        return cache[path.stem]

    return get


def execute_chapter(path: Path, tmp_path: Path, nb=None, **papermill_options):
    """Execute a chapter with papermill in an empty working directory, as in Colab; the executed copy.

    The notebook files live in a separate folder, so the working directory holds nothing from
    the repository; a chapter that tried to read one of its files would fail here.
    """
    workdir, files = tmp_path / "workdir", tmp_path / "files"
    workdir.mkdir()
    files.mkdir()
    source = files / path.name
    course.write_notebook(nb if nb is not None else course.read_notebook(path), source)
    return papermill.execute_notebook(
        str(source), str(files / "executed.ipynb"), cwd=str(workdir),
        kernel_name="python3", progress_bar=False, log_output=False, **papermill_options,
    )


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
