"""nbval re-executes each chapter and compares the stored outputs of its marked cells.

Only cells tagged `nbval-check-output` are compared (`--nbval-lax`): their outputs (shapes,
integers, rounded values) are the same on every machine. Images are not compared.
"""
from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from conftest import chapter_params


@pytest.mark.slow
@pytest.mark.parametrize("path", chapter_params())
def test_stored_outputs_reproduce(path, course_data_dir, tmp_path):
    copy = tmp_path / path.name  # nbval runs the kernel beside the notebook: keep the repository clean
    shutil.copy(path, copy)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env", "-p", "no:cacheprovider",
         "-q", "--color=no", str(copy)],
        cwd=tmp_path, capture_output=True, text=True, timeout=1800,
    )
    assert run.returncode == 0, f"nbval found differences or errors:\n{run.stdout[-6000:]}\n{run.stderr[-2000:]}"
    assert " passed" in run.stdout.splitlines()[-1], run.stdout[-2000:]
