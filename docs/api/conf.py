"""Sphinx configuration of the twin's API reference, built from the docstrings (numpydoc), offline.

Build: ``.venv/bin/python -m sphinx -b html -W docs/api build/api`` (``tests/test_docs.py`` does it).
"""

project = "Orbital data center twin"
author = "the twin's maintainers"
extensions = ["sphinx.ext.autodoc", "sphinx.ext.mathjax", "numpydoc"]
autodoc_member_order = "bysource"
autodoc_typehints = "none"          # the signatures carry the names; types and units are in the docstrings
numpydoc_show_class_members = False  # members are documented by autodoc, once
numpydoc_validation_checks = set()  # short docstrings with units are the house style, not the full numpydoc set
mathjax_path = "mathjax-is-not-bundled.js"  # no network: formulas stay as LaTeX source in the page
html_theme = "alabaster"
exclude_patterns = []
