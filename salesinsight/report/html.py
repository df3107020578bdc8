"""An executed notebook as one self-contained HTML page of the report."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["ABOUT_CODE", "PAGE_TEMPLATE", "notebook_html", "notebook_title"]

PAGE_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head -%}{{ super() }}
<style>
body{max-width:1100px;margin:0 auto}
.jp-RenderedHTMLCommon table{table-layout:auto;font-size:0.85em}
.jp-RenderedHTMLCommon th{text-align:left}
.jp-RenderedHTMLCommon td{vertical-align:top}
</style>
{%- endblock html_head -%}
{%- block body_header -%}{{ super() }}
<nav style="padding:0.5em 1em;font-family:sans-serif"><a href="index.html">&larr; Report index</a></nav>
{%- endblock body_header -%}
"""
"""nbconvert's lab page without its CDN scripts (require.js, MathJax, Mermaid), so that pages work
offline and load nothing from third parties, with the page as wide as the report's index, table
headers left-aligned, and a link back to the index."""

ABOUT_CODE = "about-code"
"""Tag of the markdown cells that speak of the notebook's code (its parameters cell, its setup
call): true beside the code, so left out of a page whose code is hidden."""


def notebook_title(notebook: Mapping[str, Any], default: str) -> str:
    """The first level-1 heading of the notebook's markdown, else `default`.

    Examples
    --------
    >>> import nbformat
    >>> notebook_title(nbformat.v4.new_notebook(cells=[
    ...     nbformat.v4.new_markdown_cell("intro\\n# Does trust sell?")]), "01-trust")
    'Does trust sell?'
    """
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "markdown":
            match = re.search(r"(?m)^#\s+(.+?)\s*#*\s*$", cell.get("source", ""))
            if match:
                return match.group(1)
    return default


def notebook_html(path: str | os.PathLike[str], *, show_code: bool = False) -> tuple[str, str]:
    """Convert an executed notebook to one self-contained HTML page.

    Plots are embedded as PNG data URIs, styles are inline and nothing is loaded from the
    internet; code cells are hidden unless `show_code`, and so are the markdown cells tagged
    :data:`ABOUT_CODE`, which speak of that code.

    Parameters
    ----------
    path : str or path
        An executed notebook.
    show_code : bool, default False
        Show the code cells' input.

    Returns
    -------
    (str, str)
        The page's title and its HTML.
    """
    # nbconvert takes a second to import: only the report's last step needs it.
    import jinja2
    import nbformat
    from nbconvert import HTMLExporter

    notebook = nbformat.read(path, as_version=4)
    if not show_code:
        notebook.cells = [
            cell for cell in notebook.cells if ABOUT_CODE not in cell.metadata.get("tags", [])
        ]
    title = notebook_title(notebook, Path(path).stem)
    exporter = HTMLExporter(
        template_name="lab",
        extra_loaders=[jinja2.DictLoader({"salesinsight.html.j2": PAGE_TEMPLATE})],
        template_file="salesinsight.html.j2",
        exclude_input=not show_code,
        exclude_input_prompt=not show_code,
        exclude_output_prompt=True,
        embed_images=True,
    )
    body, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"name": title}})
    return title, body
