"""Fixtures shared by the tests: offline data, chapters executed once, the website.

Plain helpers the tests share live in tests/harness.py.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness import instrument
from tools import course, execution


@pytest.fixture
def no_network(monkeypatch):
    """Every download goes through a closed local port: refused at once, as offline.

    No test depends on the network, and none sends anything to it.
    """
    for variable in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(variable, "http://127.0.0.1:9")
    for variable in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture(scope="session")
def course_data_dir(tmp_path_factory) -> Path:
    """The datasets folder of every notebook the tests run (execution.prepare_data_dir).

    On development and CI machines MNIST is decompressed from ../shared/data/mnist into
    a temporary folder, so torchvision never touches the network; elsewhere torchvision
    downloads into the repository's data/ folder once.
    """
    default = (
        tmp_path_factory.mktemp("data")
        if course.SHARED_MNIST_DIR.is_dir()
        else course.DEFAULT_DATA_DIR
    )
    return execution.prepare_data_dir(default)


@pytest.fixture(scope="session")
def executions(course_data_dir, tmp_path_factory):
    """Each chapter executed once, top to bottom, under nbval (`--nbval-lax`).

    That one execution serves three concerns: nbval compares the stored outputs of the
    cells tagged `nbval-check-output`; the recorded `results` are checked against the
    chapter's claims; the recorded check outcomes prove each check fails on its stub and
    on each wrong answer, and passes on its solution.
    """
    cache: dict[str, execution.NbvalRun] = {}

    def get(path: Path) -> execution.NbvalRun:
        if path.stem not in cache:
            record = tmp_path_factory.mktemp(path.stem) / "record.json"
            nb = instrument(course.read_notebook(path), record)
            cache[path.stem] = execution.execute_under_nbval(
                nb, course_data_dir, record
            )
        return cache[path.stem]

    return get


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> Path:
    """The website, built as `make book` builds it (no warning allowed)."""
    output = tmp_path_factory.mktemp("site")
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    run = subprocess.run(
        [
            str(jupyter_book),
            "build",
            str(course.REPO_ROOT),
            "--path-output",
            str(output),
            "-W",
            "-n",
            "--keep-going",
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, (
        f"the build failed or warned:\n{run.stdout[-5000:]}\n{run.stderr[-5000:]}"
    )
    return output / "_build" / "html"
