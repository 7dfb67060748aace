"""ruff passes on the tools, the tests and every chapter (configured in pyproject.toml).

Lines of at most 88 characters, so that code reads on the page without scrolling;
pyflakes and import order; in the notebooks only F811 is allowed, for the solution cell
that redefines what its exercise's stub defined.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest

import example_chapter
from tools import course

RUFF = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which(
    "ruff"
)


def ruff(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    if RUFF is None:
        pytest.fail(
            "ruff is not installed: it is pinned in requirements.txt (make installs it)"
        )
    return subprocess.run(
        [RUFF, "check", "--no-cache", "--output-format", "concise", *args],
        cwd=course.REPO_ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )


def lint_targets() -> list:
    return [
        pytest.param(folder, id=folder) for folder in ("tools", "tests", "book/_ext")
    ] + [
        pytest.param(f"notebooks/{path.name}", id=path.stem)
        for path in course.chapter_paths()
    ]


@pytest.mark.parametrize("target", lint_targets())
def test_ruff_passes(target):
    result = ruff(target)
    assert result.returncode == 0, (
        f"ruff check {target}:\n{result.stdout}{result.stderr}"
    )


def test_the_notebooks_are_exempt_from_redefinitions_only():
    config = tomllib.loads((course.REPO_ROOT / "pyproject.toml").read_text())["tool"][
        "ruff"
    ]
    assert config["line-length"] == 88
    assert "*.ipynb" in config["extend-include"]
    assert config["lint"]["per-file-ignores"] == {"notebooks/*.ipynb": ["F811"]}
    assert not config["lint"].get("ignore"), "no rule is ignored everywhere"


def test_ruff_sees_a_long_line_but_not_an_exercise_redefinition():
    nb = example_chapter.compliant_chapter()
    as_json = nbformat.writes(nb)
    assert (
        ruff(
            "--stdin-filename", "notebooks/99_example.ipynb", "-", stdin=as_json
        ).returncode
        == 0
    )
    nb.cells[4].source += "\nprint(" + " + ".join(["x"] * 40) + ")"
    result = ruff(
        "--stdin-filename", "notebooks/99_example.ipynb", "-", stdin=nbformat.writes(nb)
    )
    assert result.returncode == 1 and "E501" in result.stdout, result.stdout
