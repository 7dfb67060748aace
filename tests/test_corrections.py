"""The corrections are the articles' own words, shown where they say, found where they
are linked from (issue 34).

- every quote (notebooks' metadata.course.corrections, book/errata_without_code.yml, the
  sources page) is found verbatim in its article under the section it names, when the
  articles are there (../shared/seeds); skipped with a message otherwise;
- an error several articles make quotes each of them;
- each correction says whether executed code in its section shows it (`shown`), and a
  section marked shown has a code cell with output; at least 45 errors are shown;
- a link from a chapter to another names a section that exists, and a link from a
  correction section lands on the correction of an error of the article it names;
- a book page that is the home of an error quotes it in that section;
- the sources page introduces every article and the errata page links to it;
- the built site shows no unrendered placeholder, raw role or empty link.

The "one home" check by meaning (overlapping quotes of one article) is in test_pages.py.
"""

from __future__ import annotations

import copy
import difflib
import re
from pathlib import Path

import nbformat
import pytest

import example_chapter
from harness import PageParser
from tools import course, sync_pages

SEEDS_DIR = course.REPO_ROOT.parent / "shared" / "seeds"
CHAPTERS = [pytest.param(p, id=p.stem) for p in course.chapter_paths()]
MIN_SHOWN_BY_CODE = 45


# ---------------------------------------------------------------- the articles


def article_text(article: str) -> str | None:
    """The text of article NNN (../shared/seeds/NNN_*.txt), None when absent."""
    found = sorted(SEEDS_DIR.glob(f"{article}_*.txt")) if SEEDS_DIR.is_dir() else []
    return found[0].read_text(encoding="utf-8") if found else None


# A numbered heading: "### 2.1. 基本概念解释", "##2.4 实现步骤", "# 1.简介", or a
# plain line "1.1. 背景介绍" (article 004) that is short and is no sentence.
NUMBERED_HEADING = re.compile(r"^(#*)\s*(\d+(?:\.\d+)*)\.?\s*(\S.*)?$")


def article_headings(text: str) -> list[tuple[int, tuple, str]]:
    """(line index, nesting key, number) of each numbered heading outside code blocks.

    The key orders headings by markdown level, then by the depth of the number; a
    plain line counts as deeper than any `#` heading. A heading repeated at once by one
    with the same number (001's "# 1.背景介绍" then "## 1. 背景介绍") is one heading.
    """
    lines, found, fence = text.splitlines(), [], False
    for index, raw in enumerate(lines):
        line = raw.strip()
        if line.startswith("```"):
            fence = not fence
            continue
        match = None if fence else NUMBERED_HEADING.match(line)
        if not match:
            continue
        hashes, number, rest = match.groups()
        if not hashes and (len(line) > 40 or (rest or "").endswith("。")):
            continue
        found.append((index, (len(hashes) or 10, number.count(".") + 1), number))
    kept = []
    for here, after in zip(found, found[1:] + [None]):
        if after and after[2] == here[2]:
            if not "".join(lines[here[0] + 1 : after[0]]).strip():
                continue
        kept.append(here)
    return kept


def enclosing_sections(text: str, line_index: int) -> list[str]:
    """The numbers of the headings that contain a line, outermost first."""
    stack: list[tuple[tuple, str]] = []
    for index, key, number in article_headings(text):
        if index > line_index:
            break
        while stack and stack[-1][0] >= key:
            stack.pop()
        stack.append((key, number))
    return [number for _, number in stack]


ELISION = re.compile(r"\s*(?:…+|\.\.\.)\s*")


def normalised(text: str) -> str:
    """Backticks dropped, each run of white space one space: nothing else changes."""
    return re.sub(r"\s+", " ", text.replace("`", "")).strip()


def fragments(quote: str) -> list[str]:
    """The parts of a quote between elisions (… or ...), each to be found verbatim."""
    return [part for part in map(normalised, ELISION.split(quote)) if part]


def find_quote(text: str, quote: str) -> list[list[int]]:
    """Each occurrence of the quote's fragments, in order: the line of each fragment."""
    flat, line_of = "", []
    for index, line in enumerate(text.splitlines()):
        piece = normalised(line)
        if not piece:
            continue
        if flat:
            flat += " "
            line_of.append(index)
        flat += piece
        line_of += [index] * len(piece)
    parts, found = fragments(quote), []
    start = flat.find(parts[0]) if parts else -1
    while start != -1:
        lines, end = [line_of[start]], start + len(parts[0])
        for part in parts[1:]:
            at = flat.find(part, end)
            if at == -1:
                break
            lines.append(line_of[at])
            end = at + len(part)
        else:
            found.append(lines)
        start = flat.find(parts[0], start + 1)
    return found


def section_numbers(section: str) -> list[str]:
    """The section numbers a section field cites, its parentheses left out: "1 (1)" and
    "8 (FAQ)" cite 1 and 8; "title, 1" cites 1; "whole article" cites none."""
    return re.findall(r"\d+(?:\.\d+)*", re.sub(r"\([^)]*\)", "", section))


def quote_problems(text: str, quote: str, section: str) -> list[str]:
    """Why a quote is not verbatim in an article's text, or not under its section."""
    found = find_quote(text, quote)
    if not found:
        return [f"quote not found verbatim: {quote!r}"]
    problems = []
    headings = article_headings(text)
    for number in section_numbers(section):
        same = [h for h in headings if h[2] == number]
        if not same:
            problems.append(f"§{number} is no heading of the article")
            continue
        where = {
            tuple(enclosing_sections(text, line))
            for occurrence in found
            for line in occurrence
        }
        if not any(number in stack for stack in where):
            problems.append(
                f"§{number}: the quote is under "
                + " and ".join("§" + "/".join(stack) for stack in sorted(where))
            )
        elif len(same) > 1:
            problems.append(
                f"§{number} names {len(same)} sections of the article: cite the "
                "enclosing one with a unique number and name the subsection in words"
            )
    return problems


def raw_corrections() -> list[tuple[str, dict]]:
    """Every valid correction entry with where it lives (a chapter or the data file)."""
    entries = []
    for row in sync_pages.chapters():
        for section in sync_pages.correction_sections(row["nb"]):
            for entry in section["corrections"] or []:
                if not sync_pages.correction_problems(entry):
                    entries.append((f"{row['stem']} cell {section['cell']}", entry))
    for entry in sync_pages.codeless_data()["corrections"]:
        if not sync_pages.correction_problems(entry):
            entries.append(("book/errata_without_code.yml", entry))
    return entries


def entry_problems(entry: dict, texts: dict[str, str]) -> list[str]:
    problems = []
    for article, section in sync_pages.sections_by_article(entry).items():
        quote = sync_pages.quote_in(entry, article)
        problems += [
            f"article {article}: {p}"
            for p in quote_problems(texts[article], quote, section)
        ]
    return problems


@pytest.fixture(scope="module")
def articles() -> dict[str, str]:
    texts = {a: article_text(a) for a in sync_pages.ARTICLES}
    missing = [a for a, t in texts.items() if t is None]
    if missing:
        pytest.skip(
            f"the articles are not in {SEEDS_DIR} (missing {', '.join(missing)}): "
            "quotes and sections not checked"
        )
    return texts


def test_quotes_are_verbatim_and_sections_right(articles):
    problems = []
    for where, entry in raw_corrections():
        problems += [
            f"{where}, {entry['id']}: {p}" for p in entry_problems(entry, articles)
        ]
    for article, about in sync_pages.article_titles().items():
        if about.get("title") and about["title"] not in articles[article]:
            problems.append(f"article {article}: title {about['title']!r} not found")
    for article, opening in sources_page_openings().items():
        if not find_quote(articles[article], opening):
            problems.append(
                f"book/sources.md, article {article}: opening {opening!r} not found"
            )
    assert not problems, (
        "quotes must be the articles' own words under the sections they name:\n"
        + "\n".join(problems)
    )


def test_the_quote_finder_reads_elisions_sections_and_white_space():
    text = (
        "### 1. 引言\n\nPyTorch由Facebook开发。\n\n"
        "##2.1. 概念\n\n###3.1. PyTorch\n\n其核心理念是“动态计算图”\n\n"
        "##2.2 比较\n\n###3.1. 风格\n\n```python\nx = torch.zeros(m,   n)  # 0\n```\n"
    )
    assert quote_problems(text, "PyTorch由Facebook开发", "1") == []
    assert quote_problems(text, "x = torch.zeros(m, n)", "2.2") == []  # spaces
    assert quote_problems(text, "`PyTorch`由Facebook … 动态计算图", "1, 2.1") == []
    assert quote_problems(text, '其核心理念是"动态计算图"', "2.1") == [
        "quote not found verbatim: '其核心理念是\"动态计算图\"'"
    ]
    assert quote_problems(text, "其核心理念是“动态计算图”", "2.2")[0].startswith(
        "§2.2: the quote is under §2.1/3.1"
    )
    assert "names 2 sections" in quote_problems(text, "其核心理念", "3.1")[0]
    assert quote_problems(text, "PyTorch由Facebook开发", "4") == [
        "§4 is no heading of the article"
    ]


# ---------------------------------------------------------------- shared errors


def test_shared_errors_quote_every_article():
    problems = []
    for where, entry in raw_corrections():
        for article in entry["articles"][1:]:
            if article not in entry.get("quotes", {}):
                problems.append(
                    f"{where}, {entry['id']}: no quotes[{article!r}] (article "
                    f"{article}'s own words), so its row under article {article} "
                    "quotes another article"
                )
            if f"({article} §" not in entry["section"]:
                problems.append(
                    f"{where}, {entry['id']}: section {entry['section']!r} names no "
                    f"section of article {article} (write '({article} §N)')"
                )
    assert not problems, "\n".join(problems)


def test_a_shared_error_is_listed_under_each_article(example_course):
    nb = course.read_notebook(example_course)
    entry = nb.cells[7].metadata["course"]["corrections"][0]
    entry.update(
        articles=["003", "004"],
        section="2.2.1 (004 §2.2)",
        quotes={"004": "包括数值型、文本型"},
    )
    nbformat.write(nb, str(example_course))
    page = sync_pages.render_errata()
    under_004 = page.split("## Article 004")[1]
    assert "| §2.2 (also article 003) | 「包括数值型、文本型」" in under_004
    assert "## Article 003" in page and "(also article 004)" in page


# ---------------------------------------------------------------- shown by code


def correction_cells(nb) -> list[dict]:
    """Each correction cell with the cells of its section: from its `###` heading to
    the next heading of level 1 to 3."""
    bounds = [h["source"] for h in sync_pages.notebook_headings(nb) if h["level"] <= 3]
    cells = []
    for section in sync_pages.correction_sections(nb):
        start = section["cell"]
        end = min([b for b in bounds if b > start], default=len(nb.cells))
        cells.append({**section, "body": list(range(start + 1, end))})
    return cells


def shown_problems(nb) -> tuple[list[str], list[str]]:
    """(entries without a true/false `shown`, sections marked shown without code)."""
    unmarked, unshown = [], []
    for section in correction_cells(nb):
        heading = f"cell {section['cell']} ('### {section['headings'][0]['text']}')"
        entries = section["corrections"] or []
        unmarked += [
            f"{heading}: {e.get('id', '?')}"
            for e in entries
            if not isinstance(e.get("shown"), bool)
        ]
        marked = [e.get("id", "?") for e in entries if e.get("shown") is True]
        runs = [
            i
            for i in section["body"]
            if nb.cells[i].cell_type == "code" and nb.cells[i].get("outputs")
        ]
        if marked and not runs:
            unshown.append(
                f"{heading}: {', '.join(marked)} marked shown, but no code cell with "
                "output in its section"
            )
    return unmarked, unshown


@pytest.mark.parametrize("path", CHAPTERS)
def test_every_correction_says_whether_code_shows_it(path):
    unmarked, _ = shown_problems(course.read_notebook(path))
    assert not unmarked, (
        'each correction entry needs "shown": true (executed code in its section '
        "demonstrates this error) or false (CONTRIBUTING.md, Corrections):\n"
        + "\n".join(unmarked)
    )


@pytest.mark.parametrize("path", CHAPTERS)
def test_a_correction_marked_shown_has_code_with_output(path):
    _, unshown = shown_problems(course.read_notebook(path))
    assert not unshown, "\n".join(unshown)


def test_at_least_45_errors_are_shown_by_code():
    entries = sync_pages.all_corrections()
    shown = [e["id"] for e in entries if sync_pages.shown_by_code(e)]
    assert len(shown) >= MIN_SHOWN_BY_CODE, (
        f"{len(shown)} of {len(entries)} errors shown by running code "
        f'("shown": true), at least {MIN_SHOWN_BY_CODE} wanted'
    )
    page = (sync_pages.GENERATED_DIR / "errata.md").read_text(encoding="utf-8")
    assert f"**{len(shown)} shown by running code**" in page


def test_shown_is_read_from_the_metadata(example_course):
    nb = course.read_notebook(example_course)
    entry = nb.cells[7].metadata["course"]["corrections"][0]
    assert shown_problems(nb)[0], "an entry without 'shown' must be reported"
    entry["shown"] = True
    assert shown_problems(nb)[1], "shown without output must be reported"
    nb.cells[8].outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="too many dimensions\n")
    ]
    assert shown_problems(nb) == ([], [])
    nbformat.write(nb, str(example_course))
    assert "| code | [ch. 1]" in sync_pages.render_errata()
    nb.cells[8].outputs = []
    entry["shown"] = False
    nbformat.write(nb, str(example_course))
    assert shown_problems(nb) == ([], [])
    assert "| text | [ch. 1]" in sync_pages.render_errata()


# ---------------------------------------------------------------- links to chapters

MARKDOWN_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
CHAPTER_FILE = re.compile(r"^(?:\.\./notebooks/)?(\d\d_\w+)\.ipynb(?:#(.*))?$")


def chapter_links(nb, stem: str):
    """(cell index, target stem, anchor, clause, inside the corrections section) of each
    markdown link to another chapter; the clause is the text since the previous link,
    `;` or sentence end, up to the link."""
    inside, found = False, []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            match = re.match(r"(#{1,2}) (.*)", line)
            if match:
                inside = match.group(2).strip() == sync_pages.CORRECTIONS_SECTION
        previous = 0
        for link in MARKDOWN_LINK.finditer(cell.source):
            target = CHAPTER_FILE.match(link.group(1))
            if target and target.group(1) != stem:
                before = cell.source[previous : link.start()]
                clause = re.split(r";|\.\s|\n\n", before)[-1] + link.group(0)
                found.append((index, target.group(1), target.group(2), clause, inside))
            previous = link.end()
    return found


def chapter_anchors() -> dict[str, dict]:
    """Each chapter's heading slugs, and the corrections under each correction slug."""
    anchors = {}
    for row in sync_pages.chapters():
        corrections, texts = {}, {}
        for section in sync_pages.correction_sections(row["nb"]):
            for heading in section["headings"]:
                corrections[heading["slug"]] = section["corrections"] or []
                texts[heading["slug"]] = heading["text"]
        anchors[row["stem"]] = {
            "slugs": {
                h["slug"] for h in sync_pages.notebook_headings(row["nb"]) if h["slug"]
            },
            "corrections": corrections,
            "headings": texts,
        }
    return anchors


def link_problems(nb, stem: str, anchors: dict) -> tuple[list[str], list[str]]:
    """(links to no specific section, correction links that miss their error)."""
    unanchored, misplaced = [], []
    for index, target, anchor, clause, inside in chapter_links(nb, stem):
        where = f"cell {index}: {clause.strip()[-110:]!r}"
        if target not in anchors:
            unanchored.append(f"{where}: no chapter {target}")
            continue
        if not anchor or anchor not in anchors[target]["slugs"]:
            problem = (
                f"{where}: "
                + (f"#{anchor} is no heading of" if anchor else "links to the whole of")
                + f" {target}"
            )
            unanchored.append(problem)
            if inside:
                misplaced.append(problem)
            continue
        if not inside:
            continue
        entries = anchors[target]["corrections"].get(anchor)
        named = set(re.findall(r"\b(00[0-4])\b", clause))
        if not entries:
            misplaced.append(f"{where}: #{anchor} is no correction of {target}")
            continue
        if not named:
            misplaced.append(f"{where}: the clause names no article (000 to 004)")
        elif not named & {a for e in entries for a in e["articles"]}:
            misplaced.append(
                f"{where}: {target}#{anchor} corrects no error of article "
                f"{' or '.join(sorted(named))}"
            )
        said = normalised(
            " ".join(
                [anchors[target]["headings"][anchor]]
                + [
                    " ".join([e["quote"], e["gloss"], *e.get("quotes", {}).values()])
                    for e in entries
                ]
            )
        ).lower()
        for code in re.findall(r"`([^`]+)`", clause):
            if normalised(code).lower() not in said:
                misplaced.append(
                    f"{where}: {target}#{anchor} names no `{code}` (its heading, "
                    "quotes and glosses)"
                )
    return unanchored, misplaced


@pytest.fixture(scope="module")
def anchors():
    return chapter_anchors()


@pytest.mark.parametrize("path", CHAPTERS)
def test_links_to_other_chapters_name_a_section(path, anchors):
    unanchored, _ = link_problems(course.read_notebook(path), path.stem, anchors)
    assert not unanchored, (
        "link to the section, NN_name.ipynb#anchor (CONTRIBUTING.md, Corrections):\n"
        + "\n".join(unanchored)
    )


@pytest.mark.parametrize("path", CHAPTERS)
def test_correction_links_land_on_their_error(path, anchors):
    _, misplaced = link_problems(course.read_notebook(path), path.stem, anchors)
    assert not misplaced, (
        "a link from 'What the source got wrong' lands on the correction of an error "
        "of the article its clause names:\n" + "\n".join(misplaced)
    )


def test_link_checks_catch_what_they_should():
    chapter = course.read_notebook(course.chapter_paths()[6])  # 07_data
    slug = sync_pages.correction_sections(chapter)[0]["headings"][0]["slug"]
    articles = sync_pages.correction_sections(chapter)[0]["corrections"][0]["articles"]
    anchors = {"07_data": chapter_anchors()["07_data"]}
    ch7 = f"[chapter 7](07_data.ipynb#{slug})"
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("See [chapter 7](07_data.ipynb)."),
            nbformat.v4.new_markdown_cell(
                f"## {sync_pages.CORRECTIONS_SECTION}\n\n"
                f"Article {articles[0]}'s error is in {ch7}; "
                "another in [chapter 7](07_data.ipynb#a-missing-section); "
                "a chapter heading [chapter 7](07_data.ipynb#setup); and article 002's "
                f"in {ch7}."
            ),
        ]
    )
    unanchored, misplaced = link_problems(nb, "08_cnn_mnist", anchors)
    assert [p.split(":")[0] for p in unanchored] == ["cell 0", "cell 1"]
    assert "#a-missing-section is no heading" in unanchored[1]
    assert len(misplaced) == 3 and "#a-missing-section is no heading" in misplaced[0]
    assert "#setup is no correction" in misplaced[1]
    assert "corrects no error of article 002" in misplaced[2]
    nb.cells[1].source = (
        f"## {sync_pages.CORRECTIONS_SECTION}\n\n"
        f"Article {articles[0]}'s error is in {ch7}, "
        f"article {articles[0]}'s `torch.no_such_function` in {ch7}."
    )
    _, misplaced = link_problems(nb, "08_cnn_mnist", anchors)
    assert len(misplaced) == 1 and "names no `torch.no_such_function`" in misplaced[0]


# ---------------------------------------------------------------- book pages as homes


def page_section(page: str, anchor: str) -> str | None:
    """The text of a book page's section: from the heading with that anchor to the next
    heading of the same or a higher level."""
    text = (sync_pages.BOOK / page).read_text(encoding="utf-8")
    found = sync_pages.headings([text])
    lines = text.splitlines()
    starts = [
        (i, level)
        for i, line in enumerate(lines)
        if (level := len(line) - len(line.lstrip("#")))
        and line[level : level + 1] == " "
    ]
    for (start, level), heading in zip(starts, found):
        if heading["slug"] == anchor:
            end = next((i for i, lv in starts if i > start and lv <= level), len(lines))
            return "\n".join(lines[start:end])
    return None


def compact(text: str) -> str:
    """Text without white space or backticks: a page wraps its lines anywhere, even
    inside a Chinese quote."""
    return re.sub(r"[\s`]+", "", text)


def quotes_enough(section: str, quote: str) -> bool:
    """Whether a page's section quotes an error: the longest run of the quote's words
    that the section holds (white space aside) is at least 60 % of the quote, and at
    least 6 characters (or the whole quote)."""
    words, text = compact(quote.replace("…", "")), compact(section)
    match = difflib.SequenceMatcher(None, words, text, autojunk=False)
    longest = match.find_longest_match(0, len(words), 0, len(text)).size
    return longest >= min(len(words), max(6, 0.6 * len(words)))


def test_book_page_homes_quote_their_error():
    problems = []
    for entry in sync_pages.codeless_data()["corrections"]:
        if not entry.get("home"):
            continue
        page, _, anchor = entry["home"].partition("#")
        section = page_section(page, anchor)
        if section is None:
            problems.append(f"{entry['id']}: no section #{anchor} in {page}")
        elif not quotes_enough(section, entry["quote"]):
            problems.append(
                f"{entry['id']}: {entry['home']} does not quote {entry['quote']!r}"
            )
    assert not problems, (
        "a page that corrects an error quotes it (the words of the errata row):\n"
        + "\n".join(problems)
    )


# ---------------------------------------------------------------- the sources page

SOURCES = sync_pages.BOOK / sync_pages.SOURCES_PAGE


def sources_page_openings() -> dict[str, str]:
    """Each article's opening line as the sources page quotes it: the first `> ` line
    after its `## Article NNN` heading."""
    if not SOURCES.is_file():
        return {}
    text = SOURCES.read_text(encoding="utf-8")
    openings = {}
    for block in re.split(r"^## ", text, flags=re.MULTILINE)[1:]:
        match = re.match(r"Article (\d{3})\b", block)
        quote = re.search(r"^> (.+)$", block, flags=re.MULTILINE)
        if match and quote:
            openings[match.group(1)] = quote.group(1).strip()
    return openings


def test_the_sources_page_introduces_every_article():
    assert SOURCES.is_file(), f"no {SOURCES.relative_to(course.REPO_ROOT)}"
    assert "book/sources" in course.toc_files(), "_toc.yml does not list book/sources"
    anchors = sync_pages.page_anchors(SOURCES)
    text = SOURCES.read_text(encoding="utf-8")
    problems = [
        f"no heading '## Article {a}' (anchor article-{a})"
        for a in sync_pages.ARTICLES
        if f"article-{a}" not in anchors
    ]
    problems += [
        f"article {a}: no opening line quoted ('> ...')"
        for a in sync_pages.ARTICLES
        if a not in sources_page_openings()
    ]
    for article, about in sync_pages.article_titles().items():
        for field in ("title", "gloss"):
            if about.get(field) and normalised(about[field]) not in normalised(text):
                problems.append(f"article {article}: its {field} is not on the page")
    for word in ("Author", "Date"):
        if text.count(f"**{word}:**") < len(sync_pages.ARTICLES):
            problems.append(f"each article needs '**{word}:**' (or 'not stated')")
    errata = sync_pages.render_errata()
    problems += [
        f"the errata page does not link to sources.md#article-{a}"
        for a in sync_pages.ARTICLES
        if f"(sources.md#article-{a})" not in errata
    ]
    assert not problems, "book/sources.md:\n" + "\n".join(problems)


# ---------------------------------------------------------------- the built site


PLACEHOLDER = re.compile(r"\{[A-Z][A-Z0-9_]*\}")  # {CH7}
RAW_ROLE = re.compile(r"\{[a-z][a-z0-9:_-]*\}`|\{(?:cite|doc|term|ref|numref)\}")


def unrendered(html: str) -> list[str]:
    parser = PageParser()
    parser.feed(html)
    text = "".join(parser.text)
    found = [f"placeholder {m.group(0)}" for m in PLACEHOLDER.finditer(text)]
    found += [f"raw role {m.group(0)}" for m in RAW_ROLE.finditer(text)]
    found += [
        f"empty link (href={link['href']!r}, text={link['text'].strip()!r})"
        for link in parser.links
        if link["in_article"]
        and (not (link["href"] or "").strip() or not link["text"].strip())
    ]
    return found


def test_unrendered_markup_is_recognised():
    html = (
        "<article><p>Taught in {CH7}. See {cite}`key`. A <a href=''>link</a>, "
        "an <a href='x.html'> </a>, a <a href='y.html'>real one</a>.</p>"
        "<pre>{CH7} in code is fine</pre><span class='math'>Y_{ij}</span></article>"
    )
    assert unrendered(html) == [
        "placeholder {CH7}",
        "raw role {cite}`",
        "empty link (href='', text='link')",
        "empty link (href='x.html', text='')",
    ]


@pytest.mark.slow
def test_no_unrendered_placeholder_in_the_site(built_site: Path):
    problems = []
    for page in sorted(built_site.rglob("*.html")):
        relative = page.relative_to(built_site).as_posix()
        if relative.startswith(("_static/", "_sources/", "genindex", "search")):
            continue
        problems += [
            f"{relative}: {p}" for p in unrendered(page.read_text(encoding="utf-8"))
        ]
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------- fixtures


@pytest.fixture
def example_course(tmp_path, monkeypatch):
    """The course reduced to example_chapter's notebook, as chapter 1."""
    (tmp_path / "notebooks").mkdir()
    nb = copy.deepcopy(example_chapter.compliant_chapter())
    nbformat.write(nb, str(tmp_path / "notebooks" / "01_example.ipynb"))
    monkeypatch.setattr(course, "NOTEBOOK_DIR", tmp_path / "notebooks")
    monkeypatch.setattr(course, "toc_files", lambda: ["notebooks/01_example"])
    return tmp_path / "notebooks" / "01_example.ipynb"
