"""What every executed notebook shows at its top, for the auditor: the year, the parameter
file, the input checksums and where the stage's outputs go."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import pandas as pd

from ..config.params import YearParams
from ..io.storage import sha256_file


class AuditTable(pd.DataFrame):
    """A DataFrame that always shows its values in full.

    Paths and checksums are what an auditor reads here; pandas would cut them at
    display.max_colwidth (50 characters by default), and where it cuts would depend on how
    long the folder names of the run are — so two runs of the same year in different folders
    would show different text.
    """

    @property
    def _constructor(self):
        return AuditTable

    def _repr_html_(self) -> str | None:
        with pd.option_context("display.max_colwidth", None):
            return super()._repr_html_()

    def __repr__(self) -> str:
        with pd.option_context("display.max_colwidth", None):
            return super().__repr__()


def stage_header(params: YearParams, stage: str, inputs: list[Path] | None = None, output_dir: Path | None = None,
                 *, hashed: Iterable[tuple[str, str]] = ()) -> pd.DataFrame:
    """A small table: what this stage ran on (files with sha256) and where it writes.

    `inputs` are hashed here; `hashed` are (name, sha256) of inputs the stage has already read
    and hashed (ingest's raw files: the checksums of the very bytes it read, not read again);
    an empty checksum is a file that could not be read."""
    rows = [
        {"что": "Год мониторинга", "значение": f"{params.year} ({params.academic_year} учебный год)"},
        {"что": "Этап", "значение": stage},
        {"что": "Файл параметров", "значение": f"{params.source} (sha256 {sha256_file(params.source)[:16]}…)" if params.source else "—"},
        {"что": "Методика", "значение": f"{params.methodology} (sha256 {sha256_file(params.methodology)[:16]}…)"},
        {"что": "Результаты записываются в", "значение": str(output_dir or params.processed_dir)},
    ]
    for path in inputs or []:
        path = Path(path)
        if path.is_file():
            rows.append({"что": f"Вход: {path.name}", "значение": f"sha256 {sha256_file(path)}"})
    for name, sha in hashed:
        rows.append({"что": f"Вход: {name}", "значение": f"sha256 {sha}" if sha else "не прочитан"})
    return AuditTable(rows)
