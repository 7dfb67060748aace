"""Every chapter follows the template, runs in Colab as it is, matches _config.yml."""

from __future__ import annotations

import argparse
import ast
import re
import sys

import nbformat
import pytest

from harness import chapter_params
from tools import course, sync_pages

# Top-level modules a chapter may import: the standard library, and what Google Colab
# preinstalls.
COLAB_PACKAGES = {
    line.split()[0]
    for line in (course.REPO_ROOT / "tools" / "colab_packages.txt")
    .read_text()
    .splitlines()
    if line.strip() and not line.startswith("#")
}
REQUIRED_META = {
    "chapter",
    "title",
    "summary",
    "time",
    "gpu",
    "prerequisites",
    "objectives",
    "budget_seconds",
}
# Text in a chapter's code that would make it read files of this repository.
REPOSITORY_PATHS = re.compile(
    r"\.\./|(^|[/\"'])(tools|tests|book|notebooks|shared)/|_config\.yml|_toc\.yml"
)


def headings(nb) -> list[str]:
    return [
        line.lstrip("#").strip()
        for cell in nb.cells
        if cell.cell_type == "markdown"
        for line in cell.source.split("\n")
        if line.startswith("#")
    ]


def test_toc_lists_every_chapter_once_in_order():
    chapters = [f for f in course.toc_files() if f.startswith("notebooks/")]
    assert chapters == [f"notebooks/{p.stem}" for p in course.chapter_paths()]
    for entry in course.toc_files():
        matches = list(course.REPO_ROOT.glob(f"{entry}.*"))
        assert matches, f"_toc.yml names {entry}, which does not exist"


def test_tools_take_chapter_names_and_reject_unknown_ones(capsys):
    """The tools' CHAPTERS: names in, paths out, a typo refused with the known names."""
    parser = argparse.ArgumentParser(prog="tool")
    course.add_chapters_argument(parser)
    first = course.chapter_paths()[0]
    assert parser.parse_args([first.stem, first.name]).chapters == [first, first]
    assert parser.parse_args([]).chapters == []
    with pytest.raises(SystemExit) as stopped:
        parser.parse_args([first.stem[:-1]])
    assert stopped.value.code == 2
    assert f"no such chapter: {first.stem[:-1]} (chapters: {first.stem}" in (
        capsys.readouterr().err
    )


def test_chapters_are_numbered_without_gaps():
    numbers = [int(p.stem[:2]) for p in course.chapter_paths()]
    missing = sorted(set(range(1, max(numbers) + 1)) - set(numbers))
    assert numbers == list(range(1, len(numbers) + 1)), (
        f"notebooks/ has chapters {numbers}: no chapter numbered {missing}"
    )


@pytest.mark.parametrize("path", chapter_params())
def test_metadata_and_header(path):
    nb = course.read_notebook(path)
    meta = course.chapter_meta(nb)
    assert REQUIRED_META <= meta.keys(), (
        f"missing metadata: {REQUIRED_META - meta.keys()}"
    )
    assert meta["chapter"] == int(path.stem[:2])
    assert meta["gpu"] in {"no", "helps", "yes"}
    assert set(meta["time"]) == {"total", "reading", "exercises"}
    assert len(meta["objectives"]) >= 3
    assert (
        isinstance(meta["budget_seconds"], int) and 0 < meta["budget_seconds"] <= 180
    ), (
        "budget_seconds: the chapter's wall-time budget with default parameters "
        "on a 2-core CPU"
    )
    assert nb.metadata["kernelspec"]["name"] == "python3"
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith(
        f"# {meta['title']}\n"
    )


@pytest.mark.parametrize("path", chapter_params())
def test_colab_badge_matches_config(path):
    nb = course.read_notebook(path)
    badges = re.findall(
        r"\(https://colab\.research\.google\.com/github/[^)]+\)",
        "\n".join(c.source for c in nb.cells if c.cell_type == "markdown"),
    )
    assert badges == [f"({course.colab_url(path)})"], (
        "the Colab badge disagrees with repository in _config.yml: run `make notebooks`"
    )


@pytest.mark.parametrize("path", chapter_params())
def test_chapter_info_is_generated_from_metadata(path):
    nb = course.read_notebook(path)
    info = [c for c in nb.cells if course.TAG_CHAPTER_INFO in course.tags(c)]
    assert len(info) == 1
    assert info[0].source == course.render_chapter_info(course.chapter_meta(nb)), (
        "the at-a-glance cell is out of date with the metadata: run `make notebooks`"
    )


@pytest.mark.parametrize("path", chapter_params())
def test_template_sections_in_order(path):
    nb = course.read_notebook(path)
    code = course.code_cells(nb)
    parameters = [
        i for i, c in enumerate(code) if course.TAG_PARAMETERS in course.tags(c)
    ]
    assert len(parameters) == 1, "one code cell must be tagged 'parameters'"
    lines = [
        line.split("  #")[0].rstrip() for line in code[parameters[0]].source.split("\n")
    ]
    assert course.DATA_CONTRACT in lines, (
        f"the parameters cell must hold the line: {course.DATA_CONTRACT}"
    )
    setup = "\n".join(c.source for c in code[: parameters[0]])
    assert 'torch.device("cuda" if torch.cuda.is_available() else "cpu")' in setup, (
        "the setup cell must pick the device automatically"
    )
    titles = headings(nb)
    for section in ("Setup", "What the source got wrong", "Exercises", "Summary"):
        assert section in titles, f"no '## {section}' section"
    order = [
        titles.index(s)
        for s in ("Setup", "What the source got wrong", "Exercises", "Summary")
    ]
    assert order == sorted(order), (
        "sections must come as Setup, What the source got wrong, Exercises, Summary"
    )
    assert course.TAG_RESULTS in course.tags(code[-1]), (
        "the last code cell must be tagged 'results'"
    )
    assert "results = {" in code[-1].source, (
        "the results cell assigns a dict to `results` (the tests read the variable)"
    )


def results_cell_problems(nb) -> list[str]:
    """The results cell exists for the tests: a learner never meets it."""
    cells = [c for c in course.code_cells(nb) if course.TAG_RESULTS in course.tags(c)]
    problems = []
    for cell in cells:
        if not cell.source.startswith(course.RESULTS_TITLE):
            problems.append(f"its first line is not {course.RESULTS_TITLE!r} (Colab)")
        if "remove-cell" not in course.tags(cell):
            problems.append("it is not tagged remove-cell (the site)")
        jupyter = cell.metadata.get("jupyter", {})
        if not (jupyter.get("source_hidden") and jupyter.get("outputs_hidden")):
            problems.append("its code and output are not hidden (JupyterLab)")
        if cell.metadata.get("cellView") != "form":
            problems.append("metadata.cellView is not 'form' (Colab)")
        if cell.outputs or shows_a_value(cell.source):
            problems.append(
                "it shows something (Colab shows a folded cell's output): end it with "
                "the assignment `results = {...}`; the tests read the dict the run "
                "records in its metadata"
            )
    return problems


def shows_a_value(source: str) -> bool:
    """Whether a cell's last statement is an expression, whose value Jupyter shows."""
    import ast

    body = ast.parse(source).body
    return bool(body) and isinstance(body[-1], ast.Expr)


@pytest.mark.parametrize("path", chapter_params())
def test_the_results_cell_is_hidden_from_learners(path):
    problems = results_cell_problems(course.read_notebook(path))
    assert not problems, (
        "the results cell: " + "; ".join(problems) + (" (run `make pages`)")
    )


# MyST syntax that Colab and Jupyter show as raw text: a role ({cite}`key`), a directive
# (```{note} or :::{note}), a target label ((name)=).
MYST_ONLY = re.compile(
    r"\{[a-z][a-z0-9:_-]*\}`|^\s*(```+|:::+)\s*\{[a-z]|^\([A-Za-z0-9_-]+\)=\s*$",
    re.MULTILINE,
)


def myst_only_markup(nb) -> list[str]:
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown" or course.TAG_CHAPTER_INFO in course.tags(cell):
            continue
        for match in MYST_ONLY.finditer(cell.source):
            found.append(f"cell {index}: {match.group(0).strip()!r}")
    return found


@pytest.mark.parametrize("path", chapter_params())
def test_markdown_reads_the_same_in_colab(path):
    """Only markup Colab and Jupyter render: links, not MyST roles or directives."""
    found = myst_only_markup(course.read_notebook(path))
    assert not found, (
        "MyST markup that Colab shows as raw text (use an ordinary link, e.g. to "
        "../book/references.md or ../notebooks/NN_name.ipynb#section):\n"
        + "\n".join(found)
    )


def test_myst_markup_is_recognised():
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("AdamW {cite}`loshchilov2019adamw` decays."),
            nbformat.v4.new_markdown_cell("```{note}\nA note.\n```"),
            nbformat.v4.new_markdown_cell("(my-label)=\n## A section"),
            nbformat.v4.new_markdown_cell("A [link](../book/references.md), `code`."),
        ]
    )
    assert [line.split(":")[0] for line in myst_only_markup(nb)] == [
        "cell 0",
        "cell 1",
        "cell 2",
    ]


SOURCES_PAGE = "../book/sources.md"


def sources_problems(nb) -> list[str]:
    """The chapter says what its sources are (a link to their page) before it speaks
    of them, in its opening cell."""
    markdown = [c for c in nb.cells if c.cell_type == "markdown"]
    if not markdown or SOURCES_PAGE not in markdown[0].source:
        return [
            "the opening cell does not link to the page on the sources "
            f"({SOURCES_PAGE})"
        ]
    return []


@pytest.mark.parametrize("path", chapter_params())
def test_the_sources_are_introduced_in_the_opening_cell(path):
    problems = sources_problems(course.read_notebook(path))
    assert not problems, "; ".join(problems)


def test_a_chapter_that_speaks_of_the_source_first_is_caught():
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# Tensors\n\nThe source gets this wrong.")
        ]
    )
    assert sources_problems(nb)
    nb.cells[0].source += f" It is one of [five articles]({SOURCES_PAGE})."
    assert not sources_problems(nb)


@pytest.mark.parametrize("path", chapter_params())
def test_source_errors_are_shown_by_running_code(path):
    nb = course.read_notebook(path)
    start = next(
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "markdown" and "## What the source got wrong" in c.source
    )
    end = next(
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "markdown" and "## Exercises" in c.source
    )
    section = nb.cells[start:end]
    quoted = sum(
        c.source.count("\n### ") + c.source.startswith("### ")
        for c in section
        if c.cell_type == "markdown"
    )
    runs = [c for c in section if c.cell_type == "code"]
    assert quoted >= 3, "quote each error of the sources under its own ### heading"
    assert len(runs) >= quoted, "each error needs a cell that runs the evidence"


@pytest.mark.parametrize("path", chapter_params())
def test_imports_only_what_colab_preinstalls(path):
    """Standard library, Colab's packages, or a module the chapter wrote before."""
    nb = course.read_notebook(path)
    written = set()
    for cell in course.code_cells(nb):
        for module in course.imported_modules(cell.source):
            assert (
                module in COLAB_PACKAGES
                or module in sys.stdlib_module_names
                or module in written
            ), (
                f"{module!r} is neither in the standard library nor preinstalled "
                f"on Colab, nor written by an earlier cell:\n{cell.source}"
            )
        written |= set(WRITTEN_MODULE.findall(cell.source))


# A module a chapter writes into its working directory before importing it, e.g. for
# DataLoader workers, which import what they run: Path("name.py").write_text(...)
WRITTEN_MODULE = re.compile(r"""Path\(["'](\w+)\.py["']\)\.write_text\(""")


@pytest.mark.parametrize("path", chapter_params())
def test_no_file_of_the_repository_is_read(path):
    nb = course.read_notebook(path)
    for cell in course.code_cells(nb):
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert not REPOSITORY_PATHS.search(node.value), (
                    f"a chapter must not read the repository's files: {node.value!r}"
                )


@pytest.mark.parametrize("path", chapter_params())
def test_figures_have_alt_text_title_and_labels(path):
    nb = course.read_notebook(path)
    for cell in course.code_cells(nb):
        if not any("image/png" in o.get("data", {}) for o in cell.get("outputs", [])):
            continue
        alt = cell.metadata.get("mystnb", {}).get("image", {}).get("alt", "")
        assert len(alt) >= 20, (
            f"a figure needs alt text (metadata mystnb.image.alt):\n{cell.source}"
        )
        # ax.set(title=..., xlabel=...) sets them as well as the set_* methods do
        assert re.search(r"set_title|suptitle|plt\.title|\btitle=", cell.source), (
            f"figure without title:\n{cell.source}"
        )
        if 'axis("off")' not in cell.source:
            assert re.search(r"set_xlabel|xlabel", cell.source) and re.search(
                r"set_ylabel|ylabel", cell.source
            ), f"figure without axis labels:\n{cell.source}"


def test_book_pages_link_every_chapter():
    """The landing page includes the chapter map, which links every chapter in order."""
    intro = (course.REPO_ROOT / "book" / "intro.md").read_text()
    assert "```{include} generated/chapter-map.md" in intro
    chapter_map = (sync_pages.GENERATED_DIR / "chapter-map.md").read_text()
    links = re.findall(r"\]\(\.\./notebooks/(\w+)\.ipynb\)", chapter_map)
    assert links == [path.stem for path in course.chapter_paths()], (
        "the chapter map does not link every chapter in order: run `make pages`"
    )
