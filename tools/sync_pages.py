"""Regenerate the book's generated files from their single sources.

Usage: python tools/sync_pages.py [--check]

Each generated file lives in book/generated/ and a hand-written page includes it with
MyST's `{include}` directive, as book/benchmarks.md includes book/benchmarks/cpu.md:

    chapter-map.md      the chapters' metadata.course        included by intro.md
    syllabus.md         the chapters' metadata.course        included by syllabus.md
    tested-versions.md  requirements*.txt                    included by setup.md
    errata.md           the notebooks' correction metadata   included by errata.md
                        and book/errata_without_code.yml
    sources.md          the same, counted per article         included by sources.md

The chapters are those _toc.yml lists under notebooks/, in its order. Links inside a
generated file are written relative to book/, the folder of the page that includes it:
MyST resolves them there.

With --check nothing is written; the exit status says whether every file is up to date.
"""

from __future__ import annotations

import argparse
import re
import sys
from functools import lru_cache
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tools import course  # noqa: E402

BOOK = course.REPO_ROOT / "book"
GENERATED_DIR = BOOK / "generated"
CODELESS_ERRATA = BOOK / "errata_without_code.yml"
GPU_WORDS = {"no": "no", "helps": "helpful", "yes": "yes"}

# The section of a chapter that demonstrates the sources' errors, a `###` heading each.
CORRECTIONS_SECTION = "What the source got wrong"
ARTICLES = ("000", "001", "002", "003", "004")
SEVERITIES = ("breaks the code", "wrong result", "false claim", "outdated", "minor")
CORRECTION_FIELDS = ("id", "articles", "section", "quote", "gloss", "severity")
# Optional fields: "shown" (true when executed code in the correction's section
# demonstrates the error; notebooks only) and "quotes" (article -> that article's own
# words, for each article after the first of an error several articles make).
OPTIONAL_CORRECTION_FIELDS = ("shown", "quotes")
# The sources page, where each article has the heading "## Article NNN".
SOURCES_PAGE = "sources.md"
CORRECTION_ID = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


# ---------------------------------------------------------------- chapters


def chapters() -> list[dict]:
    """The chapters _toc.yml lists, in its order, with their notebooks and metadata."""
    rows = []
    for entry in course.toc_files():
        if not entry.startswith("notebooks/"):
            continue
        path = course.NOTEBOOK_DIR / f"{entry.split('/', 1)[1]}.ipynb"
        nb = course.read_notebook(path)
        meta = course.chapter_meta(nb)
        rows.append(
            {
                "stem": path.stem,
                "number": meta["chapter"],
                "title": meta["title"],
                "meta": meta,
                "nb": nb,
            }
        )
    return rows


def chapter_link(row: dict) -> str:
    return f"[{row['number']}. {row['title']}](../notebooks/{row['stem']}.ipynb)"


def time_words(time: dict) -> str:
    """A chapter's computed time and its two parts, as the pages show it."""
    return (
        f"{time['total']} min ({time['reading']} reading and running, "
        f"{time['exercises']} exercises)"
    )


def render_chapter_map() -> str:
    lines = [
        "| Chapter | What you will learn | Prerequisites | Time | GPU helpful? |",
        "|---|---|---|---|---|",
    ]
    for row in chapters():
        meta = row["meta"]
        lines.append(
            f"| {chapter_link(row)} | {meta['summary']} | {meta['prerequisites']} "
            f"| {time_words(meta['time'])} | {GPU_WORDS[meta['gpu']]} |"
        )
    return "\n".join(lines)


def render_syllabus() -> str:
    parts = []
    for row in chapters():
        meta, nb = row["meta"], row["nb"]
        exercises = [
            _exercise_title(nb, cells["answer"])
            for cells in course.exercises(nb).values()
        ]
        lines = [
            f"### {row['number']}. {row['title']}",
            "",
            f"{chapter_link(row)}: {meta['summary']}",
            "",
            f"- **Time:** about {time_words(meta['time'])}; "
            f"**GPU:** {GPU_WORDS[meta['gpu']]}",
            f"- **Prerequisites:** {meta['prerequisites']}",
            "- **Objectives:** " + "; ".join(meta["objectives"]),
            f"- **Exercises ({len(exercises)}):** " + "; ".join(exercises),
        ]
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def _exercise_title(nb, answer_index: int) -> str:
    """An exercise's title: the `### Exercise N.k: title` heading above its answer."""
    for cell in reversed(nb.cells[:answer_index]):
        match = re.search(r"^### (Exercise .+)$", cell.source, flags=re.MULTILINE)
        if cell.cell_type == "markdown" and match:
            return match.group(1)
    raise ValueError(f"no '### Exercise' heading above cell {answer_index}")


def requirement_pins(name: str = "requirements.txt") -> list[tuple[str, str, str]]:
    """(package, version, file) for each line `package==version` of a requirements file,
    following `-r other.txt` lines; any other requirement line raises ValueError."""
    pins = []
    for line in (course.REPO_ROOT / name).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-r "):
            pins += requirement_pins(line[3:].strip())
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==(\S+)", line)
        if not match:
            raise ValueError(f"{name}: {line!r} is not pinned with ==")
        pins.append((match.group(1), match.group(2), name))
    return pins


COLAB_RUNTIME = "requirements-colab.txt"


def colab_snapshot() -> dict:
    """The date and Python version of the Colab package list that requirements-colab.txt
    copies, read from its header comment ("snapshot of YYYY-MM-DD, on Python X.Y")."""
    text = (course.REPO_ROOT / COLAB_RUNTIME).read_text()
    match = re.search(r"snapshot of (\d{4}-\d{2}-\d{2}), on Python (\d+\.\d+)", text)
    if not match:
        raise ValueError(
            f"{COLAB_RUNTIME}: its header must say "
            "'snapshot of YYYY-MM-DD, on Python X.Y'"
        )
    return {"date": match.group(1), "python": match.group(2)}


def render_versions() -> str:
    snapshot = colab_snapshot()
    pins = requirement_pins()
    colab = [(p, v) for p, v, name in pins if name == COLAB_RUNTIME]
    tools = [(p, v) for p, v, name in pins if name != COLAB_RUNTIME]
    lines = [
        "**The chapters run on Google Colab's versions** (Colab's published package "
        f"list, snapshot of {snapshot['date']}, Python {snapshot['python']}); the "
        f"stored outputs that this site shows were made with them (`{COLAB_RUNTIME}`):",
        "",
        "| Package | Version |",
        "|---|---|",
    ]
    lines += [f"| {package} | {version} |" for package, version in colab]
    lines += [
        "",
        "**Building the site and running the tests** (`requirements.txt`):",
        "",
        "| Package | Version |",
        "|---|---|",
    ]
    lines += [f"| {package} | {version} |" for package, version in tools]
    return "\n".join(lines)


# ---------------------------------------------------------------- headings, anchors


@lru_cache(maxsize=1)
def _markdown_parser():
    """markdown-it configured as the book's MyST (the extensions of _config.yml)."""
    from markdown_it.renderer import RendererHTML
    from myst_parser.config.main import MdParserConfig
    from myst_parser.parsers.mdit import create_md_parser

    extensions = course.load_config()["parse"]["myst_enable_extensions"]
    return create_md_parser(
        MdParserConfig(enable_extensions=set(extensions)), RendererHTML
    )


def anchor_depth() -> int:
    """Headings down to this level get an anchor (myst_heading_anchors, _config.yml)."""
    return int(course.load_config()["sphinx"]["config"].get("myst_heading_anchors", 0))


def headings(sources: list[str]) -> list[dict]:
    """Every heading of a document given as its markdown sources (one per cell).

    Each: {"source": index into sources, "level", "text", "slug"}. The slug is the
    anchor MyST gives the heading (as myst_parser's compute_unique_slug: the heading's
    text and inline code, math left out, lower-cased, spaces to "-", other punctuation
    dropped, "-1", "-2" ... appended to repeats within the document); None below the
    depth of myst_heading_anchors.
    """
    from myst_parser.mdit_to_docutils.base import default_slugify

    depth, slugs, found = anchor_depth(), set(), []
    for index, source in enumerate(sources):
        tokens = _markdown_parser().parse(source)
        for opening, inline in zip(tokens, tokens[1:]):
            if opening.type != "heading_open":
                continue
            level = int(opening.tag[1])
            text = "".join(
                child.content
                for child in inline.children or []
                if child.type in ("text", "code_inline")
            )
            slug = None
            if level <= depth:
                slug = base = default_slugify(text)
                repeat = 1
                while slug in slugs:
                    slug, repeat = f"{base}-{repeat}", repeat + 1
                slugs.add(slug)
            found.append({"source": index, "level": level, "text": text, "slug": slug})
    return found


def notebook_headings(nb) -> list[dict]:
    """headings() of a notebook; "source" is the cell index (code cells count)."""
    return headings([c.source if c.cell_type == "markdown" else "" for c in nb.cells])


def page_anchors(page: Path) -> set[str]:
    """The heading anchors of a MyST page of the book."""
    return {
        h["slug"] for h in headings([page.read_text(encoding="utf-8")]) if h["slug"]
    }


# ---------------------------------------------------------------- corrections, errata


def correction_sections(nb) -> list[dict]:
    """The markdown cells of `## What the source got wrong` that hold a `###` heading.

    Each: {"cell": index, "headings": the cell's level-3 headings, "corrections": its
    metadata.course.corrections (None when absent)}. The section runs from its `##`
    heading to the next heading of level 1 or 2.
    """
    by_cell: dict[int, dict] = {}
    inside = False
    for heading in notebook_headings(nb):
        if heading["level"] <= 2:
            inside = (
                heading["level"] == 2 and heading["text"].strip() == CORRECTIONS_SECTION
            )
        elif inside and heading["level"] == 3:
            cell = nb.cells[heading["source"]]
            section = by_cell.setdefault(
                heading["source"],
                {
                    "cell": heading["source"],
                    "headings": [],
                    "corrections": cell.metadata.get("course", {}).get("corrections"),
                },
            )
            section["headings"].append(heading)
    return list(by_cell.values())


def correction_problems(entry) -> list[str]:
    """What is wrong with one correction entry (empty when it is valid)."""
    if not isinstance(entry, dict):
        return [f"a correction must be a mapping, not {entry!r}"]
    problems = [f"no {field!r}" for field in CORRECTION_FIELDS if not entry.get(field)]
    if problems:
        return problems
    if not CORRECTION_ID.fullmatch(str(entry["id"])):
        problems.append(f"id {entry['id']!r} is not lower-case words joined by '-'")
    articles = entry["articles"]
    if not isinstance(articles, list) or not set(articles) <= set(ARTICLES):
        problems.append(f"articles {articles!r} is not a list drawn from {ARTICLES}")
    if entry["severity"] not in SEVERITIES:
        problems.append(f"severity {entry['severity']!r} is not one of {SEVERITIES}")
    for field in ("section", "quote", "gloss"):
        if not isinstance(entry[field], str) or not entry[field].strip():
            problems.append(f"{field} must be a non-empty string")
    if "shown" in entry and not isinstance(entry["shown"], bool):
        problems.append(f"shown {entry['shown']!r} is not true or false")
    quotes = entry.get("quotes", {})
    if not isinstance(quotes, dict) or not all(
        isinstance(q, str) and q.strip() for q in quotes.values()
    ):
        problems.append("quotes must map articles to non-empty strings")
    elif isinstance(articles, list) and not set(quotes) <= set(articles[1:]):
        problems.append(
            f"quotes {sorted(quotes)} must name articles after the first of {articles}"
        )
    return problems


def sections_by_article(entry: dict) -> dict[str, str]:
    """The section of each article an entry names: "1, 2.2 (002 §2.2)" gives
    {"001": "1, 2.2", "002": "2.2"} for articles ["001", "002"]. An article after the
    first without its own "(NNN §...)" part shares the first article's section."""
    found = dict(re.findall(r"\((\d{3}) §([^)]*)\)", entry["section"]))
    first = re.sub(r"\s*\(\d{3} §[^)]*\)", "", entry["section"]).strip()
    return {
        article: first if index == 0 else found.get(article, first)
        for index, article in enumerate(entry["articles"])
    }


def quote_in(entry: dict, article: str) -> str:
    """The words of `article` that an entry quotes."""
    if article == entry["articles"][0]:
        return entry["quote"]
    return entry.get("quotes", {}).get(article, entry["quote"])


def notebook_corrections() -> list[dict]:
    """Every correction entry of the chapters, each with "home": its section's link."""
    entries = []
    for row in chapters():
        for section in correction_sections(row["nb"]):
            heading = section["headings"][0]
            for entry in section["corrections"] or []:
                if correction_problems(entry):
                    continue  # left off the page; test_second_edition names the problem
                entries.append(
                    {
                        **entry,
                        "home": {
                            "href": f"../notebooks/{row['stem']}.ipynb"
                            f"#{heading['slug']}",
                            "text": f"ch. {row['number']}",
                            "notebook": row["stem"],
                            "heading": heading["text"],
                        },
                    }
                )
    return entries


def codeless_data() -> dict:
    """book/errata_without_code.yml: article titles, corrections no code can show."""
    return yaml.safe_load(CODELESS_ERRATA.read_text(encoding="utf-8"))


def codeless_corrections() -> list[dict]:
    """The data file's corrections, each with "home": its section's link, or None."""
    entries = []
    for entry in codeless_data()["corrections"]:
        if correction_problems(entry):
            continue  # left off the page; test_pages names the problem
        home = entry.get("home")
        entries.append(
            {
                **entry,
                "home": home
                and {"href": home, "text": _page_title(home.split("#")[0])},
            }
        )
    return entries


def _page_title(page: str) -> str:
    first = (BOOK / page).read_text(encoding="utf-8").split("\n", 1)[0]
    return first.lstrip("#").split("—")[0].strip()


def all_corrections() -> list[dict]:
    return notebook_corrections() + codeless_corrections()


def _section_key(entry: dict) -> tuple:
    return (
        tuple(int(n) for n in re.findall(r"\d+", entry["section"])) or (999,),
        entry["section"],
        entry["id"],
    )


def _cell(text: str) -> str:
    """Text made safe for one cell of a Markdown table."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _quote(text: str) -> str:
    """A quote for a table cell: code as it is, words in 「」, and words holding
    Markdown's special characters as code, so that they print as written."""
    text = _cell(text)
    if text.startswith("`"):
        return text
    if "`" not in text and re.search(r"[\\$*_{}<>\[\]]", text):
        return f"`{text}`"
    return f"「{text}」"


def shown_by_code(entry: dict) -> bool:
    """Whether executed code in the entry's home section demonstrates the error: the
    entry's own "shown" field, for a home in a chapter."""
    return bool(
        entry["home"] and entry["home"]["href"].startswith("../") and entry.get("shown")
    )


def article_titles() -> dict[str, dict]:
    """Each article's title and English gloss (book/errata_without_code.yml)."""
    return codeless_data().get("articles", {})


def errata_counts(entries: list[dict]) -> dict[str, int]:
    in_chapters = [
        e for e in entries if e["home"] and e["home"]["href"].startswith("../")
    ]
    shown = sum(1 for e in in_chapters if shown_by_code(e))
    return {
        "all": len(entries),
        "shown": shown,
        "chapter text": len(in_chapters) - shown,
        "pages": sum(1 for e in entries if e["home"] and e not in in_chapters),
        "here": sum(1 for e in entries if not e["home"]),
    }


def render_errata() -> str:
    entries = all_corrections()
    titles = article_titles()
    counts = errata_counts(entries)
    lines = [
        f"{counts['all']} distinct errors: **{counts['shown']} shown by running code** "
        f"in the chapters, {counts['chapter text']} corrected in a chapter's text, "
        f"{counts['pages']} on a page about frameworks, {counts['here']} on this page. "
        "An error that several articles make is listed under each of them.",
        "",
    ]
    for article in ARTICLES:
        rows = sorted(
            (e for e in entries if article in e["articles"]),
            key=lambda e: _section_key(
                {**e, "section": sections_by_article(e)[article]}
            ),
        )
        if not rows:
            continue
        title = titles.get(article) or {}
        if title.get("title"):
            about = f"**{title['title']}**" + (
                f" (*{title['gloss']}*)" if title.get("gloss") else ""
            )
        else:
            about = "No title" + (f"; {title['gloss']}" if title.get("gloss") else "")
        about += (
            f". [About article {article}: author, date, opening line]"
            f"({SOURCES_PAGE}#article-{article})."
        )
        lines += [
            errata_heading(article),
            "",
            about,
            "",
            "| Section | Quote (original — *gloss*) | Severity | Shown by "
            "| Corrected in |",
            "|---|---|---|---|---|",
        ]
        for entry in rows:
            section = _cell(sections_by_article(entry)[article])
            section = f"§{section}" if section[0].isdigit() else section
            others = [a for a in entry["articles"] if a != article]
            if others:
                section += f" (also article {', '.join(others)})"
            if entry["home"]:
                home = f"[{entry['home']['text']}]({entry['home']['href']})"
            else:
                home = "here: " + _cell(entry["correction"])
            lines.append(
                f"| {section} | {_quote(quote_in(entry, article))} — "
                f"*{_cell(entry['gloss']).replace('*', chr(92) + '*')}* "
                f"| {entry['severity']} "
                f"| {'code' if shown_by_code(entry) else 'text'} | {home} |"
            )
        lines.append("")
    return "\n".join(lines).rstrip()


def errata_heading(article: str) -> str:
    """The heading of an article's group on the errata page (anchor article-NNN, as on
    the sources page): its title goes on the line below."""
    return f"## Article {article}"


def render_sources() -> str:
    """The number of errors the course corrects in each article, linked to its rows."""
    entries = all_corrections()
    titles = article_titles()
    lines = [
        "| Article | Title | Errors corrected | Shown by running code |",
        "|---|---|---|---|",
    ]
    for article in ARTICLES:
        rows = [e for e in entries if article in e["articles"]]
        title = (titles.get(article) or {}).get("title") or "(no title)"
        slug = headings([errata_heading(article)])[0]["slug"]
        lines.append(
            f"| [{article}](#article-{article}) | {_cell(title)} "
            f"| [{len(rows)} errors](errata.md#{slug}) "
            f"| {sum(1 for e in rows if shown_by_code(e))} |"
        )
    counts = errata_counts(entries)
    lines += [
        "",
        f"In all {counts['all']} distinct errors, {counts['shown']} of them shown by "
        "running code; an error that several articles make counts once for each of "
        "them above and once in all.",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------- the generated files

# generated file (in book/generated/) -> (renderer, its sources, the page including it)
GENERATED = {
    "chapter-map.md": (
        render_chapter_map,
        "each chapter's metadata.course",
        "intro.md",
    ),
    "syllabus.md": (render_syllabus, "each chapter's metadata.course", "syllabus.md"),
    "tested-versions.md": (
        render_versions,
        "requirements.txt and the files it names",
        "setup.md",
    ),
    "errata.md": (
        render_errata,
        "the notebooks' metadata.course.corrections and book/errata_without_code.yml",
        "errata.md",
    ),
    "sources.md": (
        render_sources,
        "the notebooks' metadata.course.corrections and book/errata_without_code.yml",
        "sources.md",
    ),
}


def generated_files() -> dict[Path, str]:
    """Each generated file, as it should read now."""
    files = {}
    for name, (render, sources, page) in GENERATED.items():
        header = (
            f"% Generated by tools/sync_pages.py from {sources}: do not edit.\n"
            f"% Included by book/{page}; links are relative to book/.\n"
        )
        files[GENERATED_DIR / name] = header + render() + "\n"
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; fail if a generated file is stale",
    )
    args = parser.parse_args()
    stale = []
    for path, text in generated_files().items():
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(path.relative_to(course.REPO_ROOT).as_posix())
            if not args.check:
                path.parent.mkdir(exist_ok=True)
                path.write_text(text, encoding="utf-8")
    if args.check and stale:
        print(
            "out of date (run python tools/sync_pages.py): " + ", ".join(stale),
            file=sys.stderr,
        )
        return 1
    print(
        "updated: " + ", ".join(stale)
        if stale
        else "all generated files are up to date"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
