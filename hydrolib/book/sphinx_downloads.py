"""Sphinx extension: each chapter's download menu offers its jupytext source (.py) beside the
executed notebook (.ipynb) that sphinx-book-theme already lists.

``hydrolib.book.build`` copies ``notebooks/<name>.py`` to ``<staging>/_extra/_sources/notebooks/``;
``html_extra_path`` puts it beside the ``.ipynb`` in the HTML's ``_sources/``. Both files are
served by the book itself: nothing is fetched from elsewhere.
"""

from __future__ import annotations

from pathlib import Path

SOURCES_DIR = "_extra/_sources/notebooks"  # in the staging folder


def add_jupytext_download(app, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Add a ".py" entry to the page's download group when the page's jupytext source was copied."""
    if not pagename.startswith("notebooks/"):
        return
    name = Path(pagename).name
    if not (Path(app.srcdir) / SOURCES_DIR / f"{name}.py").exists():
        return
    for button in context.get("header_buttons", []):
        if button.get("label") == "download-buttons":
            button["buttons"].insert(1, {
                "type": "link",
                "url": f"{context['pathto']('_sources', 1)}/notebooks/{name}.py",
                "text": ".py",
                "tooltip": "Download the notebook's jupytext source (percent format)",
                "icon": "fas fa-file-code",
                "label": "download-jupytext-button",
            })


def setup(app):
    # after sphinx-book-theme builds the download group (its add_header_buttons runs at 501)
    app.connect("html-page-context", add_jupytext_download, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
