"""Sphinx extension: the course's fixes to the HTML the theme and docutils write.

- Citations: docutils marks each bibliography entry `role="doc-biblioentry"` inside a
  `role="list"`. DPUB-ARIA 1.1 deprecated `doc-biblioentry`, so axe-core reports the
  entries as deprecated roles and the list as having no list items
  (`aria-required-children`, critical). They are plain list items: `role="listitem"`.
- The PDF: when `make pdf` has printed the book (or COURSE_PDF names a PDF), the file is
  copied into the site and every page's sidebar links to it (template `pdf-link.html`).
  A site built without it has no link, so no link is ever broken.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

PDF_NAME = "hands-on-pytorch.pdf"


def pdf_source(app) -> Path | None:
    path = Path(
        os.environ.get("COURSE_PDF") or Path(app.srcdir) / "_build" / "pdf" / PDF_NAME
    )
    return path if path.is_file() else None


def _page_context(app, pagename, templatename, context, doctree):
    if "body" in context:
        context["body"] = context["body"].replace(
            'role="doc-biblioentry"', 'role="listitem"'
        )
    if app.builder.name == "html" and pdf_source(app):
        context["course_pdf_url"] = context["pathto"](PDF_NAME, 1)


def _copy_pdf(app, exception):
    source = pdf_source(app)
    if exception is None and app.builder.name == "html" and source:
        shutil.copyfile(source, Path(app.outdir) / PDF_NAME)


def setup(app):
    app.connect("html-page-context", _page_context)
    app.connect("build-finished", _copy_pdf)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
