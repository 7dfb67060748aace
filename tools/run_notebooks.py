"""Execute chapter notebooks top to bottom with papermill; store their outputs in place.

Usage: python tools/run_notebooks.py [--refresh-only] [01_tensors ...]   (default: all)

Before executing, what is generated is refreshed: the Colab badge (from _config.yml),
the learner's time (computed, see course.learner_time), the "at a glance" cell (from
the notebook's metadata), each check cell's template around its assertions, and the
lines that hide each check, each solution and the results cell in Colab, JupyterLab and
on the site. Each notebook runs in a fresh empty directory, as in Colab, with
COURSE_DATA_DIR pointing at the datasets (seeded from ../shared when it exists). The
hash of the code that produced the outputs is recorded, so tests can spot stale outputs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tools import course, execution  # noqa: E402

# Per-run bookkeeping that would make every execution differ from the last one.
VOLATILE_CELL_METADATA = ("papermill", "execution")


def refresh_generated(nb, path: Path) -> None:
    """Rewrite what is generated from its single source of truth."""
    for exercise_id, exercise in course.exercises(nb).items():
        course.hide_check(nb.cells[exercise["check"]], exercise_id)
        course.hide_solution(nb.cells[exercise["solution"]])
    for cell in course.code_cells(nb):
        if course.TAG_RESULTS in course.tags(cell):
            course.hide_results(cell)
    name_the_imported_packages(nb, path)
    meta = course.chapter_meta(nb)
    meta.pop("minutes", None)
    meta["time"] = course.learner_time(nb)
    info = [c for c in nb.cells if course.TAG_CHAPTER_INFO in course.tags(c)]
    if len(info) != 1:
        raise ValueError(
            f"{path.name}: expected one cell tagged {course.TAG_CHAPTER_INFO!r}"
        )
    info[0].source = course.render_chapter_info(course.chapter_meta(nb))
    badge_cells = [
        c
        for c in nb.cells
        if c.cell_type == "markdown" and course.COLAB_BADGE_IMAGE in c.source
    ]
    if len(badge_cells) != 1:
        raise ValueError(
            f"{path.name}: expected one markdown cell with the Colab badge"
        )
    lines = badge_cells[0].source.split("\n")
    badge_cells[0].source = "\n".join(
        course.colab_badge(path) if course.COLAB_BADGE_IMAGE in line else line
        for line in lines
    )


def installed_versions(names) -> dict[str, str]:
    import importlib.metadata

    return {name: importlib.metadata.version(name) for name in names}


def executed_with(nb) -> dict:
    """Today's date (UTC) and the versions of Python and of the Colab packages the
    chapter imports (course.chapter_packages), here, where the kernel runs (the same
    environment)."""
    import datetime
    import platform

    return {
        "date": datetime.datetime.now(datetime.timezone.utc).date().isoformat(),
        "python": platform.python_version(),
        "packages": installed_versions(course.chapter_packages(nb)),
    }


def name_the_imported_packages(nb, path: Path) -> None:
    """Make the recorded versions name the packages the chapter imports now. A package
    imported since the last run gets its version here, but only when the environment
    is the one that ran the chapter (the versions it recorded are the ones installed);
    otherwise the chapter must be run again."""
    executed = course.chapter_meta(nb).get("executed_with")
    if not executed:
        return
    wanted = course.chapter_packages(nb)
    if sorted(executed["packages"]) == wanted:
        return
    recorded = executed["packages"]
    if installed_versions(recorded) != recorded:
        raise ValueError(
            f"{path.name}: its outputs were produced with {recorded}, not the "
            "packages installed here; run it again (make notebooks)"
        )
    executed["packages"] = installed_versions(wanted)


def tidy_executed(nb, path: Path) -> None:
    """Drop papermill's timings and temporary paths; record the executed code's hash,
    the date and the versions (shown in the "at a glance" cell)."""
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        for key in VOLATILE_CELL_METADATA:
            cell.metadata.pop(key, None)
    course.chapter_meta(nb)["executed_code_sha256"] = course.code_hash(nb)
    course.chapter_meta(nb)["executed_with"] = executed_with(nb)
    refresh_generated(nb, path)


def run(path: Path, data_dir: Path) -> float:
    """Execute one chapter and store it with its outputs; the wall time in seconds."""
    nb = course.read_notebook(path)
    refresh_generated(nb, path)
    result = execution.execute(nb, data_dir, record_results=True)
    tidy_executed(result.notebook, path)
    course.write_notebook(result.notebook, path)
    return result.seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    course.add_chapters_argument(parser)
    parser.add_argument(
        "--refresh-only",
        action="store_true",
        help="refresh what is generated (badge, time, at a glance, hidden solutions) "
        "without executing; fails if that changes code, which needs a new execution",
    )
    args = parser.parse_args()
    paths = args.chapters or course.chapter_paths()
    if args.refresh_only:
        for path in paths:
            nb = course.read_notebook(path)
            executed = course.chapter_meta(nb).get("executed_code_sha256")
            refresh_generated(nb, path)
            if course.code_hash(nb) != executed:
                parser.error(
                    f"{path.name}: its code changed; run it without --refresh-only"
                )
            course.write_notebook(nb, path)
            print(f"refreshed {path.name}")
        return 0
    data_dir = execution.prepare_data_dir()
    for path in paths:
        print(f"executing {path.name} ...", flush=True)
        print(f"  done in {run(path, data_dir):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
