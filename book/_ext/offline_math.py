"""Sphinx extension: the formulas are typeset by a MathJax the site ships, not a CDN's.

Sphinx loads MathJax 3 from a public CDN by default, so offline, and in the PDF that
`make pdf` prints on a machine that cannot reach that CDN, every formula shows as raw
TeX. The PyPI package django-static-mathjax (pinned in requirements.txt; a plain copy
of MathJax's own release files, no Django needed) holds MathJax 3.2.2, the release the
CDN's `mathjax@3` serves, so the site typesets exactly as before. This extension points
`mathjax_path` at `_static/mathjax/tex-mml-chtml.js` and copies there the part of
MathJax that file loads on demand: TeX extensions (`\\boldsymbol`, ...), the CHTML
fonts, the accessibility tools of MathJax's menu and the speech rules they read
(about 9 MB of MathJax's 24).
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

from sphinx.errors import ExtensionError

TARGET = "mathjax"  # under the site's _static/
ENTRY = "tex-mml-chtml.js"
# What ENTRY loads at run time, relative to MathJax's es5/ folder.
PARTS = [ENTRY, "input", "output/chtml.js", "output/chtml", "a11y", "sre", "ui"]


def mathjax_es5() -> Path:
    spec = importlib.util.find_spec("mathjax")
    folder = (
        Path(spec.origin).parent / "static" / "mathjax" / "es5"
        if spec and spec.origin
        else None
    )
    if folder is None or not (folder / ENTRY).is_file():
        raise ExtensionError(
            "MathJax is not installed: the site typesets its formulas with the copy in "
            "the PyPI package django-static-mathjax (pip install -r requirements.txt)"
        )
    return folder


def _use_local_mathjax(app, config):
    mathjax_es5()  # fail at once, before a whole build, when it is missing
    config.mathjax_path = f"{TARGET}/{ENTRY}"


def _copy_mathjax(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    source, target = mathjax_es5(), Path(app.outdir) / "_static" / TARGET
    for part in PARTS:
        if (source / part).is_dir():
            shutil.copytree(source / part, target / part, dirs_exist_ok=True)
        else:
            (target / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / part, target / part)


def setup(app):
    app.connect("config-inited", _use_local_mathjax)
    app.connect("build-finished", _copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
