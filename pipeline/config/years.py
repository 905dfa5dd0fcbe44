"""The earlier years of a monitoring year: the chain of parameter sets its `previous_params`
lead to. The follow-up (last year), the report's dynamics (every year) and the manifest (what
a year builds on) all walk it here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..core.errors import PipelineError
from .params import YearParams, load_params


@dataclass(frozen=True)
class EarlierYear:
    """One earlier year: its parameter file and the parameters, or why they could not be read."""

    path: Path
    params: YearParams | None
    problem: str = ""


def earlier_years(params: YearParams, depth: int | None = None) -> Iterator[EarlierYear]:
    """The years before `params`, newest first, following previous_params (at most `depth` of
    them). A parameter file that cannot be read ends the chain (with the reason); a loop back
    to a year already seen ends it too."""
    seen = {Path(params.source).resolve()} if params.source else set()
    current = params
    count = 0
    while current.previous_params is not None and (depth is None or count < depth):
        path = Path(current.previous_params)
        if path.resolve() in seen:
            return
        seen.add(path.resolve())
        try:
            previous = load_params(path, check_files=False)
        except PipelineError as exc:
            yield EarlierYear(path, None, str(exc))
            return
        yield EarlierYear(path, previous)
        current = previous
        count += 1
