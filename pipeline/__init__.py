"""Analysis pipeline of the annual monitoring of school methodological services."""

import sys as _sys

# jsonschema (imported by nbformat, papermill and nbconvert) loads rfc3987-syntax when it is
# installed (the jupyter packages pull it in), and that package builds a parser for the whole
# IRI grammar at import time: 2–3 s in every process that touches a notebook
# (python-jsonschema/jsonschema#1521). Nothing here validates the "iri" formats it serves;
# an entry of None makes `import rfc3987_syntax` fail, and jsonschema then skips those formats.
_sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
