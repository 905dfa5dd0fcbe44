"""The stages of a year, declared as data: which notebook, what each reads and where it writes."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence


from . import manifest as mf
from ..core.contract import STAGE_TABLE as STAGES, Stage
from ..core.errors import RunError
from .progress import _shown


NOTEBOOKS_DIR = mf.REPO_ROOT / "notebooks"


STAGING = ".staging"


AUDIT = "audit"


KERNEL = "python3"


# The kernel keeps its start-up chatter to itself, and shows table values in full: pandas
# would cut paths and checksums at 50 characters, at a place that depends on how long the
# run's folder names are — an auditor could not read them, and a re-run elsewhere (verify)
# would show other text. At most 20 columns, wrapped at 80 characters: what pandas chooses when
# it is first imported inside a kernel, stated here because a kernel forked from the warm
# process (pipeline/kernels.py) has pandas imported outside one, where it would fit the
# columns to a terminal instead.
KERNEL_ARGUMENTS = [
    "--IPKernelApp.log_level=CRITICAL",
    "--IPKernelApp.exec_lines=import pandas; pandas.set_option('display.max_colwidth', 100000);"
    " pandas.set_option('display.max_columns', 20)",
]


# The stages themselves are declared with the data contract (pipeline/core/contract.py).
ALL_YEARS = mf.ALL_YEARS


STAGE_NAMES = tuple(s.name for s in STAGES)


def stages_until(last: str | None, stages: Sequence[Stage] = STAGES) -> tuple[Stage, ...]:
    """The stages from the first up to `last` inclusive (all when None)."""
    if last is None:
        return tuple(stages)
    names = [s.name for s in stages]
    if last not in names:
        raise RunError(f"Неизвестный этап «{last}»", f"Этапы: {', '.join(names)}.")
    return tuple(stages[: names.index(last) + 1])


def check_notebooks(stages: Sequence[Stage], notebooks_dir: Path) -> None:
    missing = [s.notebook for s in stages if not (Path(notebooks_dir) / s.notebook).is_file()]
    if missing:
        raise RunError(
            f"Не найдены блокноты этапов в папке {_shown(notebooks_dir)}: {', '.join(missing)}",
            "Восстановите их из репозитория (git checkout notebooks/) или укажите этапы "
            "до существующего блокнота: --until.",
        )
