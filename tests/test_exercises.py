"""Each exercise's check rejects the blank stub and each stored wrong answer, and passes
the solution.

All of it is observed in the chapter's one execution (see `executions` in conftest.py).
"""

from __future__ import annotations

import nbformat
import pytest

from harness import chapter_params, instrument, wrong_answers
from tools import course, execution

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
    problems = check_problems(course.read_notebook(path), run.record["checks"])
    assert not problems, "\n".join(problems)


def check_problems(nb, checks: dict) -> list[str]:
    """What the recorded check outcomes show wrong with the chapter's exercises."""
    if set(checks) != set(course.exercises(nb)):
        return [
            f"exercises probed: {sorted(checks)}, "
            f"expected {sorted(course.exercises(nb))}"
        ]
    problems = []
    for exercise_id, outcomes in sorted(checks.items()):
        status, message = outcomes["stub"]
        if status != "fail" or not message.split(":", 1)[1].strip():
            problems.append(
                f"exercise {exercise_id}: on the blank stub the check should fail with "
                "an AssertionError or NotImplementedError that says why; it gave "
                f"{status} {message}".strip()
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
                    f"{number} ({misconception}): it gave {status} {message}".strip()
                )
            elif wrong["expect"].lower() not in message.lower():
                problems.append(
                    f"exercise {exercise_id}: the check rejects wrong answer {number} "
                    f"({misconception}) but its message does not name it (no "
                    f"{wrong['expect']!r} in {message!r})"
                )
    return problems


def tiny_chapter():
    """One exercise whose check is too lenient: it tests `double` on 3 only."""
    cell = nbformat.v4.new_code_cell

    def exercise(source, tag, **course_fields):
        return cell(
            source,
            metadata={"tags": [tag], "course": {"exercise": "0.1", **course_fields}},
        )

    return nbformat.v4.new_notebook(
        cells=[
            exercise(
                'def double(x):\n    raise NotImplementedError("write double")',
                course.TAG_ANSWER,
            ),
            exercise("def double(x):\n    return 2 * x", course.TAG_SOLUTION),
            exercise(
                'assert double(3) == 6, "double(3) should be 6"',
                course.TAG_CHECK,
                kind="transfer",
                wrong_answers=[
                    {
                        "misconception": "adds 3 instead of doubling",
                        "expect": "6",
                        "source": "def double(x):\n    return x + 3",
                    },
                    {
                        "misconception": "squares",
                        "expect": "should be 6",
                        "source": "def double(x):\n    return x * x",
                    },
                    {
                        "misconception": "triples",
                        "expect": "doubled",
                        "source": "def double(x):\n    return 3 * x",
                    },
                ],
            ),
            cell("results = {}"),
        ]
    )


@pytest.mark.slow
def test_the_probes_catch_a_lenient_check_and_a_vague_message(
    course_data_dir, tmp_path
):
    """The harness itself: a wrong answer the check lets through is reported by name,
    and so is a rejection whose message does not name the misconception."""
    nb = tiny_chapter()
    run = execution.execute_under_nbval(
        instrument(nb, tmp_path / "record.json"),
        course_data_dir,
        tmp_path / "record.json",
    )
    assert run.record is not None, run.failure()
    problems = check_problems(nb, run.record["checks"])
    assert len(problems) == 2, problems
    assert "lets through wrong answer 1 (adds 3 instead of doubling)" in problems[0]
    assert "wrong answer 3 (triples) but its message does not name it" in problems[1]
