"""Grade students' notebooks: re-run the official checks on their answers, with a time limit.

Usage: python tools/grade.py SUBMISSION [SUBMISSION ...] [--out DIR] [--cell-timeout 120] [--jobs 1]
       (a SUBMISSION is a notebook or a folder of notebooks)

Only the students' answer cells are taken from a submission. Every other cell and every check
comes from the official chapter (found by the submission's metadata, or its file name), so
nothing a student prints or edits can fake a pass. Each submission runs in a fresh temporary
directory. Per exercise the result is one of:

  pass          the official check passed
  fail          the official check failed (its message is reported)
  answer-error  the answer cell raised (the check is still run, and fails)
  missing       the submission has no answer cell for this exercise (deleted, or tags removed)
  check-removed the submission's check cell was deleted or renamed (reported; never a pass)
  not-reached   the time limit or a crash stopped the notebook before this exercise
  invalid       the file is not a chapter notebook (the message says why)

Writes grades.json and grades.csv to --out (default: the current directory) and prints a table.
Exit status: 0 when every submission could be graded, 2 when some file was invalid.
"""
from __future__ import annotations

import argparse
import csv
import functools
import json
import os
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat
import papermill

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tools import course  # noqa: E402
from tools.run_notebooks import data_dir_for_run  # noqa: E402

MARKER = "GRADE "
STATUSES = ("pass", "fail", "answer-error", "missing", "check-removed", "not-reached", "invalid")


class InvalidSubmission(Exception):
    """The file cannot be graded as a chapter notebook."""


def official_chapter(submission, path: Path) -> Path:
    """The official notebook the submission is a copy of."""
    chapter = submission.metadata.get("course", {}).get("chapter")
    for official in course.chapter_paths():
        if chapter == int(official.stem[:2]) or (chapter is None and path.name.startswith(official.stem[:3])):
            return official
    raise InvalidSubmission("not a copy of a chapter (no metadata.course.chapter, and the file "
                            "name does not start with a chapter number such as 01_)")


def submitted_cells(submission, role_tag: str) -> dict[str, str]:
    """Exercise id -> source of the submission's cells tagged `role_tag`."""
    cells = {}
    for cell in submission.cells:
        exercise_id = cell.get("metadata", {}).get("course", {}).get("exercise")
        if exercise_id and role_tag in cell.get("metadata", {}).get("tags", []):
            cells[exercise_id] = cell.source
    return cells


def grading_notebook(official, answers: dict[str, str]):
    """The official chapter with solutions removed, the answers swapped in, and checks that report."""
    parts = course.exercises(official)
    role_of = {index: (exercise_id, role) for exercise_id, p in parts.items() for role, index in p.items()}
    cells = [nbformat.v4.new_code_cell("__answer_errors = {}")]
    for index, cell in enumerate(official.cells):
        exercise_id, role = role_of.get(index, (None, None))
        if role == "solution":
            continue
        if role == "answer":
            if exercise_id in answers:
                cells.append(nbformat.v4.new_code_cell(_answer_source(exercise_id, answers[exercise_id])))
            continue
        if role == "check":
            cells.append(nbformat.v4.new_code_cell(_check_source(exercise_id, cell.source)))
            continue
        cells.append(cell)
    graded = nbformat.from_dict(json.loads(json.dumps(official)))
    graded.cells = cells
    return graded


def _answer_source(exercise_id: str, source: str) -> str:
    return f"""
try:
    exec(compile(get_ipython().transform_cell({source!r}), "<answer to exercise {exercise_id}>", "exec"), globals())
except Exception as __error:
    __answer_errors[{exercise_id!r}] = f"{{type(__error).__name__}}: {{__error}}"
""".strip()


def _check_source(exercise_id: str, source: str) -> str:
    return f"""
import json as __json
try:
    exec(compile({source!r}, "<check of exercise {exercise_id}>", "exec"), globals())
except Exception as __error:
    __outcome = ("fail", f"{{type(__error).__name__}}: {{__error}}")
else:
    __outcome = ("pass", "")
if {exercise_id!r} in __answer_errors and __outcome[0] != "pass":
    __outcome = ("answer-error", __answer_errors[{exercise_id!r}])
print({MARKER!r} + __json.dumps({{"exercise": {exercise_id!r}, "status": __outcome[0], "message": __outcome[1]}}))
""".strip()


def grade_file(path: Path, cell_timeout: int) -> list[dict]:
    """One row per exercise of the submission's chapter (or one 'invalid' row)."""
    try:
        submission = nbformat.read(str(path), as_version=4)
        official_path = official_chapter(submission, path)
    except InvalidSubmission as error:
        return [_row(path, None, None, "invalid", str(error))]
    except Exception as error:  # unreadable JSON, not a notebook, wrong nbformat...
        return [_row(path, None, None, "invalid", f"not a readable notebook: {type(error).__name__}: {error}")]

    official = course.read_notebook(official_path)
    exercise_ids = list(course.exercises(official))
    answers = submitted_cells(submission, course.TAG_ANSWER)
    checks = submitted_cells(submission, course.TAG_CHECK)
    graded, stop_reason = _run(grading_notebook(official, answers), cell_timeout)

    rows = []
    for exercise_id in exercise_ids:
        status, message = graded.get(exercise_id, ("not-reached", stop_reason))
        if exercise_id not in answers:
            status, message = "missing", "no answer cell tagged exercise-answer for this exercise"
        elif exercise_id not in checks:
            status, message = "check-removed", f"the check cell was deleted or renamed (official check: {status})"
        rows.append(_row(path, official_path.stem, exercise_id, status, message))
    return rows


def _run(nb, cell_timeout: int) -> tuple[dict[str, tuple[str, str]], str]:
    """Execute the grading notebook in a fresh directory.

    Returns exercise id -> (status, message), and why the run stopped early (if it did).
    """
    with tempfile.TemporaryDirectory(prefix="course-grade-") as tmp:
        workdir, source, output = Path(tmp) / "work", Path(tmp) / "grading.ipynb", Path(tmp) / "graded.ipynb"
        workdir.mkdir()
        course.write_notebook(nb, source)
        stop_reason = ""
        try:
            papermill.execute_notebook(str(source), str(output), cwd=str(workdir), kernel_name="python3",
                                       progress_bar=False, log_output=False, execution_timeout=cell_timeout)
        except papermill.PapermillExecutionError as error:  # what ran before the crash still counts
            stop_reason = f"stopped earlier by {error.ename}: {error.evalue}"
        except Exception as error:  # nbclient's CellTimeoutError and kernel deaths
            stop_reason = (f"stopped earlier: a cell ran longer than the {cell_timeout} s limit"
                           if "timed out" in str(error).lower() or "timeout" in type(error).__name__.lower()
                           else f"stopped earlier by {type(error).__name__}: {error}")
        executed = nbformat.read(str(output), as_version=4) if output.exists() else nb
    results = {}
    for cell in executed.cells:
        for out in cell.get("outputs", []):
            for line in out.get("text", "").splitlines():
                if line.startswith(MARKER):
                    record = json.loads(line[len(MARKER):])
                    results[record["exercise"]] = (record["status"], record["message"])
    return results, stop_reason


def _row(path: Path, chapter, exercise, status: str, message: str) -> dict:
    return {"submission": path.name, "chapter": chapter or "", "exercise": exercise or "",
            "status": status, "points": int(status == "pass"), "message": message.strip()[:300]}


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
    widths = {key: max(len(key), *(len(str(r[key])) for r in rows)) for key in ("submission", "exercise", "status")}
    header = "  ".join(key.ljust(widths[key]) for key in widths) + "  message"
    print(header)
    print("-" * len(header))
    for row in rows:
        print("  ".join(str(row[key]).ljust(widths[key]) for key in widths) + "  " + row["message"][:100])
    for name in dict.fromkeys(r["submission"] for r in rows):
        mine = [r for r in rows if r["submission"] == name]
        print(f"{name}: {sum(r['points'] for r in mine)}/{len([r for r in mine if r['exercise']])} exercises passed")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="+", type=Path, help="notebooks or folders of notebooks")
    parser.add_argument("--out", type=Path, default=Path("."), help="where grades.json and grades.csv go")
    parser.add_argument("--cell-timeout", type=int, default=120, help="seconds one cell may run (default 120)")
    parser.add_argument("--jobs", type=int, default=1, help="submissions graded at the same time (default 1)")
    args = parser.parse_args()
    if args.cell_timeout < 1:
        parser.error("--cell-timeout must be at least 1 second")
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    os.environ["COURSE_DATA_DIR"] = data_dir_for_run()
    files = submissions(args.paths)
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        graded = pool.map(functools.partial(grade_file, cell_timeout=args.cell_timeout), files)
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
