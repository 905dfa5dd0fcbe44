"""Analysis pipeline of the annual monitoring of school methodological services."""

import sys as _sys

# jsonschema (imported by nbformat, papermill and nbconvert) loads rfc3987-syntax when it is
# installed (the jupyter packages pull it in), and that package builds a parser for the whole
# IRI grammar at import time: 2–3 s in every process that touches a notebook
# (python-jsonschema/jsonschema#1521). Nothing here validates the "iri" formats it serves;
# an entry of None makes `import rfc3987_syntax` fail, and jsonschema then skips those formats.
_sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

import os as _os

# openpyxl writes (and reads) workbooks through lxml when lxml is installed, and python-docx
# installs it. The XML it then writes differs in bytes (attribute order, namespaces), so the
# forms, the sample and every workbook written with openpyxl would depend on whether an optional
# accelerator happens to be present. The standard library's writer is kept everywhere: the
# same bytes on every machine (tests/test_sample.py compares them). Set before openpyxl is
# imported; the pipeline reads forms through calamine, so nothing measurable is lost.
_os.environ.setdefault("OPENPYXL_LXML", "False")
