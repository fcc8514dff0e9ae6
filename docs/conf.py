"""Sphinx configuration of the twin's documentation site: Markdown pages (MyST), the notebooks executed with
their plots (MyST-NB) and the API reference from the numpydoc docstrings. Built offline, with no warning.

Build: ``.venv/bin/python -m sphinx -b html -W docs build/docs`` (``tests/test_docs.py`` does it; the
notebooks run at build time, about a minute and a half on two cores).
"""

import importlib.util

project = "Orbital data center twin"
author = "the twin's maintainers"
extensions = ["myst_nb", "sphinx.ext.autodoc", "sphinx.ext.mathjax", "numpydoc"]
exclude_patterns = ["_build", "notebooks/.ipynb_checkpoints"]

# The API reference (docs/api/index.rst)
autodoc_member_order = "bysource"
autodoc_typehints = "none"          # the signatures carry the names; types and units are in the docstrings
numpydoc_show_class_members = False  # members are documented by autodoc, once
numpydoc_validation_checks = set()  # short docstrings with units are the house style, not the full numpydoc set

# No network, at build time or when a page is read: no intersphinx, no CDN. MathJax is not bundled, so
# formulas stay as LaTeX source in the page.
mathjax_path = "mathjax-is-not-bundled.js"
html_theme = "alabaster"
html_theme_options = {"fixed_sidebar": True, "show_relbars": True}
html_sidebars = {"**": ["about.html", "navigation.html", "searchbox.html"]}

# Markdown pages: headings get anchors (README-style links such as scenarios.md#the-three-phases), and code
# fences keep their first word as the language (the words after it say whether the suite runs the block:
# tests/test_doc_examples.py).
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]

# The notebooks (docs/notebooks is a link to ../notebooks) are stored without outputs, so they run here, each
# in a fresh kernel in a temporary folder, and a failing cell fails the build. The poliastro notebook needs
# Python 3.10 (.ci/poliastro.sh runs it there): elsewhere its page shows its code without outputs.
nb_execution_mode = "force"
nb_execution_timeout = 600
nb_execution_raise_on_error = True
nb_execution_in_temp = True
nb_execution_show_tb = True
nb_execution_excludepatterns = [] if importlib.util.find_spec("poliastro") else ["notebooks/poliastro_design_check.ipynb"]
nb_merge_streams = True
