"""reports/<year>/manifest.json: what a year's results were made from and what they are.

The manifest holds the parameters as loaded, every raw file with its sha256 and status, the
earlier years' parameter files and processed tables it builds on, the methodology's sha256,
the code revision, the Python and package versions, each stage's executed notebook, and
every output with its sha256. It is deterministic JSON (sorted keys,
no timestamps): the same inputs and code give the same manifest.

Outputs are named by location keys, `processed_dir/<file>` and `reports_dir/<path>`, so two
runs of a year in different folders can be compared. Processed tables are compared byte for
byte. Report files and executed notebooks also carry `sha256_normalized`: the hash after the
run's own folders (and the parameter file's checksum, which names them) are replaced by
placeholders ({processed_dir}, {params_file}, …), memory addresses are blanked, runs of spaces
become one, a notebook's plain-text copies of rich outputs (tables reflowed to the console
width) are left out and Excel's creation time is dropped — what `verify` compares for them.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import platform
import re
import subprocess
import zipfile
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable

from ..core.contract import OUTPUTS, is_signed
from ..core.csvtext import unprotect_row
from ..core.errors import RunError
from ..config import years
from ..config.params import YearParams, load_params
from ..fast.text import collapse_spaces
from ..io.storage import sha256_bytes, sha256_file, write_bytes_atomic

MANIFEST_NAME = "manifest.json"
FORMAT = 1
PACKAGE_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = PACKAGE_DIR.parent
KEY_PACKAGES = (
    "pandas", "matplotlib", "papermill", "nbconvert", "nbformat", "ipykernel",
    "openpyxl", "python-calamine", "pydantic", "pyyaml", "tqdm",
)
ROOTS = ("processed_dir", "reports_dir")
from ..core.contract import ALL_YEARS  # noqa: E402  (Stage.history: every earlier year)
# Report files whose text may mention the run's folders; compared after normalisation.
TEXT_SUFFIXES = {".ipynb", ".html", ".htm", ".json", ".md", ".txt", ".svg", ".css", ".js", ".csv", ".xml"}
_ADDRESS = re.compile(rb"0x[0-9a-fA-F]{6,16}")
_XLSX_TIMES = re.compile(rb"<dcterms:(created|modified)[^>]*>[^<]*</dcterms:\1>")


# --- locations ---------------------------------------------------------------------------

def key_for(params: YearParams, path: Path) -> str:
    """The location key of an output file: processed_dir/<rel> or reports_dir/<rel>."""
    path = Path(path)
    for root in ROOTS:
        base = Path(getattr(params, root))
        try:
            return f"{root}/{path.relative_to(base).as_posix()}"
        except ValueError:
            continue
    raise ValueError(f"{path} is outside processed_dir and reports_dir")


def path_for(params: YearParams, key: str) -> Path:
    """The file a location key names for this parameter set."""
    root, _, rel = key.partition("/")
    if root not in ROOTS or not rel:
        raise ValueError(f"bad output key {key!r}")
    return Path(getattr(params, root)) / rel


def tree_files(root: Path) -> dict[str, Path]:
    """Every file under root by its POSIX path relative to root, sorted; a name that is not
    UTF-8 is keyed as ingest shows it in files.csv (\\xNN), so it can be hashed and written."""
    from ..stages.ingest import display_name

    root = Path(root)
    if not root.is_dir():
        return {}
    return {display_name(p.relative_to(root).as_posix()): p for p in sorted(root.rglob("*")) if p.is_file()}


# --- hashing -----------------------------------------------------------------------------

def placeholders(params: YearParams, notebooks_dir: Path | None = None) -> list[tuple[bytes, bytes]]:
    """(folder or file path, placeholder) pairs of this run, longest path first."""
    pairs = {
        "processed_dir": params.processed_dir,
        "reports_dir": params.reports_dir,
        "raw_dir": params.raw_dir,
        "methodology": params.methodology,
        "params_file": params.source,
        "notebooks_dir": notebooks_dir,
    }
    out = [(str(Path(p)).encode("utf-8"), f"{{{name}}}".encode()) for name, p in pairs.items() if p]
    if params.source and Path(params.source).is_file():
        # the parameter file names the run's folders, so its checksum differs with them too
        sha = sha256_file(params.source)
        out += [(sha[:n].encode(), b"{params_sha256}") for n in (64, 16, 12)]
    return sorted(out, key=lambda pair: len(pair[0]), reverse=True)


def normalize_bytes(data: bytes, subst: Iterable[tuple[bytes, bytes]]) -> bytes:
    """Text with the run's own paths replaced by placeholders and memory addresses blanked."""
    for path, token in subst:
        data = data.replace(path, token)
    # a longer or shorter folder name shifts the padding of text tables: every run of spaces
    # and tabs becomes one space
    return collapse_spaces(_ADDRESS.sub(b"0x?", data))


def _without_plain_reprs(data: bytes) -> bytes:
    """A notebook without the text/plain copy of outputs that also have a rich form.

    A table's plain-text form is padded and wrapped to the console width, so a longer folder
    name reflows it; the HTML form (what the audit page shows) carries the same content.
    """
    try:
        nb = json.loads(data)
        for cell in nb.get("cells", []):
            for output in cell.get("outputs", []):
                bundle = output.get("data")
                if isinstance(bundle, dict) and len(bundle) > 1:
                    bundle.pop("text/plain", None)
    except (ValueError, AttributeError, TypeError):
        return data
    return json.dumps(nb, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8")


def normalized_sha256(path: Path, subst: Iterable[tuple[bytes, bytes]], data: bytes | None = None) -> str | None:
    """The comparison hash of a report file, or None when its bytes are compared as they are.
    data: the file's bytes when the caller has read them already."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".ipynb":
        return sha256_bytes(normalize_bytes(_without_plain_reprs(path.read_bytes() if data is None else data), subst))
    if suffix in TEXT_SUFFIXES:
        return sha256_bytes(normalize_bytes(path.read_bytes() if data is None else data, subst))
    if suffix == ".xlsx":
        h = hashlib.sha256()
        try:
            with zipfile.ZipFile(path if data is None else io.BytesIO(data)) as zf:
                for name in sorted(zf.namelist()):
                    member = zf.read(name)
                    if name == "docProps/core.xml":
                        member = _XLSX_TIMES.sub(b"", member)
                    h.update(name.encode("utf-8") + b"\0" + member + b"\0")
        except zipfile.BadZipFile:
            return sha256_file(path) if data is None else sha256_bytes(data)
        return h.hexdigest()
    return None


def describe_output(params: YearParams, key: str, subst: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """{sha256[, sha256_normalized]} of one output file (read once)."""
    path = path_for(params, key)
    if not key.startswith("reports_dir/"):
        return {"sha256": sha256_file(path)}
    data = path.read_bytes()
    entry = {"sha256": sha256_bytes(data)}
    norm = normalized_sha256(path, subst, data)
    if norm is not None:
        entry["sha256_normalized"] = norm
    return entry


def source_sha256(package_dir: Path = PACKAGE_DIR) -> str:
    """One hash over the pipeline package's files (code, templates, data), by relative path."""
    h = hashlib.sha256()
    for rel, path in tree_files(package_dir).items():
        if "__pycache__" in rel.split("/") or rel.endswith((".pyc", ".pyo")):
            continue
        h.update(rel.encode("utf-8") + b"\0" + sha256_file(path).encode() + b"\n")
    return h.hexdigest()


# --- what the run was made from ----------------------------------------------------------

def _ingest_rows(params: YearParams) -> dict[str, dict[str, str]]:
    """files.csv's rows (what ingest read) by the file's path relative to raw_dir."""
    statuses: dict[str, dict[str, str]] = {}
    files_csv = Path(params.processed_dir) / "files.csv"
    if files_csv.is_file():
        with open(files_csv, encoding="utf-8", newline="") as fh:
            for row in map(unprotect_row, csv.DictReader(fh)):
                name = row.get("file") or ""
                p = Path(name)
                if p.is_absolute():
                    try:
                        name = p.relative_to(params.raw_dir).as_posix()
                    except ValueError:
                        name = p.name
                statuses[name] = row
    return statuses


def raw_files(params: YearParams) -> list[dict[str, Any]]:
    """Every file of raw_dir with sha256, and the status ingest gave it (files.csv) if known;
    a signed scan (raw_dir/signed/, which ingest does not read) has status «signed».

    The sha256 is the one ingest recorded in files.csv, of the bytes it read once and parsed:
    a file replaced after ingest read it keeps the hash of the bytes the run used, and the
    entry says what is on disk now (`sha256_on_disk`), so that verify and the next run see
    the change. Files ingest did not hash (added after it, links) are hashed on disk."""
    listing = tree_files(params.raw_dir)
    statuses = _ingest_rows(params)
    out = []
    for rel in sorted(set(listing) | {k for k, r in statuses.items() if r.get("sha256")}):
        row = statuses.get(rel) or statuses.get(Path(rel).name) or {}
        path = listing.get(rel)
        on_disk = None if path is None else sha256_file(path)
        sha = row.get("sha256") or on_disk
        status = row.get("status") or ("signed" if is_signed(rel) else None)  # ingest does not list the scans
        entry: dict[str, Any] = {"file": rel, "sha256": sha, "status": status}
        if row.get("reason"):
            entry["reason"] = row["reason"]
        if sha is not None and on_disk != sha and row.get("sha256"):
            entry["sha256_on_disk"] = on_disk  # None: gone from the folder since ingest read it
        out.append(entry)
    return out


def earlier_years(params: YearParams, depth: int = ALL_YEARS) -> dict[str, Any]:
    """The earlier years a year builds on (following previous_params; depth 1 = the previous
    year only): each one's parameter file and processed tables, with sha256. An earlier year
    whose parameter file cannot be read stops the run (ParamsError naming it)."""
    out: dict[str, Any] = {}
    for earlier in years.earlier_years(params, None if depth == ALL_YEARS else depth):
        if earlier.params is None:
            load_params(earlier.path, check_files=False)  # raises the ParamsError that says why
            continue
        folder = Path(earlier.params.processed_dir)
        files = {
            name: sha256_file(folder / name)
            for outputs in OUTPUTS.values()
            for name in outputs
            if (folder / name).is_file()
        }
        out[str(earlier.params.year)] = {"params_file": str(earlier.path), "params_sha256": sha256_file(earlier.path),
                                         "processed": files}
    return out


def code_revision(repo: Path = REPO_ROOT) -> dict[str, Any]:
    """git HEAD and whether the working tree differs from it; None/None without git."""
    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=20, check=True
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip()

    revision = git("rev-parse", "HEAD")
    status = git("status", "--porcelain") if revision else None
    return {"revision": revision or None, "dirty": (bool(status) if status is not None else None)}


def package_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in KEY_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def build(
    params: YearParams,
    *,
    stages: list[dict[str, Any]],
    outputs: Iterable[str],
    notebooks_dir: Path | None = None,
    code: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The manifest of a finished run (stages as the runner describes them)."""
    subst = placeholders(params, notebooks_dir)
    return {
        "format": FORMAT,
        "year": params.year,
        "academic_year": params.academic_year,
        "parameters": params.as_dict(),
        "params_file": {"path": str(params.source), "sha256": sha256_file(params.source)},
        "methodology": {"path": str(params.methodology), "sha256": sha256_file(params.methodology)},
        "raw_files": raw_files(params),
        "earlier_years": earlier_years(params),
        "code": {**(code if code is not None else code_revision()), "pipeline_sha256": source_sha256()},
        "environment": {
            "python": platform.python_version(),
            "implementation": platform.python_implementation(),
            "packages": package_versions(),
        },
        "stages": stages,
        "outputs": {key: describe_output(params, key, subst) for key in sorted(set(outputs))},
    }


def dumps(manifest: dict[str, Any]) -> bytes:
    """Canonical bytes: sorted keys, two-space indent, UTF-8, final newline."""
    return (json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode("utf-8")


# The manifest's seal: the sha256 of its own canonical body (every key but this one). verify
# checks it first, to tell a manifest edited by hand (a recorded hash changed, an output
# removed) from outputs changed on disk. It detects edits that leave the manifest inconsistent
# with itself, not a forger who recomputes it: that needs a signature, which is not kept here.
SEAL = "manifest_sha256"


def seal_of(manifest: dict[str, Any]) -> str:
    """The sha256 of the manifest's canonical body, its seal left out."""
    return sha256_bytes(dumps({k: v for k, v in manifest.items() if k != SEAL}))


def sealed(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest with its seal (what is written)."""
    return {**manifest, SEAL: seal_of(manifest)}


def seal_intact(manifest: dict[str, Any]) -> bool | None:
    """True when the recorded seal matches the body, False when it does not (the manifest was
    edited after the run), None for a manifest written before seals."""
    recorded = manifest.get(SEAL)
    if recorded is None:
        return None
    return recorded == seal_of(manifest)


def write(params: YearParams, manifest: dict[str, Any]) -> Path:
    return write_bytes_atomic(Path(params.reports_dir) / MANIFEST_NAME, dumps(sealed(manifest)))


def read(params: YearParams) -> dict[str, Any]:
    path = Path(params.reports_dir) / MANIFEST_NAME
    if not path.is_file():
        raise RunError(
            f"Манифест года {params.year} не найден: {path}",
            f"Сначала выполните расчёт: python -m pipeline run --params {params.source}",
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise RunError(f"Манифест {path} не читается как JSON", "Выполните расчёт года заново.") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise RunError(f"Манифест {path} другого формата", "Выполните расчёт года заново.")
    return data


# --- comparison (verify) -----------------------------------------------------------------

def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """{"weights.checklist": 0.5, …} from nested dicts."""
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for k, v in data.items():
            out.update(flatten(v, f"{prefix}{k}."))
        return out
    return {prefix.rstrip("."): data}


def input_changes(manifest: dict[str, Any], params: YearParams, stage_notebooks: dict[str, Path]) -> list[str]:
    """Russian lines naming every input that differs from the manifest: raw files, parameters,
    earlier years' data, methodology, notebooks, the pipeline's code."""
    lines: list[str] = []
    before = {r["file"]: r["sha256"] for r in manifest.get("raw_files", [])}
    now = {rel: sha256_file(p) for rel, p in tree_files(params.raw_dir).items()}
    for name in sorted(before.keys() | now.keys()):
        if name not in now:
            lines.append(f"сырой файл «{name}» удалён")
        elif name not in before:
            lines.append(f"сырой файл «{name}» добавлен")
        elif before[name] != now[name]:
            lines.append(f"сырой файл «{name}» изменён (sha256 {before[name][:12]}… → {now[name][:12]}…)")

    old_p, new_p = flatten(manifest.get("parameters", {})), flatten(params.as_dict())
    changed = [k for k in sorted(old_p.keys() | new_p.keys()) if old_p.get(k) != new_p.get(k)]
    for k in changed:
        lines.append(f"параметр «{k}»: {old_p.get(k)!r} → {new_p.get(k)!r}")
    if not changed and manifest.get("params_file", {}).get("sha256") != sha256_file(params.source):
        lines.append(f"файл параметров {params.source} изменён (значения те же: комментарии или оформление)")

    before_years, now_years = manifest.get("earlier_years", {}), earlier_years(params)
    for year in sorted(before_years.keys() | now_years.keys()):
        old_y, new_y = before_years.get(year), now_years.get(year)
        if old_y is None or new_y is None:
            lines.append(f"цепочка предыдущих лет (previous_params) изменилась: год {year}")
            continue
        if old_y["params_sha256"] != new_y["params_sha256"]:
            lines.append(f"файл параметров {year} года изменён")
        changed_files = sorted(
            name for name in old_y["processed"].keys() | new_y["processed"].keys()
            if old_y["processed"].get(name) != new_y["processed"].get(name)
        )
        if changed_files:
            lines.append(f"обработанные данные {year} года изменились: {', '.join(changed_files)}")

    if manifest.get("methodology", {}).get("sha256") != sha256_file(params.methodology):
        lines.append(f"файл методики {params.methodology} изменён")

    for stage in manifest.get("stages", []):
        nb = stage_notebooks.get(stage.get("name"))
        if nb is not None and nb.is_file() and stage.get("notebook_sha256") != sha256_file(nb):
            lines.append(f"блокнот этапа {nb.name} изменён")
    code = manifest.get("code", {})
    if code.get("pipeline_sha256") and code["pipeline_sha256"] != source_sha256():
        lines.append(f"код пакета pipeline изменён (ревизия манифеста {code.get('revision') or 'неизвестна'})")
    return lines


def compare_outputs(expected: dict[str, dict[str, str]], actual: dict[str, dict[str, str]]) -> dict[str, list[str]]:
    """Which outputs differ ("differ"), are missing ("missing") or are new ("extra").

    A file is compared by sha256_normalized when the manifest has one, else byte for byte.
    """
    out: dict[str, list[str]] = {"differ": [], "missing": [], "extra": []}
    for key in sorted(expected.keys() | actual.keys()):
        if key not in actual:
            out["missing"].append(key)
        elif key not in expected:
            out["extra"].append(key)
        else:
            field = "sha256_normalized" if "sha256_normalized" in expected[key] else "sha256"
            if expected[key].get(field) != actual[key].get(field):
                out["differ"].append(key)
    return out


def on_disk(params: YearParams, expected: dict[str, dict[str, str]]) -> dict[str, list[str]]:
    """Outputs of the manifest whose file is now missing or has other bytes (changed after the run)."""
    out: dict[str, list[str]] = {"differ": [], "missing": []}
    for key, entry in sorted(expected.items()):
        path = path_for(params, key)
        if not path.is_file():
            out["missing"].append(key)
        elif sha256_file(path) != entry.get("sha256"):
            out["differ"].append(key)
    return out

