"""Regenerate the book's generated tables (chapter map, syllabus, tested versions) from their sources.

Usage: python tools/sync_pages.py [--check]

The chapter map and the syllabus come from each notebook's metadata.course; the versions come
from requirements.txt. Each table sits in a page between two MyST comment lines:

    % BEGIN GENERATED chapter-map (tools/sync_pages.py)
    ...
    % END GENERATED chapter-map

With --check nothing is written; the exit status says whether every page is up to date.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tools import course  # noqa: E402

BOOK = course.REPO_ROOT / "book"
GPU_WORDS = {"no": "no", "helps": "helpful", "yes": "yes"}


def chapters() -> list[dict]:
    """Every planned chapter with its metadata, or only its planned title when not landed yet.

    A chapter has landed when its notebook exists and _toc.yml lists it.
    """
    listed = {f.split("/", 1)[1] for f in course.toc_files() if f.startswith("notebooks/")}
    written = {p.stem: course.chapter_meta(course.read_notebook(p)) for p in course.chapter_paths() if p.stem in listed}
    rows = []
    for stem, title in course.PLANNED_CHAPTERS:
        meta = written.pop(stem, None)
        rows.append({"stem": stem, "title": title, "meta": meta})
    rows += [{"stem": stem, "title": meta["title"], "meta": meta} for stem, meta in written.items()]
    return rows


def chapter_link(row: dict) -> str:
    return f"[{int(row['stem'][:2])}. {row['title']}](../notebooks/{row['stem']}.ipynb)"


def render_chapter_map() -> str:
    lines = ["| Chapter | What you will learn | Prerequisites | Time | GPU helpful? |",
             "|---|---|---|---|---|"]
    for row in chapters():
        meta = row["meta"]
        if meta is None:
            lines.append(f"| {int(row['stem'][:2])}. {row['title']} | *not written yet* | | | |")
        else:
            lines.append(f"| {chapter_link(row)} | {meta['summary']} | {meta['prerequisites']} "
                         f"| {meta['minutes']} min | {GPU_WORDS[meta['gpu']]} |")
    return "\n".join(lines)


def render_syllabus() -> str:
    parts = []
    for row in chapters():
        meta = row["meta"]
        heading = f"### {int(row['stem'][:2])}. {row['title']}"
        if meta is None:
            parts.append(f"{heading}\n\n*Not written yet.*")
            continue
        nb = course.read_notebook(course.NOTEBOOK_DIR / f"{row['stem']}.ipynb")
        exercises = [_exercise_title(nb, parts_["answer"]) for parts_ in course.exercises(nb).values()]
        lines = [heading, "", f"{chapter_link(row)}: {meta['summary']}", "",
                 f"- **Time:** about {meta['minutes']} minutes; **GPU:** {GPU_WORDS[meta['gpu']]}",
                 f"- **Prerequisites:** {meta['prerequisites']}",
                 "- **Objectives:** " + "; ".join(meta["objectives"]),
                 f"- **Exercises ({len(exercises)}):** " + "; ".join(exercises)]
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def _exercise_title(nb, answer_index: int) -> str:
    """The title of an exercise, from the `### Exercise N.k: title` heading above its answer cell."""
    for cell in reversed(nb.cells[:answer_index]):
        match = re.search(r"^### (Exercise .+)$", cell.source, flags=re.MULTILINE)
        if cell.cell_type == "markdown" and match:
            return match.group(1)
    raise ValueError(f"no '### Exercise' heading above cell {answer_index}")


def render_versions() -> str:
    lines = ["| Package | Version |", "|---|---|"]
    for line in (course.REPO_ROOT / "requirements.txt").read_text().splitlines():
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==(\S+)", line.split("#", 1)[0].strip())
        if match:
            lines.append(f"| {match.group(1)} | {match.group(2)} |")
    return "\n".join(lines)


# page -> {region name: renderer}
GENERATED = {
    "intro.md": {"chapter-map": render_chapter_map},
    "setup.md": {"tested-versions": render_versions},
    "syllabus.md": {"syllabus": render_syllabus},
}


def replace_region(text: str, name: str, content: str) -> str:
    pattern = re.compile(
        rf"(% BEGIN GENERATED {re.escape(name)} \(tools/sync_pages\.py\)\n)(?:.*?\n)?(% END GENERATED {re.escape(name)}\n)",
        flags=re.DOTALL)
    if not pattern.search(text):
        raise ValueError(f"no generated region {name!r}")
    return pattern.sub(lambda m: m.group(1) + content + "\n" + m.group(2), text)


def synced_pages() -> dict[Path, str]:
    """Each page with generated regions, as it should read now."""
    pages = {}
    for page, regions in GENERATED.items():
        path = BOOK / page
        text = path.read_text(encoding="utf-8")
        for name, render in regions.items():
            text = replace_region(text, name, render())
        pages[path] = text
    return pages


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="write nothing; fail if a page is stale")
    args = parser.parse_args()
    stale = []
    for path, text in synced_pages().items():
        if path.read_text(encoding="utf-8") != text:
            stale.append(path.relative_to(course.REPO_ROOT).as_posix())
            if not args.check:
                path.write_text(text, encoding="utf-8")
    if args.check and stale:
        print("out of date (run python tools/sync_pages.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    print("updated: " + ", ".join(stale) if stale else "all generated pages are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
