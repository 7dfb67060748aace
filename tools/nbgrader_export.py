"""Write the course as an nbgrader course folder, for instructors who grade with
nbgrader.

Usage: python tools/nbgrader_export.py [CHAPTER ...] [--out dist/nbgrader]

Writes OUT/nbgrader_config.py and, per chapter,
OUT/source/<chapter>/<chapter>.ipynb, where
  - each exercise's answer cell becomes an nbgrader solution cell: the student's
    starting code (the stub), then the official solution between `### BEGIN SOLUTION`
    and `### END SOLUTION` (nbgrader's generate_assignment keeps the stub and removes
    the solution);
  - each check cell becomes an autograded test cell worth the exercise's points: the
    check cell's metadata.course.points, else the chapter's
    metadata.course.points[exercise], else 1;
  - every other cell (the lesson) is read-only.
Then, in OUT:  nbgrader generate_assignment 01_tensors  and, once students hand in,
               nbgrader autograde 01_tensors  (see book/instructors.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tools import course  # noqa: E402

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
SCHEMA_VERSION = 3
# what generate_assignment leaves where the solution was; the line above it says what
# to do, by the exercise's kind (a debug exercise's stub has no placeholders to replace)
CODE_STUB = "# YOUR CODE HERE"
INSTRUCTION = {
    "debug": "# Fix the code above: it is broken the way the exercise describes.",
    "predict": "# Write your prediction above, before running anything.",
    "transfer": "# Replace the placeholders above with your code.",
}

CONFIG = f"""\
# nbgrader configuration of the course, written by tools/nbgrader_export.py.
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "hands-on-pytorch"
c.CourseDirectory.root = "."
# generate_assignment keeps each exercise's starting code, drops the solution below it.
c.ClearSolutions.code_stub = {{"python": {CODE_STUB!r}}}
c.ClearSolutions.begin_solution_delimeter = "BEGIN SOLUTION"
c.ClearSolutions.end_solution_delimeter = "END SOLUTION"
# Seconds one cell may run while autograding (training chapters need minutes on a CPU).
c.ExecutePreprocessor.timeout = 600
"""


def _nbgrader(
    grade_id: str, *, solution=False, grade=False, locked=False, points=None
) -> dict:
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": SCHEMA_VERSION,
        "solution": solution,
        "task": False,
    }
    if points is not None:
        meta["points"] = points
    return meta


def points_of(nb, check_cell, exercise_id: str):
    """An exercise's points: the check cell's, the chapter's, or 1."""
    points = check_cell.metadata.get("course", {}).get("points")
    if points is None:
        points = course.chapter_meta(nb).get("points", {}).get(exercise_id, 1)
    return points


def _solution_source(solution: str) -> str:
    lines = solution.splitlines()
    if lines and lines[0].startswith(course.SOLUTION_TITLE):
        lines = lines[1:]
    return "\n".join(lines).strip("\n")


def nbgrader_notebook(nb):
    """The chapter with nbgrader's cell metadata (see the module's docstring)."""
    parts = course.exercises(nb)
    role_of = {
        index: (exercise_id, role)
        for exercise_id, p in parts.items()
        for role, index in p.items()
    }
    out = course.copy_notebook(nb)
    cells = []
    for index, cell in enumerate(out.cells):
        cell = course.copy_notebook(cell)
        exercise_id, role = role_of.get(index, (None, None))
        if role == "solution":
            continue
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cell.metadata.get("course", {}).pop("wrong_answers", None)
        cell.metadata.get("course", {}).pop("right_answers", None)
        slug = (exercise_id or "").replace(".", "_")
        if role == "answer":
            solution = nb.cells[parts[exercise_id]["solution"]].source
            kind = (
                nb.cells[parts[exercise_id]["check"]]
                .metadata.get("course", {})
                .get("kind", "transfer")
            )
            instruction = INSTRUCTION.get(kind, INSTRUCTION["transfer"])
            cell.source = (
                f"{cell.source.rstrip()}\n{instruction}"
                f"\n{BEGIN}\n{_solution_source(solution)}\n{END}"
            )
            cell.metadata["nbgrader"] = _nbgrader(f"answer_{slug}", solution=True)
        elif role == "check":
            # nbgrader scores a test cell by whether it raises: the assertions alone,
            # not the template that prints instead of raising
            body = course.check_program(exercise_id, course.check_body(cell.source))
            cell.source = f'{body}\nprint("Exercise {exercise_id}: correct")'
            cell.metadata["nbgrader"] = _nbgrader(
                f"check_{slug}",
                grade=True,
                locked=True,
                points=points_of(nb, cell, exercise_id),
            )
        else:
            cell.metadata["nbgrader"] = _nbgrader(f"lesson_{index}", locked=True)
        cells.append(cell)
    out.cells = cells
    out.metadata["course"].pop("executed_code_sha256", None)
    return out


def export(chapters: list[Path], out: Path) -> list[Path]:
    """Write the nbgrader course folder; returns the notebooks written."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "nbgrader_config.py").write_text(CONFIG)
    written = []
    for path in chapters:
        target = out / "source" / path.stem / f"{path.stem}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        course.write_notebook(nbgrader_notebook(course.read_notebook(path)), target)
        written.append(target)
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    course.add_chapters_argument(parser, help="chapters to export (default: all)")
    parser.add_argument(
        "--out",
        type=Path,
        default=course.REPO_ROOT / "dist" / "nbgrader",
        help="the nbgrader course folder (default dist/nbgrader)",
    )
    args = parser.parse_args()
    chapters = args.chapters or course.chapter_paths()
    for path in export(chapters, args.out):
        print(f"wrote {path}")
    print(
        f"nbgrader course folder: {args.out} (then: cd {args.out} && nbgrader "
        f"generate_assignment {chapters[0].stem})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
