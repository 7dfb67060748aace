"""Fixtures shared by the tests: offline data, chapters executed once, the website.

Plain helpers the tests share live in tests/harness.py.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from harness import instrument
from tools import course, execution

# With `-n 2` (pytest-xdist; not the default, see pytest.ini) the tests run on two
# processes. Tests that share a costly set-up must run on the same process, or the
# set-up is done once per process.
# xdist's own `--dist loadgroup` cannot group them under pytest 9.2: it renames node
# ids, which pytest 9.2 no longer reads (pytest-dev/pytest-xdist#1386). So the grouping
# is done here, from the node id alone, since xdist's controller sees nothing else; a
# check at collection keeps it true to the fixtures the tests use.
SITE_MODULES = (
    "tests/test_site.py",
    "tests/test_browser.py",
    "tests/test_corrections.py",
)
CHAPTER_MODULES = (
    "tests/test_nbval.py",
    "tests/test_execution.py",
    "tests/test_exercises.py",
)
# Sent out first, the slowest first (measured in a full run), so no process is left with
# a long group at the end while the other waits.
SLOWEST_FIRST = (
    "tests/test_instructor_kit.py",
    "chapter 09_fine_tuning",
    "chapter 08_cnn_mnist",
    "site",
    "chapter 06_regression",
    "tests/test_pdf.py",
    "tests/test_nbgrader.py",
    "chapter 05_optimizers",
    "tests/test_fine_tuning_recipe.py",
    "chapter 04_losses",
)
CHAPTER_IN_ID = re.compile(r"\[(\d\d_\w+)")


def shared_setup(nodeid: str) -> str:
    """The unit of tests that must run on one process: the website's tests, one
    chapter's execution (nbval, claims, exercises), else the test file (its
    module-scoped fixtures)."""
    module, _, name = nodeid.partition("::")
    if module in SITE_MODULES:
        return "site"
    chapter = CHAPTER_IN_ID.search(name)
    if module in CHAPTER_MODULES and chapter:
        return f"chapter {chapter[1]}"
    return module


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    class SharedSetupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return shared_setup(nodeid)

    return SharedSetupScheduling(config, log)


MISPLACED = pytest.StashKey[str]()


def pytest_collection_modifyitems(config, items):
    """Check that tests sharing a session fixture share a unit, then put the slowest
    units first (xdist sends units out in the order of the collection)."""
    for item in items:
        unit = shared_setup(item.nodeid)
        expected = None
        if "built_site" in item.fixturenames:
            expected = "site"
        elif "executions" in item.fixturenames:
            expected = f"chapter {item.callspec.params['path'].stem}"
        if expected and unit != expected:
            item.stash[MISPLACED] = (
                f"this test needs the set-up {expected!r} but runs in the unit "
                f"{unit!r}, where it would be done again: update SITE_MODULES or "
                "CHAPTER_MODULES in tests/conftest.py"
            )
    rank = {unit: position for position, unit in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(shared_setup(item.nodeid), len(rank)))


def pytest_runtest_setup(item):
    if MISPLACED in item.stash:
        pytest.fail(item.stash[MISPLACED], pytrace=False)


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
