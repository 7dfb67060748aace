"""Sphinx extension: drop inline <script> bodies a page would otherwise include twice.

With Jupyter Book 1.0.4 (Sphinx 7.4, sphinx-thebe 0.3), sphinx-thebe's configuration
script (`const THEBE_JS_URL = ...`) is registered twice, so every page logs "Identifier
'THEBE_JS_URL' has already been declared" in the browser console. Identical inline
scripts are redundant by definition, so keeping the first of each is safe.
"""

from __future__ import annotations


def _dedupe(app, pagename, templatename, context, doctree):
    seen = set()
    unique = []
    for script in context.get("script_files", []):
        body = (
            getattr(script, "attributes", {}).get("body")
            if not isinstance(script, str)
            else None
        )
        if body:
            if body in seen:
                continue
            seen.add(body)
        unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", _dedupe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
