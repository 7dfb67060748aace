"""The book's generated files come from their single sources and are committed up to
date; the errata page has one row per error, linked to the section that corrects it."""

from __future__ import annotations

import copy
import difflib
import functools
import json
import re
import unicodedata

import nbformat
import pytest

import example_chapter
from tools import course, sync_pages

CHAPTERS = course.chapter_paths()
LINK = re.compile(r"\]\(([^)\s]+)\)")


@functools.lru_cache(maxsize=1)
def course_errata() -> str:
    """The course's errata page as generated now (read once: it reads every chapter)."""
    return sync_pages.render_errata()


# ---------------------------------------------------------------- generated files


def test_generated_files_are_up_to_date():
    for path, text in sync_pages.generated_files().items():
        assert path.is_file() and path.read_text(encoding="utf-8") == text, (
            f"{path.name} is out of date with its sources: run `make pages`"
        )


def test_each_generated_file_is_included_by_its_page():
    for name, (_, _, page) in sync_pages.GENERATED.items():
        text = (sync_pages.BOOK / page).read_text(encoding="utf-8")
        assert f"```{{include}} generated/{name}\n```" in text, (
            f"book/{page} must include generated/{name}"
        )
        assert "BEGIN GENERATED" not in text, (
            f"book/{page} still has a regex-replaced region"
        )


def test_chapter_list_comes_from_the_toc(monkeypatch):
    listed = [
        f.split("/", 1)[1] for f in course.toc_files() if f.startswith("notebooks/")
    ]
    assert [row["stem"] for row in sync_pages.chapters()] == listed
    monkeypatch.setattr(
        course, "toc_files", lambda: ["book/intro", f"notebooks/{listed[1]}"]
    )
    assert [row["stem"] for row in sync_pages.chapters()] == [listed[1]]


def test_chapter_map_follows_the_metadata(tmp_path, monkeypatch):
    """Edit a copy of a chapter's metadata: the map changes with it."""
    original = CHAPTERS[0]
    nb = course.read_notebook(original)
    nb.metadata["course"]["summary"] = "A summary that exists only in this test."
    nb.metadata["course"]["time"] = {"total": 123, "reading": 73, "exercises": 50}
    nb.metadata["course"]["title"] = "A title of this test"
    copy_dir = tmp_path / "notebooks"
    copy_dir.mkdir()
    nbformat.write(nb, str(copy_dir / original.name))
    monkeypatch.setattr(course, "NOTEBOOK_DIR", copy_dir)
    monkeypatch.setattr(course, "toc_files", lambda: [f"notebooks/{original.stem}"])
    table = sync_pages.render_chapter_map()
    assert (
        "A summary that exists only in this test. |" in table
        and "| 123 min (73 reading and running, 50 exercises) |" in table
    )
    assert f"[1. A title of this test](../notebooks/{original.name})" in table


def test_versions_come_from_requirements():
    table = sync_pages.render_versions()
    pins = []
    for name in ("requirements.txt", "requirements-colab.txt"):
        lines = (course.REPO_ROOT / name).read_text().splitlines()
        pins += [
            (pin, name)
            for pin in (line.split("#", 1)[0].strip() for line in lines)
            if pin and not pin.startswith("-r ")
        ]
    assert pins and all("==" in pin for pin, _ in pins), (
        "every requirement must be pinned"
    )
    colab_part, tools_part = table.split("**Building the site")
    for pin, name in pins:
        package, version = pin.split("==")
        part = colab_part if name == "requirements-colab.txt" else tools_part
        assert f"| {package} | {version} |" in part, (
            f"{pin} ({name}) is not in its table"
        )
    snapshot = sync_pages.colab_snapshot()
    assert f"snapshot of {snapshot['date']}, Python {snapshot['python']}" in colab_part


def test_an_unpinned_requirement_is_refused(tmp_path, monkeypatch):
    (tmp_path / "requirements.txt").write_text("-r more.txt\nnumpy==2.0  # why\n")
    (tmp_path / "more.txt").write_text("torch>=2\n")
    monkeypatch.setattr(course, "REPO_ROOT", tmp_path)
    with pytest.raises(ValueError, match="more.txt: 'torch>=2' is not pinned"):
        sync_pages.requirement_pins()


def test_benchmark_tables_match_their_files():
    from tools import benchmark

    for path in sorted((course.REPO_ROOT / "book" / "benchmarks").glob("*.json")):
        report = json.loads(path.read_text())
        assert path.with_suffix(".md").read_text() == benchmark.render_table(report), (
            f"{path.with_suffix('.md').name} was edited by hand: run `make benchmark`"
        )


# ---------------------------------------------------------------- errata


def test_heading_anchors_are_myst_slugs():
    """The anchors the errata link to are computed as myst_parser computes them."""
    found = sync_pages.headings(
        [
            "# Title\n\n### A $(100, 100)$ target for a `(100, 1)` prediction",
            "### `torchvision.datasets.MNIST` without `import torchvision`",
            "### Repeated\n\n### Repeated\n\n#### Too deep",
        ]
    )
    assert [h["slug"] for h in found] == [
        "title",
        "a--target-for-a-100-1-prediction",
        "torchvisiondatasetsmnist-without-import-torchvision",
        "repeated",
        "repeated-1",
        None,
    ]


def missing_from_errata(path, page: str) -> list[str]:
    missing = []
    for section in sync_pages.correction_sections(course.read_notebook(path)):
        heading = section["headings"][0]
        href = f"../notebooks/{path.name}#{heading['slug']}"
        if not section["corrections"]:
            missing.append(
                f"cell {section['cell']} ('### {heading['text']}'): no "
                "metadata.course.corrections, so no row"
            )
        elif f"]({href})" not in page:
            missing.append(
                f"cell {section['cell']} ('### {heading['text']}'): no row "
                f"links to {href}"
            )
    return missing


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in CHAPTERS])
def test_every_correction_section_is_on_the_errata_page(path):
    missing = missing_from_errata(path, course_errata())
    assert not missing, (
        f"{path.stem}: correction sections missing from the errata page:\n"
        + "\n".join(missing)
    )


def unresolved_links(page: str) -> list[str]:
    """Rows that link anywhere but one specific section: a correction heading of a
    chapter, or a heading of a book page below its title."""
    targets = {}
    for row in sync_pages.chapters():
        targets[f"../notebooks/{row['stem']}.ipynb"] = {
            section["headings"][0]["slug"]
            for section in sync_pages.correction_sections(row["nb"])
        }
    rows = [
        line
        for line in page.splitlines()
        if line.startswith("| ") and not line.startswith(("| Section", "|---"))
    ]
    bad = [] if rows else ["the errata page has no rows"]
    for line in rows:
        links = LINK.findall(line.rsplit(" | ", 1)[-1])
        if not links:
            if "| here: " not in line:
                bad.append(f"no link and no correction: {line[:100]}")
            continue
        if len(links) != 1:
            bad.append(f"{len(links)} links in one row's last column: {line[:100]}")
        target, _, anchor = links[0].partition("#")
        if target.startswith("../notebooks/"):
            valid = targets.get(target, set())
        elif (sync_pages.BOOK / target).is_file():
            valid = {
                h["slug"]
                for h in sync_pages.headings(
                    [(sync_pages.BOOK / target).read_text(encoding="utf-8")]
                )
                if h["level"] >= 2
            }
        else:
            valid = set()
        if not anchor or anchor not in valid:
            bad.append(f"{links[0]} is not a specific section of {target}")
    return bad


def test_errata_links_resolve_to_a_specific_section():
    bad = unresolved_links(course_errata())
    assert not bad, "\n".join(bad)


def _normalised(quote: str) -> str:
    return re.sub(r"\W+", "", unicodedata.normalize("NFKC", quote)).lower()


ELISION = re.compile(r"\s*(?:…+|\.\.\.)\s*")
SAME_WORDS = 0.7  # difflib's ratio above which two quotes are the same passage


def quoted_passages(entry: dict) -> list[tuple[str, set, str]]:
    """(article, its section numbers, normalised fragment) for each fragment of each
    article's quote (fragments are separated by … or ...)."""
    found = []
    for article, section in sync_pages.sections_by_article(entry).items():
        numbers = set(re.findall(r"\d+(?:\.\d+)*", re.sub(r"\([^)]*\)", "", section)))
        for fragment in ELISION.split(sync_pages.quote_in(entry, article)):
            if _normalised(fragment):
                found.append((article, numbers, _normalised(fragment)))
    return found


def same_passage(a: tuple, b: tuple) -> bool:
    """Two quotes of one article say the same: in a section they share (or with no
    number), one contains the other and is at least half as long, or difflib finds
    them at least SAME_WORDS alike."""
    if a[0] != b[0] or (a[1] and b[1] and not a[1] & b[1]):
        return False
    short, long_ = sorted((a[2], b[2]), key=len)
    if short in long_ and 2 * len(short) >= len(long_):
        return True
    return difflib.SequenceMatcher(None, a[2], b[2]).ratio() >= SAME_WORDS


def two_homes(entries: list[dict]) -> list[str]:
    """Errors corrected in two places: the same id, or the same passage of the same
    article (compared by meaning: article, section and normalised quote)."""
    problems, seen_ids, seen_passages = [], {}, []
    for entry in entries:
        where = (
            entry["home"]["href"] if entry["home"] else "book/errata_without_code.yml"
        )
        if entry["id"] in seen_ids and seen_ids[entry["id"]] != where:
            problems.append(
                f"{entry['id']!r}: same id as an entry of {seen_ids[entry['id']]}, "
                f"home again at {where}"
            )
        seen_ids.setdefault(entry["id"], where)
        for passage in quoted_passages(entry):
            for other_id, other_where, other in seen_passages:
                if other_where != where and same_passage(passage, other):
                    problems.append(
                        f"{entry['id']!r}: quotes article {passage[0]} as "
                        f"{other_id!r} of {other_where} does, home again at {where}"
                    )
                    break
        seen_passages += [(entry["id"], where, p) for p in quoted_passages(entry)]
    return problems


def test_no_error_has_two_homes():
    problems = two_homes(sync_pages.all_corrections())
    assert not problems, (
        "one error, one home (the other chapters link to it):\n" + "\n".join(problems)
    )


def test_corrections_without_code_are_complete():
    problems = []
    for entry in sync_pages.codeless_data()["corrections"]:
        name = entry.get("id", "?")
        problems += [f"{name}: {p}" for p in sync_pages.correction_problems(entry)]
        if bool(entry.get("home")) == bool(entry.get("correction")):
            problems.append(
                f"{name}: give either a home (page.md#section) or a correction"
            )
        if entry.get("home") and "#" not in entry["home"]:
            problems.append(f"{name}: home {entry['home']!r} names no section")
    assert not problems, "book/errata_without_code.yml:\n" + "\n".join(problems)


# ---------------------------------------------------------------- the checks' own tests


@pytest.fixture
def example_course(tmp_path, monkeypatch):
    """The course reduced to example_chapter's notebook, as chapter 1."""
    (tmp_path / "notebooks").mkdir()
    nb = example_chapter.compliant_chapter()
    nbformat.write(nb, str(tmp_path / "notebooks" / "01_example.ipynb"))
    monkeypatch.setattr(course, "NOTEBOOK_DIR", tmp_path / "notebooks")
    monkeypatch.setattr(course, "toc_files", lambda: ["notebooks/01_example"])
    return tmp_path / "notebooks" / "01_example.ipynb"


def test_a_correction_gets_one_row_linked_to_its_section(example_course):
    page = sync_pages.render_errata()
    href = "../notebooks/01_example.ipynb#tensors-can-store-strings"
    rows = [line for line in page.splitlines() if f"]({href})" in line]
    assert len(rows) == 1 and "| false claim |" in rows[0], page
    assert "## Article 003" in page
    assert missing_from_errata(example_course, page) == []
    assert unresolved_links(page) == []
    assert two_homes(sync_pages.all_corrections()) == []


def test_a_section_without_metadata_is_reported_missing(example_course):
    nb = course.read_notebook(example_course)
    del nb.cells[7].metadata["course"]
    nbformat.write(nb, str(example_course))
    page = sync_pages.render_errata()
    assert missing_from_errata(example_course, page) == [
        "cell 7 ('### Tensors can store strings'): "
        "no metadata.course.corrections, so no row"
    ]


def test_an_invalid_correction_is_left_off_and_reported(example_course):
    nb = course.read_notebook(example_course)
    nb.cells[7].metadata["course"]["corrections"][0]["articles"] = "003"
    nbformat.write(nb, str(example_course))
    page = sync_pages.render_errata()
    assert "tensors-can-store-strings" not in page
    assert missing_from_errata(example_course, page) == [
        "cell 7 ('### Tensors can store strings'): no row links to "
        "../notebooks/01_example.ipynb#tensors-can-store-strings"
    ]


def test_a_link_to_a_whole_chapter_is_reported(example_course):
    page = sync_pages.render_errata().replace("#tensors-can-store-strings", "")
    assert unresolved_links(page) == [
        "../notebooks/01_example.ipynb is not a specific section of "
        "../notebooks/01_example.ipynb"
    ]


def test_an_error_with_two_homes_is_reported(example_course):
    entries = sync_pages.all_corrections()
    again = copy.deepcopy(entries[0])
    again["home"] = {"href": "../notebooks/02_other.ipynb#elsewhere"}
    assert len(two_homes(entries + [again])) == 2  # by its id and by its quote
    again["id"] = "another-id"
    assert len(two_homes(entries + [again])) == 1  # by its quote
