"""Write the student edition of every chapter (solutions removed) into dist/student/,
ready to publish.

Usage: python tools/student_copies.py [--repository OWNER/NAME] [--branch student]
                                      [--out dist/student]

Each copy is the chapter without its solutions (tools/course.student_copy), its "Open
in Colab" badge pointing at notebooks/<chapter>.ipynb in the repository and on the
branch where you publish the copies (not at the course's edition with solutions),
a hand-in note right under the title, and an exercises introduction that promises
no solutions. book/instructors.md shows how to publish them.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tools import course  # noqa: E402

HAND_IN_NOTE = """\
**Handing in this notebook.** Write each exercise's answer in its answer cell (the cell
under the exercise's statement, holding a `None` or a `NotImplementedError` for you to
replace), then run the check cell under it: it tells you whether the answer is right.
Only the answer cells are graded, each with the lesson's cells before it:

- keep every cell, in its order, with its tags (do not delete, split or merge cells);
- put all the code of an answer in its answer cell: a helper function or an import in a
  cell of your own is **not graded**, so an answer that needs it fails;
- save, and hand in the `.ipynb` file (Colab: *File → Download → Download .ipynb*).

This copy has no solutions."""

EXERCISES_INTRO = """\
## Exercises

Write your answer in the exercise's answer cell and run it, then run the **check** cell
below it: it says whether your answer is right, and if not, what is wrong."""

COLAB_PATH = re.compile(
    r"(colab\.research\.google\.com/github/)[^/]+/[^/]+/blob/[^/]+/"
)


def repository_slug(repository: str) -> str:
    """OWNER/NAME from OWNER/NAME or https://github.com/OWNER/NAME[.git]."""
    match = re.fullmatch(
        r"(?:https://github\.com/)?([\w.-]+)/([\w.-]+?)(?:\.git)?/?", repository
    )
    if not match:
        raise ValueError(
            f"not a GitHub repository: {repository!r} (give OWNER/NAME or its URL)"
        )
    return f"{match.group(1)}/{match.group(2)}"


def student_edition(nb, repository: str | None = None, branch: str = "main"):
    """The publishable student copy of a chapter (see the module's docstring)."""
    student = course.student_copy(nb, branch=branch)
    for cell in student.cells:  # other valid answers are answers too
        cell.metadata.get("course", {}).pop("right_answers", None)
        cell.metadata.get("course", {}).pop("wrong_answers", None)
    if repository is None:
        url = course.load_config()["repository"]["url"]
        repository = url
    slug = repository_slug(repository)
    for cell in student.cells:
        if cell.cell_type != "markdown":
            continue
        if course.COLAB_BADGE_IMAGE in cell.source:
            cell.source = COLAB_PATH.sub(rf"\g<1>{slug}/blob/{branch}/", cell.source)
        if cell.source.startswith("## Exercises"):
            cell.source = EXERCISES_INTRO
    note = nbformat.v4.new_markdown_cell(HAND_IN_NOTE)
    note.metadata["course"] = {"role": "hand-in-note"}
    student.cells.insert(1, note)
    return student


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=course.REPO_ROOT / "dist" / "student",
        help="output folder (default: dist/student, git-ignored)",
    )
    parser.add_argument(
        "--repository",
        help="the GitHub repository the copies are published in, OWNER/NAME "
        "(default: the course's own, from _config.yml: give yours)",
    )
    parser.add_argument(
        "--branch",
        default="main",
        help="the branch of that repository the copies are on (default main)",
    )
    args = parser.parse_args()
    try:
        repository_slug(args.repository or "x/y")
    except ValueError as error:
        parser.error(str(error))
    args.out.mkdir(parents=True, exist_ok=True)
    for path in course.chapter_paths():
        copy = student_edition(course.read_notebook(path), args.repository, args.branch)
        course.write_notebook(copy, args.out / path.name)
        print(f"wrote {args.out / path.name}")
    if not args.repository:
        print(
            "Note: the badges point at the course's own repository; to publish the "
            "copies in yours, pass --repository OWNER/NAME --branch BRANCH "
            "(book/instructors.md)."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
