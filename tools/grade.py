"""Grade students' notebooks: run the official checks on their answers, sealed, in a
sandbox, with time limits.

Usage: python tools/grade.py SUBMISSION [SUBMISSION ...] [--out DIR]
                             [--cell-timeout 120] [--jobs 1] [--memory-mb 4096]
                             [--time-limit 1800] [--no-fetch] [--unsafe-no-sandbox]
       (a SUBMISSION is a notebook, a folder of notebooks, or a folder with one
       subfolder per student, whose name is the student's)

Students' code is untrusted: each submission's kernel runs in a bubblewrap sandbox
(tools/sandbox.py: no network, read-only system, no home directory, no other submission,
a private /tmp, limits on memory, processes, file size and time). Where bubblewrap is
missing or cannot work (macOS, or user namespaces forbidden to an ordinary user),
grading refuses to start unless --unsafe-no-sandbox is given, which runs the students'
code with your own rights: only for submissions you trust.

Before anything runs, the datasets the chapters need must be in COURSE_DATA_DIR (default
data/) and intact: the grader downloads them, outside the sandbox, when it can, and
refuses to grade otherwise.

Only the students' answer cells are taken from a submission. Every other cell and every
check comes from the official chapter (found by the submission's metadata, or its file
name). Outcomes are decided by the seal (tools/grading_seal.py), installed in the kernel
before any student code: it runs each answer and then the official check on the values
the answer cannot change, and writes the outcome with an HMAC the student's code cannot
make; what it cannot undo it reports as "review". Per exercise the status is one of
STATUSES below (book/instructors.md lists the same, and says what is and is not
protected). After an exercise that runs past the cell limit, a fresh run grades the
exercises after it.

Writes grades.json, grades.csv (one row per exercise, full messages) and totals.csv (per
student and chapter: points, out of, for review, seconds) to --out (default: the
current directory) and prints a table. Exit status: 0 when every submission could be
graded, 2 when some file was invalid, 3 when grading refused to run without a sandbox,
4 when a dataset is missing.
"""

from __future__ import annotations

import argparse
import ast
import csv
import dataclasses
import functools
import hashlib
import hmac
import json
import secrets
import subprocess
import sys
import tempfile
import textwrap
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tools import course, execution, sandbox  # noqa: E402

STATUSES = {
    "pass": "the official check passed on the student's answer",
    "fail": "the official check rejected the answer (its message says why)",
    "answer-error": "the answer raised an error, or ran past the time a cell may take "
    "(the check still ran, and failed)",
    "missing": "the hand-in has no answer cell for this exercise (deleted, or its tags "
    "removed)",
    "check-removed": "the hand-in's check cell was deleted or renamed (never a pass)",
    "not-reached": "a crash, the hand-in's total time limit or a lesson cell stopped "
    "the notebook before this exercise",
    "review": "the hand-in changed the checking machinery (the message says what): "
    "read it before giving a grade",
    "invalid": "the file is not a chapter notebook (the message says why)",
}
# Exit statuses of main()
EXIT_INVALID, EXIT_NO_SANDBOX, EXIT_NO_DATA = 2, 3, 4
SEAL_SOURCE = Path(__file__).resolve().parent / "grading_seal.py"
SEAL_EVENT = "course.exercise"
# Smaller papermill parameters per chapter, for the lesson cells of a hand-in's grading
# run (the exercises' checks do not depend on their size): tools/grading_parameters.json
GRADING_PARAMETERS = Path(__file__).resolve().parent / "grading_parameters.json"
# MD5 of the decompressed MNIST files torchvision reads (as published for MNIST)
MNIST_MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}


class InvalidSubmission(Exception):
    """The file cannot be graded as a chapter notebook."""


class DataMissing(Exception):
    """A dataset the chapter needs is not there and cannot be fetched."""


def official_chapter(submission, path: Path) -> Path:
    """The official notebook the submission is a copy of."""
    chapter = submission.metadata.get("course", {}).get("chapter")
    for official in course.chapter_paths():
        if chapter == int(official.stem[:2]) or (
            chapter is None and path.name.startswith(official.stem[:3])
        ):
            return official
    raise InvalidSubmission(
        "not a copy of a chapter (no metadata.course.chapter, and the file "
        "name does not start with a chapter number such as 01_)"
    )


def submitted_cells(submission, role_tag: str) -> dict[str, str]:
    """Exercise id -> source of the submission's cells tagged `role_tag`."""
    cells = {}
    for cell in submission.cells:
        exercise_id = cell.get("metadata", {}).get("course", {}).get("exercise")
        if exercise_id and role_tag in cell.get("metadata", {}).get("tags", []):
            cells[exercise_id] = cell.source
    return cells


def check_body(source: str) -> str:
    """The assertions of a check cell, in either form: the plain assertions (ending
    with a print), or the template that wraps them in try/except and prints the
    verdict (tools.course.check_body where it exists)."""
    if hasattr(course, "check_body"):
        return course.check_body(source)
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    statements = [node for node in tree.body]
    if len(statements) == 1 and isinstance(statements[0], ast.Try):
        body = statements[0].body
        lines = source.splitlines()
        return textwrap.dedent(
            "\n".join(lines[body[0].lineno - 1 : body[-1].end_lineno])
        )
    return source


def _names(source: str) -> tuple[set[str], set[str]]:
    """(names the code reads, names it binds), anywhere in it."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set(), set()
    read, bound = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                bound.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return read, bound


def seal_exercises(official, answers: dict[str, str]) -> dict[str, dict]:
    """What the seal runs per exercise: the student's answer, the official check's
    assertions, and the names the check reads that no answer may change (every name
    it reads that no exercise's stub or solution defines and the check does not set
    itself: the lesson's variables and helpers, modules, builtins)."""
    parts = course.exercises(official)
    answer_names = set()
    for p in parts.values():
        for role in ("answer", "solution"):
            answer_names |= _names(official.cells[p[role]].source)[1]
    seal = {}
    for exercise_id, p in parts.items():
        body = check_body(official.cells[p["check"]].source)
        read, bound = _names(body)
        seal[exercise_id] = {
            "answer": answers.get(exercise_id, ""),
            "check": course.check_program(exercise_id, body),
            "protected": sorted(read - bound - answer_names),
        }
    return seal


def grading_notebook(official, answers: dict[str, str], seal_dir: Path, only=None):
    """The official chapter without its exercises' answer and solution cells, and
    each check cell replaced by a cell that asks the seal to run that exercise (the
    student's answer, then the official check; tools/grading_seal.py).

    The seal is installed just before the first exercise cell: every cell before it is
    the official lesson, so no student code has run yet. `only` (exercise ids) limits
    the run to those exercises (after a time-out, the following ones). Returns the
    notebook, exercise id -> index of its cell, and the seal to write.
    """
    parts = course.exercises(official)
    role_of = {
        index: (exercise_id, role)
        for exercise_id, p in parts.items()
        for role, index in p.items()
    }
    first = min(index for p in parts.values() for index in p.values())
    exercises = seal_exercises(official, answers)
    key = secrets.token_hex(32)
    seal_path, records = seal_dir / "seal.json", seal_dir / "records"
    prelude = (
        "__course_seal = {'__builtins__': dict(vars(__import__('builtins'))), "
        "'__name__': 'course_seal'}\n"
        f"exec(compile({SEAL_SOURCE.read_text()!r}, '<course seal>', 'exec'), "
        "__course_seal)\n"
        f"__course_seal['install']({str(seal_path)!r}, globals())\n"
        "del __course_seal"
    )
    cells, exercise_cells = [], {}
    for index, cell in enumerate(official.cells):
        if index == first:
            cells.append(nbformat.v4.new_code_cell(prelude))
        exercise_id, role = role_of.get(index, (None, None))
        if role in ("answer", "solution"):
            continue
        if role == "check":
            if only is not None and exercise_id not in only:
                continue
            exercise_cells[exercise_id] = len(cells)
            cell = nbformat.v4.new_code_cell(
                f"__import__('sys').audit({SEAL_EVENT!r}, {exercise_id!r})"
            )
        cells.append(cell)
    graded = course.copy_notebook(official)
    graded.cells = cells
    seal = {"key": key, "records": str(records), "exercises": exercises}
    return graded, exercise_cells, seal


def read_records(path: Path, key: str) -> dict[str, list[tuple[str, str]]]:
    """Exercise id -> the outcomes the seal recorded (only lines with a valid HMAC)."""
    found: dict[str, list[tuple[str, str]]] = {}
    text = path.read_text(errors="replace") if path.exists() else ""
    for line in text.splitlines():
        mac, _, body = line.partition(" ")
        expected = hmac.new(bytes.fromhex(key), body.encode(), "sha256").hexdigest()
        if not hmac.compare_digest(mac, expected):
            continue
        try:
            exercise_id, status, message = ast.literal_eval(body)
        except (ValueError, SyntaxError, TypeError):
            continue
        found.setdefault(exercise_id, []).append((status, message))
    return found


def grading_parameters(official_path: Path) -> dict:
    """The smaller papermill parameters the chapter's lesson runs with when grading."""
    table = json.loads(GRADING_PARAMETERS.read_text())
    return {k: v for k, v in table.get(official_path.stem, {}).items()}


def grade_file(
    path: Path,
    data_dir: Path,
    cell_timeout: int,
    limits: sandbox.Limits | None,
    student: str | None = None,
) -> list[dict]:
    """One row per exercise of the submission's chapter (or one 'invalid' row)."""
    student = student or path.stem
    started = time.perf_counter()
    try:
        submission = nbformat.read(str(path), as_version=4)
        official_path = official_chapter(submission, path)
    except InvalidSubmission as error:
        return [_row(path, student, None, None, "invalid", str(error))]
    except Exception as error:  # unreadable JSON, not a notebook, wrong nbformat...
        return [
            _row(
                path,
                student,
                None,
                None,
                "invalid",
                f"not a readable notebook: {type(error).__name__}: {error}",
            )
        ]

    official = course.read_notebook(official_path)
    exercise_ids = list(course.exercises(official))
    answers = submitted_cells(submission, course.TAG_ANSWER)
    checks = submitted_cells(submission, course.TAG_CHECK)
    graded: dict[str, tuple[str, str]] = {}
    remaining = list(exercise_ids)
    stop_reason = ""
    deadline = time.monotonic() + (limits.wall_seconds if limits else 10**9)
    # One run normally; after an exercise that runs past the cell limit, a fresh run
    # grades the exercises that follow it.
    while remaining:
        budget = int(deadline - time.monotonic())
        if budget < 10:
            stop_reason = "stopped earlier: the hand-in's total time limit was reached"
            break
        run_limits = limits
        if limits and remaining != exercise_ids:  # a later run: what time is left
            run_limits = dataclasses.replace(limits, wall_seconds=budget)
        outcomes, stop_reason, stopped_in = _run(
            official,
            answers,
            remaining,
            data_dir,
            cell_timeout,
            run_limits,
            grading_parameters(official_path),
        )
        graded.update(outcomes)
        if stopped_in is None:
            break
        exercise_id, why = stopped_in
        graded[exercise_id] = (
            "answer-error",
            f"{why}; the exercises after it were graded in a fresh run",
        )
        remaining = remaining[remaining.index(exercise_id) + 1 :]
    seconds = time.perf_counter() - started

    rows = []
    for exercise_id in exercise_ids:
        status, message = graded.get(exercise_id, ("not-reached", stop_reason))
        if exercise_id not in answers:
            status, message = (
                "missing",
                "no answer cell tagged exercise-answer for this exercise",
            )
        elif exercise_id not in checks:
            status, message = (
                "check-removed",
                f"the check cell was deleted or renamed (official check: {status})",
            )
        rows.append(
            _row(path, student, official_path.stem, exercise_id, status, message)
        )
    for row in rows:
        row["seconds"] = round(seconds, 1)
    return rows


def _run(
    official,
    answers: dict[str, str],
    exercise_ids: list[str],
    data_dir: Path,
    cell_timeout: int,
    limits: sandbox.Limits | None,
    parameters: dict,
) -> tuple[dict[str, tuple[str, str]], str, str | None]:
    """Execute the grading notebook (for `exercise_ids`) in a fresh directory.

    Returns exercise id -> (status, message), why the run stopped early (if it did),
    and (exercise id, why) when the run stopped in that exercise's cell (past the cell
    limit, or the kernel died there) but not for the hand-in's total time limit. An
    outcome is read only from the seal's records, which carry an HMAC keyed by a secret
    of this run: nothing the student's code prints, and no record it writes, counts.
    """
    with tempfile.TemporaryDirectory(prefix="course-seal-") as folder:
        seal_dir = Path(folder)
        seal_dir.chmod(0o700)
        nb, exercise_cells, seal = grading_notebook(
            official, answers, seal_dir, only=set(exercise_ids)
        )
        (seal_dir / "seal.json").write_text(json.dumps(seal))
        (seal_dir / "records").write_text("")
        manager = (
            sandbox.kernel_manager_class(limits, (str(seal_dir),))
            if limits
            else sandbox.quiet_kernel_manager_class()
        )
        result = execution.execute(
            nb,
            data_dir,
            parameters=parameters,
            timeout=cell_timeout,
            raise_on_error=False,
            kernel_manager_class=manager,
        )
        records = read_records(seal_dir / "records", seal["key"])

    stop_reason, stopped_in = "", None
    cells = result.notebook.cells
    # the executed copy has papermill's injected parameters cell: find cells by source
    where = {
        exercise_id: next(
            (
                i
                for i, cell in enumerate(cells)
                if cell.source == nb.cells[index].source
            ),
            None,
        )
        for exercise_id, index in exercise_cells.items()
    }
    # the cell that was running when the run stopped: the last one papermill started
    started = [
        i
        for i, cell in enumerate(cells)
        if cell.get("metadata", {}).get("papermill", {}).get("start_time")
    ]
    last_started = started[-1] if started and result.error is not None else None
    if result.error is None:
        pass
    elif result.timed_out:
        stop_reason = (
            f"stopped earlier: a cell ran longer than the {cell_timeout} s limit"
        )
        for exercise_id, index in where.items():
            if last_started is not None and index == last_started:
                stopped_in = (
                    exercise_id,
                    f"TimeoutError: the answer (or the check on it) ran longer than "
                    f"the {cell_timeout} s a cell may take",
                )
        if stopped_in is None:
            stop_reason = (
                f"stopped earlier: a lesson cell ran longer than the {cell_timeout} s "
                "limit (not the student's code: give the grader more time with "
                "--cell-timeout)"
            )
    elif limits and result.seconds >= limits.wall_seconds - 1:
        stop_reason = (
            f"stopped earlier: the submission ran longer than its total time limit "
            f"({limits.wall_seconds} s) and was killed"
        )
    else:
        error = result.error
        what = (
            f"{error.ename}: {error.evalue}"
            if hasattr(error, "ename")
            else f"{type(error).__name__}: {error}"
        )
        stop_reason = f"stopped earlier by {what}"
        for exercise_id, index in where.items():
            if last_started is not None and index == last_started:
                stopped_in = (
                    exercise_id,
                    f"the kernel stopped while running this answer ({what})",
                )
    results = {}
    for exercise_id, index in where.items():
        found = records.get(exercise_id, [])
        ran_to_its_end = index is not None and (
            last_started is None or index < last_started
        )
        if len(found) == 1:
            status, message = found[0]
            # A check that crashes on the answer (not an assertion) has failed it
            # all the same.
            results[exercise_id] = (
                "fail" if status == "error" else status,
                explain(message, limits),
            )
        elif len(found) > 1:
            results[exercise_id] = (
                "review",
                f"the seal recorded {len(found)} outcomes for this exercise instead "
                f"of one ({', '.join(s for s, _ in found)}): the hand-in ran the "
                "grader's own cell again",
            )
        elif ran_to_its_end:
            results[exercise_id] = (
                "review",
                "the exercise's cell ran to its end but the seal recorded no outcome: "
                "the hand-in interfered with the grader (its audit event, or its "
                "record file)",
            )
    return results, stop_reason, stopped_in


def explain(message: str, limits: sandbox.Limits | None) -> str:
    """The message, with the sandbox's limit named when it is why the code failed."""
    if limits is None:
        return message
    if message.startswith("MemoryError") or "can't allocate memory" in message:
        limit = limits.memory // sandbox.MiB
        return f"{message} (the sandbox's memory limit is {limit} MiB)"
    if "Resource temporarily unavailable" in message:
        return (
            f"{message} (the sandbox allows {limits.processes} processes and threads)"
        )
    if message.startswith("OSError: [Errno 27]") or "File too large" in message:
        limit = limits.file_size // sandbox.MiB
        return f"{message} (the sandbox's file size limit is {limit} MiB)"
    if (
        "Network is unreachable" in message
        or "Connection refused" in message
        or "Temporary failure in name resolution" in message
    ):
        return f"{message} (the sandbox has no network)"
    return message


def _row(
    path: Path, student: str, chapter, exercise, status: str, message: str
) -> dict:
    return {
        "student": student,
        "submission": path.name,
        "chapter": chapter or "",
        "exercise": exercise or "",
        "status": status,
        "points": int(status == "pass"),
        "message": message.strip(),
    }


def submissions(arguments: list[Path]) -> list[tuple[str, Path]]:
    """(student, notebook) for every hand-in.

    A folder may hold notebooks (the student is the file's name without .ipynb) or one
    subfolder per student, as learning management systems export them (the student is
    the subfolder's name; every notebook under it is that student's)."""
    found = []
    for argument in arguments:
        if argument.is_dir():
            for notebook in sorted(argument.glob("*.ipynb")):
                found.append((notebook.stem, notebook))
            for folder in sorted(p for p in argument.iterdir() if p.is_dir()):
                if folder.name.startswith("."):
                    continue
                for notebook in sorted(folder.rglob("*.ipynb")):
                    if ".ipynb_checkpoints" not in notebook.parts:
                        found.append((folder.name, notebook))
        elif argument.exists():
            found.append((argument.stem, argument))
        else:
            raise SystemExit(f"grade.py: no such file or folder: {argument}")
    if not found:
        raise SystemExit(
            "grade.py: no .ipynb files to grade (give notebooks, a folder of them, or "
            "a folder with one subfolder per student)"
        )
    return found


def totals(rows: list[dict]) -> list[dict]:
    """Per student and chapter: points, out of how many, and the grading time."""
    table: dict[tuple[str, str], dict] = {}
    for row in rows:
        key = (row["student"], row["chapter"] or row["submission"])
        entry = table.setdefault(
            key,
            {
                "student": row["student"],
                "chapter": row["chapter"],
                "submission": row["submission"],
                "points": 0,
                "out_of": 0,
                "review": 0,
                "seconds": row.get("seconds", ""),
            },
        )
        entry["points"] += row["points"]
        entry["out_of"] += int(bool(row["exercise"]))
        entry["review"] += int(row["status"] == "review")
    return list(table.values())


def print_table(rows: list[dict]) -> None:
    widths = {
        key: max(len(key), *(len(str(r[key])) for r in rows))
        for key in ("student", "exercise", "status")
    }
    header = "  ".join(key.ljust(widths[key]) for key in widths) + "  message"
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            "  ".join(str(row[key]).ljust(widths[key]) for key in widths)
            + "  "
            + row["message"][:100]
        )
    for entry in totals(rows):
        review = f", {entry['review']} for review" if entry["review"] else ""
        print(
            f"{entry['student']} ({entry['chapter'] or entry['submission']}): "
            f"{entry['points']}/{entry['out_of']} exercises passed{review}"
            f" ({entry['seconds']} s)"
        )


def datasets_needed(official) -> set[str]:
    """The datasets a chapter loads (today: MNIST, through torchvision)."""
    code = "\n".join(c.source for c in official.cells if c.cell_type == "code")
    return {"MNIST"} if "MNIST(" in code else set()


def mnist_ready(data_dir: Path) -> bool:
    raw = Path(data_dir) / "MNIST" / "raw"
    for name, md5 in MNIST_MD5.items():
        file = raw / name
        if not file.is_file():
            return False
        digest = hashlib.md5()
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        if digest.hexdigest() != md5:
            return False
    return True


def ensure_datasets(chapters: set[Path], data_dir: Path, fetch: bool = True) -> None:
    """Make sure every dataset the chapters need is in `data_dir`, verified, before
    any hand-in runs (the sandbox has no network, and a hand-in must never be scored
    for what the machine lacks). Fetches it here, outside the sandbox, when it can;
    raises DataMissing otherwise."""
    needed = set()
    for path in chapters:
        needed |= datasets_needed(course.read_notebook(path))
    if "MNIST" not in needed or mnist_ready(data_dir):
        return
    if fetch:
        print(f"grade.py: MNIST is not in {data_dir}: downloading it (once)...")
        run = subprocess.run(
            [
                sys.executable,
                "-c",
                "import socket, sys; socket.setdefaulttimeout(30)\n"
                "from torchvision import datasets\n"
                "datasets.MNIST(sys.argv[1], train=True, download=True)\n"
                "datasets.MNIST(sys.argv[1], train=False, download=True)",
                str(data_dir),
            ],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        if run.returncode == 0 and mnist_ready(data_dir):
            return
        why = (run.stderr.strip().splitlines() or ["no error message"])[-1]
    else:
        why = "fetching was turned off (--no-fetch)"
    raise DataMissing(
        f"grade.py: refusing to grade: the chapter(s) need MNIST, which is not in "
        f"{Path(data_dir).resolve() / 'MNIST' / 'raw'} and could not be downloaded "
        f"({why}). Hand-ins run without network, so they would fail for the "
        "machine's sake, not the student's. Connect this machine to the internet and "
        "grade again (the grader downloads MNIST once), or copy the four MNIST files "
        f"(train-images-idx3-ubyte ...) into that folder, or point COURSE_DATA_DIR at "
        "a folder that has them."
    )


def _grade_one(item, **kwargs):
    student, path = item
    return grade_file(path, student=student, **kwargs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "paths",
        nargs="+",
        type=Path,
        help="notebooks, folders of notebooks, or folders of students' subfolders",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("."),
        help="where grades.json, grades.csv and totals.csv go",
    )
    parser.add_argument(
        "--cell-timeout",
        type=int,
        default=120,
        help="seconds one cell may run (default 120)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="submissions graded at the same time (default 1)",
    )
    defaults = sandbox.Limits()
    parser.add_argument(
        "--memory-mb",
        type=int,
        default=defaults.memory // sandbox.MiB,
        help="heap memory per submission, MiB "
        f"(default {defaults.memory // sandbox.MiB})",
    )
    parser.add_argument(
        "--time-limit",
        type=int,
        default=defaults.wall_seconds,
        help=f"seconds one whole submission may run (default {defaults.wall_seconds})",
    )
    parser.add_argument(
        "--no-fetch",
        action="store_true",
        help="never download a missing dataset (refuse to grade instead)",
    )
    parser.add_argument(
        "--unsafe-no-sandbox",
        action="store_true",
        help="run students' code WITHOUT a sandbox, with your rights "
        "(trusted work only)",
    )
    args = parser.parse_args()
    if args.cell_timeout < 1:
        parser.error("--cell-timeout must be at least 1 second")
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    if args.memory_mb < 256 or args.time_limit < 1:
        parser.error("--memory-mb must be at least 256 and --time-limit at least 1")
    limits = sandbox.Limits(
        memory=args.memory_mb * sandbox.MiB,
        address_space=args.memory_mb * sandbox.MiB + 8 * sandbox.GiB,
        wall_seconds=args.time_limit,
        cpu_seconds=2 * args.time_limit,
    )
    reason = sandbox.unavailable_reason()
    if args.unsafe_no_sandbox:
        limits = None
        print(
            "grade.py: WARNING: --unsafe-no-sandbox: the students' code runs with your "
            "own rights (it can read, change or send anything you can). Use it only "
            "for work you trust.",
            file=sys.stderr,
        )
    elif reason:
        print(
            f"grade.py: refusing to grade: {reason}, and students' code must not run "
            "with your rights (it could read your files, use the network, "
            "fill the disk).\n"
            "Install bubblewrap (Debian/Ubuntu: sudo apt-get install bubblewrap; or: "
            "make sandbox). Where it cannot work (macOS), grade in a Linux virtual "
            "machine or container; or, only for submissions you trust, pass "
            "--unsafe-no-sandbox (make grade UNSAFE=1), which is unsafe.",
            file=sys.stderr,
        )
        return EXIT_NO_SANDBOX
    else:
        print(f"grade.py: each submission runs in a sandbox: {limits.describe()}")
        sandbox.remove_stale_cgroups()
    items = submissions(args.paths)
    chapters = set()
    for _, path in items:
        try:
            chapters.add(official_chapter(nbformat.read(str(path), as_version=4), path))
        except Exception:
            pass  # graded as invalid below
    data_dir = execution.prepare_data_dir()
    try:
        ensure_datasets(chapters, data_dir, fetch=not args.no_fetch)
    except DataMissing as error:
        print(error, file=sys.stderr)
        return EXIT_NO_DATA
    if limits:
        sandbox.matplotlib_cache()  # built once here; the workers inherit it
    grade = functools.partial(
        _grade_one, data_dir=data_dir, cell_timeout=args.cell_timeout, limits=limits
    )
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        rows = [row for file_rows in pool.map(grade, items) for row in file_rows]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "grades.json").write_text(json.dumps(rows, indent=2) + "\n")
    fields = ["student", "submission", "chapter", "exercise", "status", "points"]
    fields += ["seconds", "message"]
    with open(args.out / "grades.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows({"seconds": "", **row} for row in rows)
    summary = totals(rows)
    with open(args.out / "totals.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(summary[0]))
        writer.writeheader()
        writer.writerows(summary)
    print_table(rows)
    print(
        f"wrote {args.out / 'grades.json'}, {args.out / 'grades.csv'} and "
        f"{args.out / 'totals.csv'}"
    )
    return EXIT_INVALID if any(r["status"] == "invalid" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
