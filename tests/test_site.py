"""The website builds with zero warnings, and each chapter page links to its notebook in Colab."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import chapter_params
from tools import course


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("site")
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    run = subprocess.run(
        [str(jupyter_book), "build", str(course.REPO_ROOT), "--path-output", str(output),
         "-W", "-n", "--keep-going"],
        capture_output=True, text=True, timeout=900,
    )
    assert run.returncode == 0, f"the build failed or warned:\n{run.stdout[-5000:]}\n{run.stderr[-5000:]}"
    return output / "_build" / "html"


@pytest.mark.slow
def test_site_has_landing_and_setup_pages(built_site):
    assert (built_site / "index.html").is_file()
    for page in ("book/intro.html", "book/setup.html"):
        assert (built_site / page).is_file(), page


@pytest.mark.slow
@pytest.mark.parametrize("path", chapter_params())
def test_chapter_page_links_to_colab_and_download(path, built_site):
    page = (built_site / "notebooks" / f"{path.stem}.html").read_text(encoding="utf-8")
    assert page.count(course.colab_url(path)) >= 2, "the page needs the launch button and the badge"
    assert f"_sources/notebooks/{path.name}" in page, "no download link for the notebook"
    assert "fa-github" in page or "repository" in page.lower(), "no repository button"
    n_exercises = len(course.exercises(course.read_notebook(path)))
    assert page.count("tag_hide-input") >= n_exercises, "solutions are not folded"
