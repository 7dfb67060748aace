"""nbval re-executes each chapter and compares the stored outputs of its marked cells.

Only cells tagged `nbval-check-output` are compared (`--nbval-lax`): their outputs
(shapes, integers, rounded values) are the same on every machine. Images are not
compared. The same execution also serves test_execution.py and test_exercises.py (see
`executions` in conftest).
"""

from __future__ import annotations

import pytest

from harness import chapter_params


@pytest.mark.slow
@pytest.mark.parametrize("path", chapter_params())
def test_stored_outputs_reproduce(path, executions):
    run = executions(path)
    assert run.returncode == 0, f"nbval found differences or errors.\n{run.failure()}"
    assert " passed" in run.report.strip().splitlines()[-1], run.failure()
