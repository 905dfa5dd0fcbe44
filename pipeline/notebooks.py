"""Notebook housekeeping: notebooks live in git without outputs."""

from __future__ import annotations

from pathlib import Path

import nbformat


def strip_outputs(path: str | Path) -> bool:
    """Remove outputs and execution counts in place; True if the file changed."""
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    changed = False
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if cell.get("outputs") or cell.get("execution_count") is not None:
            cell["outputs"] = []
            cell["execution_count"] = None
            changed = True
        for key in ("execution", "papermill"):
            if key in cell.get("metadata", {}):
                del cell["metadata"][key]
                changed = True
    if changed:
        nbformat.write(nb, path)
    return changed
