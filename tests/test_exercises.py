"""Every exercise's check fails on the blank stub a student starts from and passes on the solution."""
from __future__ import annotations

import pytest

from conftest import chapter_params
from tools import course

MIN_EXERCISES = 4


@pytest.mark.parametrize("path", chapter_params())
def test_exercises_are_complete(path):
    """Each exercise has an answer stub, a solution hidden on the site, and a check, in that order."""
    nb = course.read_notebook(path)
    exercises = course.exercises(nb)  # raises on a missing or misplaced cell
    assert len(exercises) >= MIN_EXERCISES, f"{len(exercises)} exercises, at least {MIN_EXERCISES} wanted"
    for exercise_id, parts in exercises.items():
        assert exercise_id.startswith(f"{int(path.stem[:2])}."), f"exercise {exercise_id} misnumbered"
        solution = nb.cells[parts["solution"]]
        assert "hide-input" in course.tags(solution), f"solution {exercise_id} is not folded on the site"
        stub = nb.cells[parts["answer"]].source
        assert solution.source.strip() != stub.strip(), f"exercise {exercise_id}: stub equals solution"


@pytest.mark.slow
@pytest.mark.parametrize("path", chapter_params())
def test_checks_fail_on_stubs_and_pass_on_solutions(path, executions):
    """In one execution, each check ran right after the blank stub, then again after the solution."""
    execution = executions(path)
    assert execution.record is not None, f"the chapter did not run to its end.\n{execution.failure()}"
    probes = execution.record["probes"]
    assert set(probes) == set(course.exercises(course.read_notebook(path))), "some exercises were not probed"
    for exercise_id, outcomes in sorted(probes.items()):
        outcome, message = outcomes["stub"]
        assert outcome == "failed", (
            f"exercise {exercise_id}: on the blank stub the check should fail with an "
            f"AssertionError or NotImplementedError, but it {outcome} {message}".strip())
        assert message.split(":", 1)[1].strip(), f"exercise {exercise_id}: the failure says nothing"
        outcome, message = outcomes["solution"]
        assert outcome == "passed", f"exercise {exercise_id}: the check {outcome} on the solution: {message}"
