"""The one way the course runs a notebook, and the data it runs on.

Every script and test that executes a chapter goes through `execute` (papermill) or,
where nbval compares the stored outputs, `execute_under_nbval`. Both run the notebook in
a fresh empty working directory, as Colab would, with COURSE_DATA_DIR pointing at the
datasets. The notebook file itself lives in a separate folder, so the working directory
holds nothing from the repository: a chapter that tried to read one of its files would
fail.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbclient.exceptions
import nbformat
import papermill

from tools import course

KERNEL = "python3"
PEAK_MEMORY_MARKER = "PEAK-RSS-MB "
# Appended to a measured copy only: the kernel's own peak resident memory (Linux: kB).
PEAK_MEMORY_CELL = (
    "import resource as __resource\n"
    f"print({PEAK_MEMORY_MARKER!r} + "
    "str(__resource.getrusage(__resource.RUSAGE_SELF).ru_maxrss / 1024))"
)
CHECK_MARKER = "COURSE-CHECK "


def prepare_data_dir(default: Path = course.DEFAULT_DATA_DIR) -> Path:
    """The datasets folder of a run, made ready: COURSE_DATA_DIR if set, else `default`.

    When the offline copy of MNIST exists beside the repository (development and CI
    machines), it is decompressed into the chosen folder and checked, so torchvision's
    download=True finds it and never touches the network. Elsewhere the folder is left
    as it is and torchvision downloads into it on first use.
    """
    data_dir = Path(os.environ.get("COURSE_DATA_DIR") or default)
    if course.SHARED_MNIST_DIR.is_dir():
        course.seed_mnist(data_dir)
    return data_dir


def printed_by(cell) -> str:
    """What a code cell printed (its stream outputs)."""
    return "".join(o.get("text", "") for o in cell.get("outputs", []))


@dataclass
class Execution:
    """What one run of a notebook produced."""

    notebook: nbformat.NotebookNode  # the executed copy (as far as it got)
    seconds: float
    error: Exception | None = None  # why it stopped early, or None
    peak_memory_mb: float | None = None

    @property
    def timed_out(self) -> bool:
        return isinstance(self.error, nbclient.exceptions.CellTimeoutError)


@contextlib.contextmanager
def _data_dir_in_environment(data_dir: Path):
    """The kernel inherits the environment: COURSE_DATA_DIR is `data_dir` meanwhile."""
    previous = os.environ.get("COURSE_DATA_DIR")
    os.environ["COURSE_DATA_DIR"] = str(data_dir)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("COURSE_DATA_DIR", None)
        else:
            os.environ["COURSE_DATA_DIR"] = previous


def execute(
    nb,
    data_dir: Path,
    *,
    parameters: dict | None = None,
    timeout: int | None = None,
    measure_memory: bool = False,
    record_results: bool = False,
    raise_on_error: bool = True,
    workdir: Path | None = None,
    kernel_manager_class: type | None = None,
) -> Execution:
    """Run `nb` top to bottom with papermill in a fresh empty directory.

    `parameters` are injected after the cell tagged `parameters`; `timeout` bounds each
    cell (seconds). With `raise_on_error=False` a failing or timed-out cell does not
    raise: the returned Execution holds the error and the notebook as far as it ran.
    `workdir`, an empty folder, is where the notebook runs when what it writes must be
    looked at afterwards; by default a temporary folder that is removed.
    `kernel_manager_class`, a jupyter_client KernelManager subclass, starts the kernel
    instead of the default one (the autograder's sandbox: tools/sandbox.py).
    With `record_results`, the `results` dict the chapter ends with is stored in the
    executed copy's results cell (course.record_results), read by course.results_of.
    """
    nb = course.copy_notebook(nb)
    if record_results:
        nb.cells.append(nbformat.v4.new_code_cell(course.REPORT_RESULTS_CELL))
    if measure_memory:
        nb.cells.append(nbformat.v4.new_code_cell(PEAK_MEMORY_CELL))
    with tempfile.TemporaryDirectory(prefix="course-run-") as tmp:
        files = Path(tmp) / "files"
        files.mkdir()
        if workdir is None:
            workdir = Path(tmp) / "work"
            workdir.mkdir()
        elif any(Path(workdir).iterdir()):
            raise ValueError(f"the working directory {workdir} is not empty")
        source, output = files / "chapter.ipynb", files / "executed.ipynb"
        course.write_notebook(nb, source)
        error = None
        start = time.perf_counter()
        with _data_dir_in_environment(data_dir):
            try:
                papermill.execute_notebook(
                    str(source),
                    str(output),
                    parameters=parameters or {},
                    cwd=str(workdir),
                    kernel_name=KERNEL,
                    progress_bar=False,
                    log_output=False,
                    execution_timeout=timeout,
                    coalesce_streams=True,  # keep only the final state of progress bars
                    **(
                        {"kernel_manager_class": kernel_manager_class}
                        if kernel_manager_class
                        else {}
                    ),
                )
            except Exception as failure:  # a cell's error, a time-out, a dead kernel
                if raise_on_error:
                    raise
                error = failure
        seconds = time.perf_counter() - start
        executed = course.read_notebook(output) if output.exists() else nb
    peak = None
    if measure_memory:
        text = printed_by(executed.cells.pop())
        if error is None:
            peak = float(text.split(PEAK_MEMORY_MARKER)[1].split()[0])
    if record_results:
        text = printed_by(executed.cells.pop())
        if error is None:
            course.record_results(
                executed, ast.literal_eval(text.split(course.RESULTS_MARKER)[1])
            )
    return Execution(executed, seconds, error, peak)


@dataclass
class NbvalRun:
    """One run of a notebook under nbval, and what its instrumentation recorded."""

    returncode: int
    report: str  # what nbval printed
    # what the notebook dumped at its end; None if it did not get there
    record: dict | None

    def failure(self) -> str:
        return f"nbval output (last lines):\n{self.report[-6000:]}"


def execute_under_nbval(
    nb, data_dir: Path, record_path: Path, timeout: int = 1800
) -> NbvalRun:
    """Run `nb` under nbval (`--nbval-lax`: compare cells tagged nbval-check-output).

    nbval starts the kernel in the notebook's folder; a first cell moves it into a fresh
    empty working directory. The notebook may write JSON to `record_path` (see
    `tests/harness.instrument`), which is returned parsed.
    """
    with tempfile.TemporaryDirectory(prefix="course-nbval-") as tmp:
        workdir, files = Path(tmp) / "work", Path(tmp) / "files"
        workdir.mkdir()
        files.mkdir()
        nb = course.copy_notebook(nb)
        nb.cells.insert(
            0,
            nbformat.v4.new_code_cell(
                f"import os as __os\n__os.chdir({str(workdir)!r})\ndel __os"
            ),
        )
        course.write_notebook(nb, files / "chapter.ipynb")
        with _data_dir_in_environment(data_dir):
            run = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pytest",
                    "--nbval-lax",
                    "--nbval-current-env",
                    "-p",
                    "no:cacheprovider",
                    "-q",
                    "--color=no",
                    "chapter.ipynb",
                ],
                cwd=files,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
    record = json.loads(record_path.read_text()) if record_path.exists() else None
    return NbvalRun(run.returncode, run.stdout + run.stderr, record)


def check_cell_source(
    exercise_id: str, check_source: str, label: str, answer_source: str | None = None
) -> str:
    """Code that runs an exercise's check and records its outcome under `label`.

    With `answer_source`, that answer is run first (as IPython would run a cell); its
    error, if any, is reported when the check then fails. The outcome is one of "pass",
    "fail" (AssertionError or NotImplementedError: the check rejected the answer, with
    its message), "error" (any other exception) or "answer-error"; it is stored in the
    kernel's `__course_checks[exercise_id][label]` and printed on a line starting with
    CHECK_MARKER. Used by the tests (stub, solution, wrong and right answers) and by
    the autograder (student answers). The check's assertions run as the check cell
    runs them, in a function (course.check_program), so that a rejection raises
    instead of printing.
    """
    check_source = course.check_program(exercise_id, course.check_body(check_source))
    answer = ""
    if answer_source is not None:
        answer = f"""
try:
    exec(compile(get_ipython().transform_cell({answer_source!r}),
                 "<answer to exercise {exercise_id}>", "exec"), globals())
except Exception as __error:
    __answer_error = f"{{type(__error).__name__}}: {{__error}}"
"""
    return f"""
import json as __json
__course_checks = globals().get("__course_checks", {{}})
__answer_error = None{answer}
try:
    exec(compile({check_source!r}, "<check of exercise {exercise_id}>", "exec"),
    globals())
except (AssertionError, NotImplementedError) as __error:
    __outcome = ["fail", f"{{type(__error).__name__}}: {{__error}}"]
except Exception as __error:
    __outcome = ["error", f"{{type(__error).__name__}}: {{__error}}"]
else:
    __outcome = ["pass", ""]
if __answer_error and __outcome[0] != "pass":
    __outcome = ["answer-error", __answer_error]
__course_checks.setdefault({exercise_id!r}, {{}})[{label!r}] = __outcome
print({CHECK_MARKER!r} + __json.dumps(
    {{"exercise": {exercise_id!r}, "label": {label!r}, "outcome": __outcome}}))
""".strip()


def recorded_checks(cells) -> dict[str, dict[str, list[str]]]:
    """Exercise id -> label -> [status, message], read from executed cells' outputs.

    When a label is printed twice, the last line counts.
    """
    checks: dict[str, dict[str, list[str]]] = {}
    for cell in cells:
        for output in cell.get("outputs", []):
            for line in output.get("text", "").splitlines():
                if line.startswith(CHECK_MARKER):
                    record = json.loads(line[len(CHECK_MARKER) :])
                    checks.setdefault(record["exercise"], {})[record["label"]] = record[
                        "outcome"
                    ]
    return checks
