"""`make pdf`: the whole book as one PDF, printed by Chromium from the single page.

Checks what a reader of the PDF needs: every chapter (its title in the text), its
figures embedded, a sensible length, internal links and an outline; and that the website
links to it. Needs Chromium and poppler-utils (pdftotext, pdfimages); `make browser`
installs both as root.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tools import course, print_pdf

pytestmark = pytest.mark.slow

sys.path.insert(0, str(course.REPO_ROOT / "book" / "_ext"))
import course_html  # noqa: E402

MIN_PAGES, MAX_PAGES = 60, 600


def jupyter_book(*args, env=None):
    run = subprocess.run(
        [
            str(Path(sys.executable).parent / "jupyter-book"),
            "build",
            str(course.REPO_ROOT),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
        check=False,
    )
    assert run.returncode == 0, (
        f"jupyter-book build {' '.join(args)} failed:\n"
        f"{run.stdout[-4000:]}\n{run.stderr[-4000:]}"
    )


@pytest.fixture(scope="module")
def pdf(tmp_path_factory) -> Path:
    """The PDF, made as `make pdf` makes it, in a temporary folder."""
    out = tmp_path_factory.mktemp("pdf")
    jupyter_book("--builder", "singlehtml", "--path-output", str(out))
    return print_pdf.print_pdf(
        out / "_build" / "singlehtml", out / course_html.PDF_NAME
    )


def poppler(tool: str, *args) -> str:
    return subprocess.run(
        [tool, *args], capture_output=True, text=True, check=True, timeout=120
    ).stdout


def test_pdf_length_and_chapter_titles(pdf):
    info = poppler("pdfinfo", str(pdf))
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE).group(1))
    size_mb = pdf.stat().st_size / 1e6
    print(f"{pdf.name}: {pages} pages, {size_mb:.1f} MB")
    assert MIN_PAGES <= pages <= MAX_PAGES, (
        f"{pages} pages: a page per chapter or a runaway layout?"
    )
    text = re.sub(r"\s+", " ", poppler("pdftotext", "-layout", str(pdf), "-"))
    missing = [
        p.stem
        for p in course.chapter_paths()
        if re.sub(r"\s+", " ", course.chapter_meta(course.read_notebook(p))["title"])
        not in text
    ]
    assert not missing, f"chapters whose title is not in the PDF: {missing}"
    assert "Contents" in text, "no table of contents"


def test_pdf_embeds_every_figure(pdf):
    """Every figure the chapters show is in the PDF (pdfimages lists the images)."""
    n_figures = sum(
        1
        for p in course.chapter_paths()
        for c in course.code_cells(course.read_notebook(p))
        for o in c.get("outputs", [])
        if "image/png" in o.get("data", {})
    )
    listed = poppler("pdfimages", "-list", str(pdf)).splitlines()[2:]
    images = [line for line in listed if line.split()[2] == "image"]
    assert len(images) >= n_figures, (
        f"{len(images)} images embedded, the chapters show {n_figures} figures"
    )


def test_pdf_has_internal_links_and_an_outline(pdf):
    raw = pdf.read_bytes()
    assert raw.count(b"/Outlines") >= 1, "no outline (bookmarks)"
    internal = len(re.findall(rb"/S\s*/GoTo|/Dest\s*[\[(/]", raw))
    assert internal >= len(course.chapter_paths()), (
        f"{internal} internal links: the contents should link each chapter"
    )


def test_site_links_to_the_pdf(pdf, tmp_path_factory):
    """With the PDF made, the website holds it and every page's sidebar links to it."""
    out = tmp_path_factory.mktemp("site-with-pdf")
    jupyter_book(
        "--path-output",
        str(out),
        "-W",
        "-n",
        "--keep-going",
        env={**os.environ, "COURSE_PDF": str(pdf)},
    )
    html = out / "_build" / "html"
    assert (html / course_html.PDF_NAME).read_bytes() == pdf.read_bytes(), (
        "the site does not hold the PDF"
    )
    for page in course.toc_files():
        text = (html / f"{page}.html").read_text(encoding="utf-8")
        href = re.search(
            r'class="course-pdf-link" aria-label="The book as a PDF"><a [^>]*'
            rf'href="([^"]*{re.escape(course_html.PDF_NAME)})"',
            text,
        )
        assert href, f"{page}: no link to the PDF"
        assert ((html / page).parent / href.group(1)).resolve() == (
            html / course_html.PDF_NAME
        ).resolve(), href.group(1)


MATH = re.compile(
    r"\$\$.+?\$\$|\$[^$\n]+\$|^\\begin\{(\w+\*?)\}.+?^\\end\{\1\}", re.S | re.M
)
TEX_COMMAND = re.compile(r"\\[a-zA-Z]+")


def tex_in_sources() -> tuple[Counter, Counter]:
    """How often each TeX command (\\frac, \\sum...) is written in the book's formulas,
    and how often outside them, where the PDF shows it as written: code cells and their
    outputs, inline code, and the errata's quotes of the sources' own TeX."""
    in_math, as_written = Counter(), Counter()

    def markdown(text: str) -> None:
        for piece in re.split(r"(`+)(.+?)\1", text, flags=re.S)[::3]:
            for formula in MATH.finditer(piece):
                in_math.update(TEX_COMMAND.findall(formula.group(0)))
            as_written.update(TEX_COMMAND.findall(MATH.sub(" ", piece)))
        for code in re.findall(r"(`+)(.+?)\1", text, flags=re.S):
            as_written.update(TEX_COMMAND.findall(code[1]))

    for path in course.chapter_paths():
        for cell in course.read_notebook(path).cells:
            if cell.cell_type == "markdown":
                markdown(cell.source)
            else:
                as_written.update(TEX_COMMAND.findall(cell.source))
                for output in cell.get("outputs", []):
                    printed = str(output.get("text", "")) + str(
                        output.get("data", {}).get("text/plain", "")
                    )
                    as_written.update(TEX_COMMAND.findall(printed))
    for page in course.toc_files():
        source = course.REPO_ROOT / f"{page}.md"
        if source.is_file():
            text = source.read_text(encoding="utf-8")
            for included in re.findall(r"\{include\}\s*(\S+)", text):
                text += (source.parent / included).read_text(encoding="utf-8")
            markdown(text)
    return in_math, as_written


def test_pdf_shows_typeset_math_not_tex(pdf):
    """The formulas are typeset (by the MathJax the site ships, offline): no TeX command
    of theirs is left in the PDF's text more often than the book writes it outside a
    formula, and no \\( \\) or \\[ \\] delimiter is left."""
    in_math, as_written = tex_in_sources()
    assert in_math[r"\frac"] and in_math[r"\sum"], "no formula found in the sources"
    text = poppler("pdftotext", str(pdf), "-")
    in_pdf = Counter(c for c in TEX_COMMAND.findall(text) if c in in_math)
    raw = sorted(
        f"{c} ({n} times, {as_written[c]} outside formulas)"
        for c, n in in_pdf.items()
        if n > as_written[c]
    )
    delimiters = re.findall(r"\\[()[\]]", text)
    assert not raw and not delimiters, (
        f"raw TeX in the PDF: {raw[:12]}, {len(delimiters)} math delimiters"
    )
