"""The nbgrader export: nbgrader's own commands accept it and score it right (chapter 1
only).

nbgrader is not one of the course's requirements: the test installs it from PyPI into a
temporary virtual environment layered on the test environment (only what is missing is
downloaded), so an instructor's nbgrader is what is tested, not ours.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from harness import layered_venv
from tools import course

NBGRADER = "nbgrader==0.9.6"
CHAPTER = course.chapter_paths()[0]


@pytest.fixture(scope="module")
def nbgrader_bin(tmp_path_factory) -> Path:
    venv = tmp_path_factory.mktemp("nbgrader-venv")
    # the test environment's packages (torch, jupyter_client...) are seen from the new
    # one
    layered_venv(venv)
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(venv / "bin" / "python"),
            "install",
            "--disable-pip-version-check",
            "-q",
            NBGRADER,
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert install.returncode == 0, (
        f"could not install {NBGRADER} from PyPI:\n{install.stderr[-3000:]}"
    )
    return venv / "bin"


def nbgrader(bin_dir: Path, course_dir: Path, *args: str, data_dir: Path) -> str:
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "COURSE_DATA_DIR": str(data_dir),
    }
    run = subprocess.run(
        [str(bin_dir / "nbgrader"), *args],
        cwd=course_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert run.returncode == 0, (
        f"nbgrader {' '.join(args)} failed:\n{run.stdout[-3000:]}\n{run.stderr[-5000:]}"
    )
    return run.stdout + run.stderr


def export_chapter(out) -> None:
    """Run `make nbgrader`'s script on the test's chapter, writing into `out`."""
    subprocess.run(
        [sys.executable, "tools/nbgrader_export.py", CHAPTER.stem, "--out", str(out)],
        cwd=course.REPO_ROOT,
        check=True,
        capture_output=True,
    )


def test_export_marks_every_cell(tmp_path):
    export_chapter(tmp_path)
    assert (tmp_path / "nbgrader_config.py").is_file()
    nb = course.read_notebook(
        tmp_path / "source" / CHAPTER.stem / f"{CHAPTER.stem}.ipynb"
    )
    meta = [cell.metadata["nbgrader"] for cell in nb.cells]
    exercises = course.exercises(course.read_notebook(CHAPTER))
    assert sum(m["solution"] for m in meta) == len(exercises)
    assert sum(m["grade"] for m in meta) == len(exercises)
    assert all(m["locked"] for m in meta if not m["solution"]), (
        "lesson and test cells are read-only"
    )
    assert len({m["grade_id"] for m in meta}) == len(meta)
    assert all(m.get("points") == 1 for m in meta if m["grade"])


def test_exported_stubs_say_what_to_do_by_kind(tmp_path):
    """A debug exercise's stub is broken code, not placeholders: its instruction
    (and the stub nbgrader leaves) must not ask to replace placeholders."""
    export_chapter(tmp_path)
    assert "placeholders" not in (tmp_path / "nbgrader_config.py").read_text()
    nb = course.read_notebook(
        tmp_path / "source" / CHAPTER.stem / f"{CHAPTER.stem}.ipynb"
    )
    official = course.read_notebook(CHAPTER)
    kinds = {
        i: official.cells[p["check"]].metadata["course"]["kind"]
        for i, p in course.exercises(official).items()
    }
    assert "debug" in kinds.values()
    for cell in nb.cells:
        if not cell.metadata["nbgrader"]["solution"]:
            continue
        exercise_id = cell.metadata["course"]["exercise"]
        stub = cell.source.split("### BEGIN SOLUTION")[0]
        if kinds[exercise_id] == "debug":
            assert "placeholders" not in stub and "Fix the code above" in stub, stub
        elif kinds[exercise_id] == "predict":
            assert "prediction" in stub, stub


@pytest.mark.slow
def test_nbgrader_generates_and_autogrades_the_export(
    tmp_path, nbgrader_bin, course_data_dir
):
    course_dir = tmp_path / "course"
    export_chapter(course_dir)
    nbgrader(
        nbgrader_bin,
        course_dir,
        "generate_assignment",
        CHAPTER.stem,
        "--force",
        data_dir=course_data_dir,
    )
    release = nbformat.read(
        str(course_dir / "release" / CHAPTER.stem / f"{CHAPTER.stem}.ipynb"),
        as_version=4,
    )
    official = course.read_notebook(CHAPTER)
    solutions = {
        exercise_id.replace(".", "_"): official.cells[parts["solution"]].source
        for exercise_id, parts in course.exercises(official).items()
    }
    solved = course.copy_notebook(release)
    for cell in solved.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            assert "BEGIN SOLUTION" not in cell.source, (
                "the released copy holds a solution"
            )
            cell.source = solutions[meta["grade_id"].removeprefix("answer_")]
    for student, nb in (("solved", solved), ("blank", release)):
        target = (
            course_dir / "submitted" / student / CHAPTER.stem / f"{CHAPTER.stem}.ipynb"
        )
        target.parent.mkdir(parents=True)
        nbformat.write(nb, str(target))
    nbgrader(
        nbgrader_bin,
        course_dir,
        "autograde",
        CHAPTER.stem,
        "--force",
        data_dir=course_data_dir,
    )
    nbgrader(nbgrader_bin, course_dir, "export", data_dir=course_data_dir)
    with open(course_dir / "grades.csv") as handle:
        scores = {
            row["student_id"]: (float(row["raw_score"]), float(row["max_score"]))
            for row in csv.DictReader(handle)
        }
    total = float(len(solutions))
    assert scores == {"solved": (total, total), "blank": (0.0, total)}, scores
