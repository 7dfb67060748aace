"""Grade students' notebooks: re-run the official checks on their answers, with a time
limit.

Usage: python tools/grade.py SUBMISSION [SUBMISSION ...] [--out DIR]
                             [--cell-timeout 120] [--jobs 1] [--memory-mb 4096]
                             [--time-limit 1800] [--unsafe-no-sandbox]
       (a SUBMISSION is a notebook or a folder of notebooks)

Students' code is untrusted: each submission's kernel runs in a bubblewrap sandbox
(tools/sandbox.py: no network, read-only system, no home directory, no other submission,
a private /tmp, limits on memory, processes, file size and time). Where bubblewrap is
missing or cannot work (macOS), grading refuses to start unless --unsafe-no-sandbox is
given, which runs the students' code with your own rights: only for submissions you
trust.

Only the students' answer cells are taken from a submission. Every other cell and every
check comes from the official chapter (found by the submission's metadata, or its file
name), so nothing a student prints or edits can fake a pass. Each submission runs in a
fresh temporary directory. Per exercise the result is one of:

  pass          the official check passed
  fail          the official check failed (its message is reported)
  answer-error  the answer cell raised (the check is still run, and fails)
  missing       the submission has no answer cell for this exercise (deleted, or tags
                removed)
  check-removed the submission's check cell was deleted or renamed (reported; never a
                pass)
  not-reached   a time limit or a crash stopped the notebook before this exercise
  invalid       the file is not a chapter notebook (the message says why)

Writes grades.json and grades.csv to --out (default: the current directory) and prints a
table. Exit status: 0 when every submission could be graded, 2 when some file was
invalid, 3 when grading refused to run without a sandbox.
"""

from __future__ import annotations

import argparse
import csv
import functools
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tools import course, execution, sandbox  # noqa: E402

STATUSES = (
    "pass",
    "fail",
    "answer-error",
    "missing",
    "check-removed",
    "not-reached",
    "invalid",
)


class InvalidSubmission(Exception):
    """The file cannot be graded as a chapter notebook."""


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


def grading_notebook(official, answers: dict[str, str]):
    """The official chapter with solutions removed, and each check run on the student's
    answer.

    Returns the notebook and, per exercise, the index of the cell that runs its check.
    An answer missing from the submission leaves the check to run on nothing (it fails).
    """
    parts = course.exercises(official)
    role_of = {
        index: (exercise_id, role)
        for exercise_id, p in parts.items()
        for role, index in p.items()
    }
    cells, check_cells = [], {}
    for index, cell in enumerate(official.cells):
        exercise_id, role = role_of.get(index, (None, None))
        if role in ("answer", "solution"):
            continue
        if role == "check":
            check_cells[exercise_id] = len(cells)
            cell = nbformat.v4.new_code_cell(
                execution.check_cell_source(
                    exercise_id, cell.source, "submission", answers.get(exercise_id, "")
                )
            )
        cells.append(cell)
    graded = course.copy_notebook(official)
    graded.cells = cells
    return graded, check_cells


def grade_file(
    path: Path, data_dir: Path, cell_timeout: int, limits: sandbox.Limits | None
) -> list[dict]:
    """One row per exercise of the submission's chapter (or one 'invalid' row)."""
    try:
        submission = nbformat.read(str(path), as_version=4)
        official_path = official_chapter(submission, path)
    except InvalidSubmission as error:
        return [_row(path, None, None, "invalid", str(error))]
    except Exception as error:  # unreadable JSON, not a notebook, wrong nbformat...
        return [
            _row(
                path,
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
    graded, stop_reason = _run(
        *grading_notebook(official, answers), data_dir, cell_timeout, limits
    )

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
        rows.append(_row(path, official_path.stem, exercise_id, status, message))
    return rows


def _run(
    nb,
    check_cells: dict[str, int],
    data_dir: Path,
    cell_timeout: int,
    limits: sandbox.Limits | None,
) -> tuple[dict[str, tuple[str, str]], str]:
    """Execute the grading notebook in a fresh directory.

    Returns exercise id -> (status, message), and why the run stopped early (if it did).
    An exercise's outcome is read only from its own check cell, and only when that cell
    ran to its end: a line printed by a student's answer cannot pass another exercise,
    nor its own when the answer stops the cell (a killed kernel, an endless loop) after
    printing it.
    """
    manager = sandbox.kernel_manager_class(limits) if limits else None
    result = execution.execute(
        nb,
        data_dir,
        timeout=cell_timeout,
        raise_on_error=False,
        kernel_manager_class=manager,
    )
    if result.error is None:
        stop_reason = ""
    elif result.timed_out:
        stop_reason = (
            f"stopped earlier: a cell ran longer than the {cell_timeout} s limit"
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
    results = {}
    for exercise_id, index in check_cells.items():
        cell = result.notebook.cells[index]
        if cell.get("metadata", {}).get("papermill", {}).get("status") != "completed":
            continue
        recorded = execution.recorded_checks([cell]).get(exercise_id, {})
        if "submission" in recorded:
            status, message = recorded["submission"]
            # A check that crashes on the answer (not an assertion) has failed it all
            # the same.
            results[exercise_id] = (
                "fail" if status == "error" else status,
                explain(message, limits),
            )
    return results, stop_reason


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


def _row(path: Path, chapter, exercise, status: str, message: str) -> dict:
    return {
        "submission": path.name,
        "chapter": chapter or "",
        "exercise": exercise or "",
        "status": status,
        "points": int(status == "pass"),
        "message": message.strip()[:300],
    }


def submissions(arguments: list[Path]) -> list[Path]:
    files = []
    for argument in arguments:
        if argument.is_dir():
            files += sorted(argument.glob("*.ipynb"))
        elif argument.exists():
            files.append(argument)
        else:
            raise SystemExit(f"grade.py: no such file or folder: {argument}")
    if not files:
        raise SystemExit("grade.py: no .ipynb files to grade")
    return files


def print_table(rows: list[dict]) -> None:
    widths = {
        key: max(len(key), *(len(str(r[key])) for r in rows))
        for key in ("submission", "exercise", "status")
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
    for name in dict.fromkeys(r["submission"] for r in rows):
        mine = [r for r in rows if r["submission"] == name]
        print(
            f"{name}: {sum(r['points'] for r in mine)}/"
            f"{len([r for r in mine if r['exercise']])} exercises passed"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "paths", nargs="+", type=Path, help="notebooks or folders of notebooks"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("."),
        help="where grades.json and grades.csv go",
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
        return 3
    else:
        print(f"grade.py: each submission runs in a sandbox: {limits.describe()}")
        sandbox.remove_stale_cgroups()
    data_dir = execution.prepare_data_dir()
    files = submissions(args.paths)
    grade = functools.partial(
        grade_file, data_dir=data_dir, cell_timeout=args.cell_timeout, limits=limits
    )
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        graded = pool.map(grade, files)
        rows = [row for file_rows in graded for row in file_rows]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "grades.json").write_text(json.dumps(rows, indent=2) + "\n")
    with open(args.out / "grades.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print_table(rows)
    print(f"wrote {args.out / 'grades.json'} and {args.out / 'grades.csv'}")
    return 2 if any(r["status"] == "invalid" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
