"""What the tests share: the chapters as pytest parameters; the instrumented chapter."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from tools import course, execution

CHAPTERS = course.chapter_paths()


def chapter_params(**marks):
    """pytest.param per chapter notebook, named by its stem (01_tensors ...)."""
    return [pytest.param(path, id=path.stem, **marks) for path in CHAPTERS]


def wrong_answers(nb, exercise_id: str) -> list[dict]:
    """The wrong answers stored in an exercise's check cell (see CONTRIBUTING.md)."""
    check = nb.cells[course.exercises(nb)[exercise_id]["check"]]
    return list(check.metadata.get("course", {}).get("wrong_answers", []))


def instrument(nb, record: Path):
    """A copy of the chapter that records, as it runs, what the tests need to know.

    - Right after each answer cell (the blank stub a student starts from) the exercise's
      check runs on the stub: it must fail.
    - Right after the check cell (which follows the solution) the check runs again on
      the solution (it must pass), then after each wrong answer stored in the check
      cell's metadata (each must be rejected); then the solution runs again, so later
      cells see it.
    - At the end, the `results` dict and every check's outcome are written to `record`
      (JSON).

    The chapter's own cells are unchanged, so nbval still compares their stored outputs.
    """
    probe_after: dict[int, list[str]] = {}
    for exercise_id, parts in course.exercises(nb).items():
        check = nb.cells[parts["check"]].source
        solution = nb.cells[parts["solution"]].source
        probe_after[parts["answer"]] = [
            execution.check_cell_source(exercise_id, check, "stub")
        ]
        probes = [execution.check_cell_source(exercise_id, check, "solution")]
        for number, wrong in enumerate(wrong_answers(nb, exercise_id), start=1):
            probes.append(
                execution.check_cell_source(
                    exercise_id, check, f"wrong {number}", answer_source=wrong["source"]
                )
            )
        probes.append(
            f"exec(compile(get_ipython().transform_cell({solution!r}), "
            f"'<solution of exercise {exercise_id}>', 'exec'), globals())"
        )
        probe_after[parts["check"]] = probes
    probed = course.copy_notebook(nb)
    cells = ["__course_checks = {}"]
    for index, cell in enumerate(nb.cells):
        cells.append(probed.cells[index])
        cells += probe_after.get(index, [])
    cells.append(
        f"import json as __json\nwith open({str(record)!r}, 'w') as __file:\n"
        "    __json.dump({'results': results, 'checks': __course_checks}, __file)"
    )
    probed.cells = [
        nbformat.v4.new_code_cell(c) if isinstance(c, str) else c for c in cells
    ]
    return probed
