"""Each exercise's check rejects the blank stub and each stored wrong answer, passes the
solution and each stored right answer, and, run as "Run all" runs it over a wrong
answer, never says "correct".

All of it is observed in the chapter's one execution (see `executions` in conftest.py).
"""

from __future__ import annotations

import nbformat
import pytest

from harness import chapter_params, instrument, right_answers, wrong_answers
from tools import course, execution

MIN_EXERCISES = 5


@pytest.mark.parametrize("path", chapter_params())
def test_exercises_are_complete(path):
    """Each exercise has an answer stub, a check and a solution, in that order."""
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
def test_checks_reject_stubs_and_wrong_answers_and_pass_right_ones(path, executions):
    """Each check ran after the stub, the solution, each stored wrong and right answer,
    and as the chapter's own cell over the first wrong answer (as "Run all" runs it)."""
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
        printed = outcomes.get("run all", ["printed", ""])[1]
        if wrong_answers(nb, exercise_id) and not printed.startswith(
            f"Exercise {exercise_id}: not"
        ):
            problems.append(
                f"exercise {exercise_id}: run in order over wrong answer 1 (as Run all "
                "or Shift+Enter runs it), the check cell printed "
                f"{printed.strip()!r}, not 'Exercise {exercise_id}: not ...'"
            )
        changed = outcomes.get("names", ["changed", "(not recorded)"])[1]
        if changed:
            problems.append(
                f"exercise {exercise_id}: the check cell changed the learner's names "
                f"{changed} (a check must leave them as they were)"
            )
        for number, right in enumerate(right_answers(nb, exercise_id), start=1):
            status, message = outcomes.get(f"right {number}", ("missing", ""))
            if status != "pass":
                problems.append(
                    f"exercise {exercise_id}: the check rejects right answer {number} "
                    f"({right['description']}): it gave {status} {message}".strip()
                )
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
    """One exercise whose check is too lenient (it tests `double` on 3 only), too
    strict (it wants an int) and leaves a name in the learner's namespace."""
    cell = nbformat.v4.new_code_cell

    def exercise(source, tag, **course_fields):
        return cell(
            source,
            metadata={"tags": [tag], "course": {"exercise": "0.1", **course_fields}},
        )

    check = course.render_check(
        "0.1",
        "result = double(3)\n"
        'globals()["last_result"] = result  # a check that leaves a name behind\n'
        'assert result == 6 and type(result) is int, "double(3) should be 6"',
    )
    return nbformat.v4.new_notebook(
        cells=[
            exercise(
                'def double(x):\n    raise NotImplementedError("write double")',
                course.TAG_ANSWER,
            ),
            exercise(
                check,
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
                right_answers=[
                    {
                        "description": "a sum",
                        "source": "def double(x):\n    return x + x",
                    },
                    {
                        "description": "float arithmetic",
                        "source": "def double(x):\n    return 2.0 * x",
                    },
                ],
            ),
            exercise("def double(x):\n    return 2 * x", course.TAG_SOLUTION),
            cell("results = {}"),
        ]
    )


@pytest.mark.slow
def test_the_probes_catch_lenient_and_strict_checks_and_a_vague_message(
    course_data_dir, tmp_path
):
    """The harness itself: a check that Run all lets say "correct" over a wrong answer,
    a check that changes the learner's names, a right answer the check rejects, a wrong
    answer it lets through, and a rejection whose message does not name the
    misconception are each reported by name."""
    nb = tiny_chapter()
    run = execution.execute_under_nbval(
        instrument(nb, tmp_path / "record.json"),
        course_data_dir,
        tmp_path / "record.json",
    )
    assert run.record is not None, run.failure()
    problems = check_problems(nb, run.record["checks"])
    assert len(problems) == 5, problems
    assert "the check cell printed 'Exercise 0.1: correct'" in problems[0]
    assert "changed the learner's names last_result" in problems[1]
    assert "rejects right answer 2 (float arithmetic)" in problems[2]
    assert "lets through wrong answer 1 (adds 3 instead of doubling)" in problems[3]
    assert "wrong answer 3 (triples) but its message does not name it" in problems[4]
