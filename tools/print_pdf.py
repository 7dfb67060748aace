"""Print the single-page HTML build of the book to one PDF with Chromium (`make pdf`).

    python tools/print_pdf.py _build/singlehtml _build/pdf/hands-on-pytorch.pdf

Why Chromium and not LaTeX: the chapters' outputs (tables, coloured tracebacks, figures
with their alt text) are HTML first, and the browser tests already drive Debian's
Chromium, so the PDF shows what the site shows with no TeX Live (over 1 GB of Debian
packages) to install. Jupyter Book's own `pdfhtml` builder cannot be used: pyppeteer
downloads its own browser.

The page is served on localhost; requests elsewhere are dropped (the build is offline).
Before printing, every folded cell (solutions, hidden inputs) is opened and a table of
contents, linked to each chapter, is put first. Chromium writes internal links and an
outline (bookmarks) from the headings. The formulas are typeset by the MathJax the site
ships before the page is printed.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import sys
import threading
from pathlib import Path

CHROMIUM = os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

PREPARE = """() => {
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  document.querySelectorAll('.toggle-hidden, .cell.tag_hide-input .cell_input')
    .forEach(e => e.classList.remove('toggle-hidden'));
  const nav = document.querySelector('nav.bd-docs-nav');
  const article = document.querySelector('article.bd-article');
  if (nav && article) {
    const toc = document.createElement('nav');
    toc.className = 'course-print-toc';
    toc.setAttribute('aria-label', 'Contents');
    toc.innerHTML = '<h1>Contents</h1>'
      + nav.querySelector('.bd-toc-item, ul').outerHTML;
    toc.querySelectorAll('input, label, .toctree-toggle').forEach(e => e.remove());
    const title = article.querySelector('section > h1, h1');
    (title && title.closest('section') ? title.closest('section') : article)
      .insertAdjacentElement('afterbegin', toc);
    title && toc.insertAdjacentElement('beforebegin', title);
  }
}"""


# MathJax (the site's own copy: book/_ext/offline_math.py) typesets after the load
# event; its startup promise settles once every formula is typeset.
WAIT_FOR_MATH = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise)
    await MathJax.startup.promise;
}"""


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def root_page(site: Path) -> str:
    """The single page: Jupyter Book's index.html only redirects to the root page."""
    index = (site / "index.html").read_text(encoding="utf-8")
    refresh = re.search(r'http-equiv="Refresh" content="0; url=([^"]+)"', index)
    return refresh.group(1) if refresh else "index.html"


def print_pdf(site: Path, output: Path) -> Path:
    from playwright.sync_api import sync_playwright

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(site))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    output.parent.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            context = browser.new_context(
                viewport={"width": 1280, "height": 900}, color_scheme="light"
            )
            context.route(
                "**/*",
                lambda r: r.continue_() if r.request.url.startswith(url) else r.abort(),
            )
            # The single page links its assets relative to the site's root (_static/,
            # _images/), so it is served from there.
            single = (site / root_page(site)).read_text(encoding="utf-8")
            context.route(
                f"{url}/book.html",
                lambda r: r.fulfill(
                    body=single, content_type="text/html; charset=utf-8"
                ),
            )
            page = context.new_page()
            page.goto(f"{url}/book.html", wait_until="load")
            page.evaluate(WAIT_FOR_MATH)
            page.evaluate("document.fonts.ready")
            page.evaluate(PREPARE)
            page.emulate_media(media="print")
            page.pdf(
                path=str(output),
                format="A4",
                print_background=True,
                outline=True,
                tagged=True,
                margin={
                    "top": "16mm",
                    "bottom": "16mm",
                    "left": "14mm",
                    "right": "14mm",
                },
                display_header_footer=True,
                header_template="<span></span>",
                footer_template=(
                    '<div style="font-size:8px;width:100%;text-align:center">'
                    '<span class="pageNumber"></span> / '
                    '<span class="totalPages"></span></div>'
                ),
            )
            browser.close()
    finally:
        server.shutdown()
    return output


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    site, output = Path(sys.argv[1]), Path(sys.argv[2])
    if not (site / "index.html").is_file():
        sys.exit(
            f"no single-page build at {site}: "
            "run `jupyter-book build . --builder singlehtml` first"
        )
    print(
        f"The book as one PDF: {print_pdf(site, output)} "
        f"({output.stat().st_size / 1e6:.1f} MB)"
    )
