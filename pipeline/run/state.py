"""What each stage was last run on (processed_dir/.state.json): the hashes of its inputs, so
that a stage whose inputs, parameters and code are unchanged is not run again."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


from . import manifest as mf
from ..config.params import YearParams
from ..core.contract import OUTPUTS, is_signed
from ..io.storage import sha256_bytes, sha256_file, write_bytes_atomic
from .stages import Stage


STATE_NAME = ".state.json"


def _digest(obj: Any) -> str:
    return sha256_bytes(json.dumps(obj, sort_keys=True, ensure_ascii=False).encode("utf-8"))


def _state_path(params: YearParams) -> Path:
    return Path(params.processed_dir) / STATE_NAME


def load_state(params: YearParams) -> dict[str, Any]:
    try:
        data = json.loads(_state_path(params).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"stages": {}}
    if not isinstance(data, dict) or not isinstance(data.get("stages"), dict):
        return {"stages": {}}
    return data


def save_state(params: YearParams, state: dict[str, Any]) -> None:
    text = json.dumps(state, sort_keys=True, ensure_ascii=False, indent=1) + "\n"
    write_bytes_atomic(_state_path(params), text.encode("utf-8"))


def stage_inputs(params: YearParams, stage: Stage, notebooks_dir: Path, code_sha: str) -> dict[str, Any]:
    """Everything the stage's result depends on, each as a hash."""
    inputs: dict[str, Any] = {
        "params": sha256_file(params.source),
        "methodology": sha256_file(params.methodology),
        "notebook": sha256_file(Path(notebooks_dir) / stage.notebook),
        "code": code_sha,
    }
    if stage.raw or stage.signed:
        listing = mf.tree_files(params.raw_dir)
    if stage.raw:  # the forms: a signed scan put in later does not re-run ingest
        inputs["raw"] = _digest({rel: sha256_file(p) for rel, p in listing.items() if not is_signed(rel)})
    if stage.signed:
        inputs["signed"] = _digest({rel: sha256_file(p) for rel, p in listing.items() if is_signed(rel)})
    if stage.reads:
        folder = Path(params.processed_dir)
        inputs["earlier"] = _digest({
            name: (sha256_file(folder / name) if (folder / name).is_file() else None)
            for earlier in stage.reads
            for name in OUTPUTS.get(earlier, {})
        })
    if stage.history:
        inputs["history"] = _digest(mf.earlier_years(params, stage.history))
    return inputs


_INPUT_LABELS = {
    "params": "параметры",
    "methodology": "методика",
    "notebook": "блокнот",
    "code": "код pipeline",
    "raw": "сырые данные",
    "signed": "подписанные экземпляры документов",
    "earlier": "результаты предыдущих этапов",
    "history": "данные прошлых лет",
}


def _why_run(prev: dict[str, Any] | None, inputs: dict[str, Any], params: YearParams) -> str:
    """Why a stage must run, in words; empty when it can be skipped."""
    if not prev:
        return "первый запуск"
    old = prev.get("inputs", {})
    changed = [label for key, label in _INPUT_LABELS.items() if old.get(key) != inputs.get(key)]
    if changed:
        return "изменились: " + ", ".join(changed)
    for key, sha in (prev.get("outputs") or {}).items():
        path = mf.path_for(params, key)
        if not path.is_file() or sha256_file(path) != sha:
            return f"результат {path.name} изменён или удалён"
    return ""
