"""The book's generated tables come from their single sources, and are committed up to date."""
from __future__ import annotations

import json

import nbformat

from tools import course, sync_pages


def test_generated_pages_are_up_to_date():
    for path, text in sync_pages.synced_pages().items():
        assert path.read_text(encoding="utf-8") == text, (
            f"{path.name} is out of date with the notebooks' metadata: run `make pages`")


def test_chapter_map_follows_the_metadata(tmp_path, monkeypatch):
    """Edit a copy of a chapter's metadata: the map changes with it."""
    original = course.chapter_paths()[0]
    nb = course.read_notebook(original)
    nb.metadata["course"]["summary"] = "A summary that exists only in this test."
    nb.metadata["course"]["minutes"] = 123
    copy_dir = tmp_path / "notebooks"
    copy_dir.mkdir()
    nbformat.write(nb, str(copy_dir / original.name))
    monkeypatch.setattr(course, "NOTEBOOK_DIR", copy_dir)
    table = sync_pages.render_chapter_map()
    assert "A summary that exists only in this test. |" in table and "| 123 min |" in table


def test_chapters_not_written_yet_are_marked_not_linked(monkeypatch, tmp_path):
    monkeypatch.setattr(course, "NOTEBOOK_DIR", tmp_path)  # no chapter written
    table = sync_pages.render_chapter_map()
    assert "notebooks/" not in table
    assert table.count("*not written yet*") == len(course.PLANNED_CHAPTERS)


def test_versions_come_from_requirements():
    table = sync_pages.render_versions()
    pins = [line.split("#", 1)[0].strip() for line in (course.REPO_ROOT / "requirements.txt").read_text().splitlines()]
    pins = [pin for pin in pins if pin]
    assert pins and all("==" in pin for pin in pins), "every requirement must be pinned with =="
    for pin in pins:
        name, version = pin.split("==")
        assert f"| {name} | {version} |" in table


def test_benchmark_tables_match_their_files():
    from tools import benchmark

    for path in sorted((course.REPO_ROOT / "book" / "benchmarks").glob("*.json")):
        report = json.loads(path.read_text())
        assert path.with_suffix(".md").read_text() == benchmark.render_table(report), (
            f"{path.with_suffix('.md').name} was edited by hand: run `make benchmark`")
