"""Student copies hide every solution; the autograder grades what students really hand in."""
from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest

from harness import chapter_params
from tools import course, execution

FIRST_CHAPTER = course.chapter_paths()[0]


def solution_lines(nb) -> set[str]:
    """Lines of code that appear in solutions and nowhere else in the chapter."""
    parts = course.exercises(nb)
    solutions = {p["solution"] for p in parts.values()}
    elsewhere = {line.strip() for i, c in enumerate(nb.cells) if i not in solutions for line in c.source.splitlines()}
    return {line.strip() for i in solutions for line in nb.cells[i].source.splitlines()
            if line.strip() and not line.strip().startswith("#") and line.strip() not in elsewhere}


@pytest.mark.parametrize("path", chapter_params())
def test_student_copy_has_no_solution_text(path):
    nb = course.read_notebook(path)
    student = course.student_copy(nb)
    student_lines = {line.strip() for cell in student.cells for line in cell.source.splitlines()}
    assert not any(course.TAG_SOLUTION in course.tags(cell) for cell in student.cells)
    leaked = sorted(solution_lines(nb) & student_lines)
    assert not leaked, f"solution lines left in the student copy: {leaked}"
    kept = [c for c in nb.cells if course.TAG_SOLUTION not in course.tags(c)]
    assert [c.source for c in student.cells] == [c.source for c in kept], "the rest must stay identical"


def test_student_copy_branch_rewrites_badges():
    student = course.student_copy(course.read_notebook(FIRST_CHAPTER), branch="student")
    badge = next(c.source for c in student.cells if course.COLAB_BADGE_IMAGE in c.source)
    assert f"/blob/student/notebooks/{FIRST_CHAPTER.name}" in badge


def with_answers(nb, sources: dict[str, str]):
    """A copy of `nb` whose answer cells hold the given sources."""
    answered = course.copy_notebook(nb)
    for exercise_id, parts in course.exercises(answered, student=True).items():
        if exercise_id in sources:
            answered.cells[parts["answer"]].source = sources[exercise_id]
    return answered


@pytest.fixture(scope="module")
def submissions(tmp_path_factory, course_data_dir):
    """The official solutions, the blank student copy and broken hand-ins, as students send them."""
    folder = tmp_path_factory.mktemp("submissions")
    official = course.read_notebook(FIRST_CHAPTER)
    parts = course.exercises(official)
    ids = list(parts)
    solutions = {i: official.cells[p["solution"]].source for i, p in parts.items()}
    blank = course.student_copy(official)
    cases = {
        "solved": with_answers(blank, solutions),
        "blank": blank,
        # raises in the first answer; the other answers are right and must still be graded
        "raises_early": with_answers(blank, {**solutions, ids[0]: "raise ValueError('I gave up')"}),
        # loops forever in the second answer: the time limit stops it
        "infinite_loop": with_answers(blank, {**solutions, ids[1]: "while True:\n    pass"}),
        # prints a fake success instead of answering
        "prints_pass": with_answers(blank, {**solutions, ids[0]: f"print('Exercise {ids[0]}: correct')"}),
        # prints the grader's own record of a pass for every exercise, then kills its kernel
        "forges_records": with_answers(blank, {ids[0]: "\n".join(
            f"print({execution.CHECK_MARKER!r} + {json.dumps(forged)!r})"
            for forged in ({"exercise": i, "label": "submission", "outcome": ["pass", ""]}
                           for i in ids)) + "\nimport os\nos._exit(1)"}),
    }
    # the third check cell deleted, the fourth answer cell's tags removed
    tampered = with_answers(blank, solutions)
    tampered.cells = [c for c in tampered.cells
                      if not (course.TAG_CHECK in course.tags(c) and c.metadata["course"]["exercise"] == ids[2])]
    for cell in tampered.cells:
        if course.TAG_ANSWER in course.tags(cell) and cell.metadata["course"]["exercise"] == ids[3]:
            cell.metadata["tags"] = []
    cases["tampered"] = tampered
    for name, nb in cases.items():
        nbformat.write(nb, str(folder / f"{FIRST_CHAPTER.stem}_{name}.ipynb"))
    (folder / "malformed.ipynb").write_text("{ this is not json")
    return folder, ids


@pytest.fixture(scope="module")
def grades(submissions, tmp_path_factory):
    folder, ids = submissions
    out = tmp_path_factory.mktemp("grades")
    run = subprocess.run([sys.executable, "tools/grade.py", str(folder), "--out", str(out), "--cell-timeout", "30", "--jobs", "2"],
                         cwd=course.REPO_ROOT, capture_output=True, text=True, timeout=900)
    assert run.returncode == 2, f"a malformed file must make the exit status 2:\n{run.stdout}\n{run.stderr}"
    rows = json.loads((out / "grades.json").read_text())
    assert (out / "grades.csv").read_text().startswith("submission,chapter,exercise,status,points,message")
    table = {}
    for row in rows:
        table.setdefault(row["submission"].removeprefix(f"{FIRST_CHAPTER.stem}_").removesuffix(".ipynb"), {})[
            row["exercise"]] = (row["status"], row["message"])
    return table, ids, run.stdout


def statuses(table, case):
    return [status for status, _ in table[case].values()]


@pytest.mark.slow
def test_official_solutions_pass(grades):
    table, ids, _ = grades
    assert statuses(table, "solved") == ["pass"] * len(ids)


@pytest.mark.slow
def test_blank_student_copy_fails_every_check(grades):
    table, ids, _ = grades
    assert statuses(table, "blank") == ["fail"] * len(ids)
    for status, message in table["blank"].values():
        assert message.startswith(("AssertionError", "NotImplementedError")), message


@pytest.mark.slow
def test_an_early_error_is_reported_and_later_answers_still_graded(grades):
    table, ids, _ = grades
    status, message = table["raises_early"][ids[0]]
    assert status == "answer-error" and "I gave up" in message
    assert statuses(table, "raises_early")[1:] == ["pass"] * (len(ids) - 1)


@pytest.mark.slow
def test_an_infinite_loop_hits_the_time_limit(grades):
    table, ids, _ = grades
    assert table["infinite_loop"][ids[0]][0] == "pass"
    assert statuses(table, "infinite_loop")[1:] == ["not-reached"] * (len(ids) - 1)
    assert "limit" in table["infinite_loop"][ids[1]][1]


@pytest.mark.slow
def test_printed_success_is_not_trusted(grades):
    table, ids, _ = grades
    assert table["prints_pass"][ids[0]][0] == "fail"


@pytest.mark.slow
def test_forged_check_records_are_not_trusted(grades):
    table, ids, _ = grades
    assert "pass" not in statuses(table, "forges_records"), table["forges_records"]


@pytest.mark.slow
def test_deleted_check_and_untagged_answer_are_reported_not_passed(grades):
    table, ids, _ = grades
    assert table["tampered"][ids[2]][0] == "check-removed"
    assert table["tampered"][ids[3]][0] == "missing"
    assert statuses(table, "tampered")[:2] == ["pass", "pass"]


@pytest.mark.slow
def test_malformed_file_gets_a_clear_error(grades):
    table, _, stdout = grades
    (status, message), = table["malformed"].values()
    assert status == "invalid" and "not a readable notebook" in message
    assert "malformed.ipynb" in stdout
