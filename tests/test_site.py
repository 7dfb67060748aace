"""The website builds with no warning; its pages link to Colab, and are accessible."""

from __future__ import annotations

import re

import pytest

from harness import PageParser, chapter_params
from tools import course


@pytest.mark.slow
@pytest.mark.parametrize("path", chapter_params())
def test_chapter_page_links_to_colab_and_download(path, built_site):
    page = (built_site / "notebooks" / f"{path.stem}.html").read_text(encoding="utf-8")
    assert page.count(course.colab_url(path)) >= 2, (
        "the page needs the launch button and the badge"
    )
    assert f"_sources/notebooks/{path.name}" in page, (
        "no download link for the notebook"
    )
    repository = course.load_config()["repository"]["url"].rstrip("/")
    assert f'href="{repository}"' in page, (
        f"no button linking to the repository {repository}"
    )
    n_exercises = len(course.exercises(course.read_notebook(path)))
    assert page.count("tag_hide-input") >= n_exercises, "solutions are not folded"


VAGUE_LINK_TEXTS = {"", "here", "click here", "link", "this", "more", "read more"}


def parsed_pages(built_site):
    """Each page of the site, parsed; its links are those with an address."""
    for page in course.toc_files():
        parser = PageParser()
        parser.feed((built_site / f"{page}.html").read_text(encoding="utf-8"))
        parser.links = [link for link in parser.links if link["href"]]
        yield page, parser


@pytest.mark.slow
def test_pages_are_accessible(built_site):
    """Images have alt text, headings skip no level, link texts say where they go."""
    for page, parser in parsed_pages(built_site):
        for image in parser.images:
            assert (image.get("alt") or "").strip(), (
                f"{page}: an image without alt text: {image.get('src')}"
            )
        for previous, current in zip(parser.headings, parser.headings[1:]):
            assert current <= previous + 1, (
                f"{page}: heading h{previous} is followed by h{current}"
            )
        for link in parser.links:
            assert link["text"].strip().lower() not in VAGUE_LINK_TEXTS, (
                f"{page}: vague link text for {link['href']}"
            )


@pytest.mark.slow
def test_external_links_are_well_formed_and_listed(built_site):
    """External links use https and name a real host; listed for `make linkcheck`.

    Whether they answer cannot be checked offline; `make linkcheck` (and the scheduled
    link check) does that where the network is reachable.
    """
    external = sorted(
        {
            link["href"]
            for _, parser in parsed_pages(built_site)
            for link in parser.links
            if re.match(r"[a-z]+://", link["href"])
        }
    )
    malformed = [
        url
        for url in external
        if not re.fullmatch(r"https://[a-z0-9.-]+\.[a-z]{2,}(:\d+)?(/\S*)?", url)
    ]
    assert not malformed, (
        f"external links that are not well-formed https URLs: {malformed}"
    )
    report = course.REPO_ROOT / "test-artifacts" / "external-links.md"
    report.parent.mkdir(exist_ok=True)
    report.write_text(
        "# External links of the site\n\nNot checked by the offline test run; "
        "`make linkcheck` checks them where the network is reachable.\n\n"
        + "".join(f"- <{url}>\n" for url in external)
    )


@pytest.mark.slow
def test_internal_links_and_anchors_resolve(built_site):
    """Every link between pages (the errata's links to sections included) lands on a
    real target."""
    ids_of = {}
    for page, parser in parsed_pages(built_site):
        for link in parser.links:
            href = link["href"]
            if href.startswith(("http://", "https://", "mailto:", "javascript:")):
                continue
            target, _, anchor = href.partition("#")
            target_file = (
                ((built_site / page).parent / target).resolve()
                if target
                else built_site / f"{page}.html"
            )
            assert target_file.exists(), f"{page}: broken link {href}"
            if anchor and target_file.suffix == ".html":
                if target_file not in ids_of:
                    ids_of[target_file] = set(
                        re.findall(
                            r'\bid="([^"]+)"', target_file.read_text(encoding="utf-8")
                        )
                    )
                assert anchor in ids_of[target_file], (
                    f"{page}: {href} points to a missing section"
                )


GLANCE_HEADER = ["Estimated time", "Prerequisites", "GPU"]


def glance_params():
    """Chapters whose "at a glance" cell still has the blank header row `| | |` are
    expected failures.

    The cell is written by tools/course.render_chapter_info; issue 24 proposes the
    header row GLANCE_HEADER with the values in one row below it. Once a notebook is
    regenerated with it, its mark goes (strict: a pass while marked fails).
    """
    for path in course.chapter_paths():
        nb = course.read_notebook(path)
        blank = any(
            course.TAG_CHAPTER_INFO in course.tags(c) and c.source.startswith("| | |")
            for c in nb.cells
        )
        marks = (
            [
                pytest.mark.xfail(
                    strict=True,
                    reason="blank header row until render_chapter_info changes",
                )
            ]
            if blank
            else []
        )
        yield pytest.param(path, marks=marks, id=path.stem)


@pytest.mark.slow
@pytest.mark.parametrize("path", list(glance_params()))
def test_at_a_glance_table_has_a_real_header_row(path, built_site):
    """The "at a glance" table names each column (axe: no `empty-table-header`)."""
    page = (built_site / "notebooks" / f"{path.stem}.html").read_text(encoding="utf-8")
    tables = re.findall(r"<table.*?</table>", page, re.DOTALL)
    glance = [t for t in tables if "Estimated time" in t]
    assert glance, "no 'at a glance' table"
    header = re.search(r"<thead>(.*?)</thead>", glance[0], re.DOTALL)
    cells = [
        re.sub(r"<[^>]+>", "", c).strip()
        for c in re.findall(
            r"<th[^>]*>(.*?)</th>", header.group(1) if header else "", re.DOTALL
        )
    ]
    assert cells == GLANCE_HEADER, f"the table's header row is {cells}"


# --- Issue 36: published on GitHub Pages, found by search engines, math offline -------


def pages_url() -> str:
    """The GitHub Pages address of the repository named in _config.yml:
    https://github.com/OWNER/NAME is published at https://OWNER.github.io/NAME/."""
    repository = course.load_config()["repository"]["url"].rstrip("/")
    owner, name = re.fullmatch(
        r"https://github\.com/([^/]+)/([^/]+)", repository
    ).groups()
    return f"https://{owner.lower()}.github.io/{name}/"


def test_base_url_is_the_repositorys_github_pages_address():
    assert course.load_config().get("html", {}).get("baseurl") == pages_url(), (
        f"html.baseurl in _config.yml should be {pages_url()}, the address "
        ".github/workflows/pages.yml publishes the repository's site at"
    )


@pytest.mark.slow
def test_sitemap_lists_every_page(built_site):
    sitemap = built_site / "sitemap.xml"
    assert sitemap.is_file(), "no sitemap.xml in the site"
    listed = set(re.findall(r"<loc>([^<]+)</loc>", sitemap.read_text(encoding="utf-8")))
    expected = {f"{pages_url()}{page}.html" for page in course.toc_files()}
    missing = sorted(expected - listed)
    assert not missing, f"pages missing from sitemap.xml: {missing}"
    strays = sorted(u for u in listed if not u.startswith(pages_url()))
    assert not strays, f"sitemap.xml lists addresses outside the site: {strays}"


@pytest.mark.slow
def test_every_page_names_its_canonical_address(built_site):
    for page in course.toc_files():
        html = (built_site / f"{page}.html").read_text(encoding="utf-8")
        canonical = re.findall(r'<link rel="canonical" href="([^"]+)"', html)
        assert canonical == [f"{pages_url()}{page}.html"], (
            f"{page}: canonical links {canonical}"
        )


@pytest.mark.slow
def test_site_ships_its_math_renderer(built_site):
    """MathJax is loaded from the site itself, and the file is there (the browser tests
    show that it typesets every formula with the network blocked)."""
    page = (built_site / "notebooks" / "05_optimizers.html").read_text(encoding="utf-8")
    sources = re.findall(r'<script[^>]+src="([^"]*mathjax[^"]*)"', page, re.I)
    assert sources, "the page loads no MathJax"
    for src in sources:
        assert "://" not in src and not src.startswith("//"), (
            f"MathJax comes from another host: {src}"
        )
        local = (built_site / "notebooks" / src.split("?")[0]).resolve()
        assert local.is_file(), f"{src} is not in the site"
