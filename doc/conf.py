"""Sphinx configuration of the sklearn-so documentation.

Build with ``python -m sphinx -W --keep-going -b html doc doc/_build/html``.
The build needs no network: there is no intersphinx, the gallery uses
scikit-learn's bundled datasets or synthetic data, and the cost-model table is
measured by fitting the estimators while the page is read.
"""

import os
import re
import sys
from pathlib import Path

import sklearn_so

DOC_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(DOC_DIR / "sphinxext"))

from sklearn_so_docs import write_api_page  # noqa: E402

project = "sklearn-so"
copyright = "the sklearn-so developers"
release = sklearn_so.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
    "sklearn_so_docs",
]

templates_path = ["_templates"]
exclude_patterns = ["_build"]
root_doc = "index"
default_role = "literal"
# Curly quotes, but no dashes: "--quick" in a report's command line must stay.
smartquotes_action = "qe"

# The API page lists every name of sklearn_so.__all__, so a new public object
# (say, a Display class) gets its page without editing the docs.
write_api_page(DOC_DIR, sklearn_so)

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
autodoc_typehints = "none"

# numpydoc renders the docstrings and checks them: a public docstring that
# breaks numpydoc's rules fails the (-W) build.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks = {
    "all",
    # Extended summaries, See Also and Examples are not required of every
    # method (the estimators' class docstrings have them).
    "ES01",
    "SA01",
    "EX01",
    # scikit-learn names its return values ("self : object"), and so do we.
    "RT02",
}
# Methods inherited from scikit-learn's mixins are scikit-learn's docstrings,
# validated by scikit-learn; the metadata-routing methods are generated.
numpydoc_validation_exclude = {
    r"\.get_params$",
    r"\.set_params$",
    r"\.get_metadata_routing$",
    r"\.set_\w+_request$",
    r"\.score$",
    r"\.set_callbacks$",
    r"\.__init__$",
}

# MyST parses the benchmark reports (Markdown written by the benchmark
# scripts); they jump from "#" to "###" headings, which is fine for them.
suppress_warnings = ["myst.header"]

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # Only plot_*.py files are gallery examples: they are the ones executed,
    # and every other script in examples/ is left out of the gallery.
    "filename_pattern": re.escape(os.sep) + "plot_",
    "ignore_pattern": r"^(?!plot_)",
    "within_subsection_order": "FileNameSortKey",
    "doc_module": ("sklearn_so",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"sklearn_so": None},
    "remove_config_comments": True,
    "download_all_examples": False,
    "show_memory": False,
}

html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-so {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_show_sourcelink = False
html_sidebars = {"index": [], "benchmarks": []}
