"""The numbered notebooks of the report, shipped in the package as ``salesinsight.notebooks``.

This folder is their one copy in the repository; the packaging configuration maps the package onto
it, and :func:`salesinsight.report.notebooks.bundled_notebooks_dir` finds them in a clone and in an
installed wheel alike.
"""
