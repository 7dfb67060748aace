"""Each exercise's check rejects the blank stub and each stored wrong answer, and passes
the solution.

All of it is observed in the chapter's one execution (see `executions` in conftest.py).
"""

from __future__ import annotations

import pytest
from harness import chapter_params, wrong_answers

from tools import course

MIN_EXERCISES = 5


@pytest.mark.parametrize("path", chapter_params())
def test_exercises_are_complete(path):
    """Each exercise has an answer stub, a solution, and a check, in that order."""
    nb = course.read_notebook(path)
    exercises = course.exercises(nb)  # raises on a missing or misplaced cell
    assert len(exercises) >= MIN_EXERCISES, (
        f"{len(exercises)} exercises, at least {MIN_EXERCISES} wanted"
    )
    for exercise_id, parts in exercises.items():
        assert exercise_id.startswith(f"{int(path.stem[:2])}."), (
            f"exercise {exercise_id} misnumbered"
        )
        solution = nb.cells[parts["solution"]].source
        stub = nb.cells[parts["answer"]].source
        assert solution.strip() != stub.strip(), (
            f"exercise {exercise_id}: stub equals solution"
        )


@pytest.mark.slow
@pytest.mark.parametrize("path", chapter_params())
def test_checks_reject_stubs_and_wrong_answers_and_pass_solutions(path, executions):
    """Each check ran after the stub, the solution and each stored wrong answer."""
    run = executions(path)
    assert run.record is not None, (
        f"the chapter did not run to its end.\n{run.failure()}"
    )
    checks = run.record["checks"]
    nb = course.read_notebook(path)
    assert set(checks) == set(course.exercises(nb)), "some exercises were not probed"
    problems = []
    for exercise_id, outcomes in sorted(checks.items()):
        status, message = outcomes["stub"]
        if status != "fail" or not message.split(":", 1)[1].strip():
            problems.append(
                f"exercise {exercise_id}: on the blank stub the check should fail "
                f"with an "
                f"AssertionError or NotImplementedError that says why; "
                f"it gave {status} "
                f"{message}".strip()
            )
        status, message = outcomes["solution"]
        if status != "pass":
            problems.append(
                f"exercise {exercise_id}: the check gave {status} on the "
                f"solution: {message}"
            )
        for number, wrong in enumerate(wrong_answers(nb, exercise_id), start=1):
            status, message = outcomes[f"wrong {number}"]
            misconception = wrong["misconception"]
            if status != "fail" or not message.startswith("AssertionError"):
                problems.append(
                    f"exercise {exercise_id}: the check lets through wrong answer "
                    f"{number} "
                    f"({misconception}): it gave {status} {message}".strip()
                )
            elif wrong["expect"].lower() not in message.lower():
                problems.append(
                    f"exercise {exercise_id}: the check rejects wrong answer {number} "
                    f"({misconception}) but its message does not name it (no "
                    f"{wrong['expect']!r} in {message!r})"
                )
    assert not problems, "\n".join(problems)
