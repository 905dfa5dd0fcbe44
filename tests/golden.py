"""Fingerprints of the sample's outputs, to show that a change of code left them as they were.

`tests/golden/sample.json` holds, for every processed table and every published page and
Excel file of the embedded sample's three years, a sha256 of what a person or a later stage
reads in it:

* processed CSVs: their bytes (they are byte-for-byte deterministic);
* HTML pages: their visible text, link targets and image alternatives — not the bytes of the
  embedded chart images, which belong to matplotlib's release, not to this project;
* results.xlsx: every sheet's cell values and number formats, not the zip's bytes.

`test_golden.py` re-runs the sample and compares. When a change is meant to alter outputs,
run `.venv/bin/python tests/golden.py --update` after the sample run it prints, and say in
the commit what changed and why.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent / "golden" / "sample.json"


def _html_view(path: Path) -> bytes:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    for tag in soup(["style", "script"]):
        tag.decompose()
    parts = [" ".join(soup.get_text(" ").split())]
    parts += [f"href={a.get('href')}" for a in soup.find_all("a")]
    parts += [f"alt={img.get('alt')}" for img in soup.find_all("img")]
    return "\n".join(parts).encode("utf-8")


def _xlsx_view(path: Path) -> bytes:
    import openpyxl

    wb = openpyxl.load_workbook(path)
    out = []
    for ws in wb.worksheets:
        out.append(f"[{ws.title}] {ws.dimensions}")
        for row in ws.iter_rows():
            out.append("\t".join(f"{c.value!r}|{c.number_format}" for c in row))
    return "\n".join(out).encode("utf-8")


def fingerprint(path: Path) -> str:
    if path.suffix == ".html":
        data = _html_view(path)
    elif path.suffix == ".xlsx":
        data = _xlsx_view(path)
    else:
        data = path.read_bytes()
    return hashlib.sha256(data).hexdigest()


def digest(root: Path) -> dict[str, str]:
    """name relative to root → fingerprint, for data/processed/**.csv and the published
    reports (pages and results.xlsx) of the embedded sample; audit notebooks, manifests (code
    revision, package versions), collection files and the example municipalities are left out."""
    root = Path(root)
    processed, reports = root / "data" / "processed", root / "reports"
    files = sorted(p for p in processed.rglob("*.csv") if "examples" not in p.relative_to(processed).parts)
    files += sorted(p for p in reports.rglob("*") if p.suffix in (".html", ".xlsx")
                    and not {"audit", "collection", "examples"} & set(p.relative_to(reports).parts))
    return {p.relative_to(root).as_posix(): fingerprint(p) for p in files}


def differences(expected: dict[str, str], actual: dict[str, str]) -> list[str]:
    out = [f"нет файла: {k}" for k in sorted(set(expected) - set(actual))]
    out += [f"лишний файл: {k}" for k in sorted(set(actual) - set(expected))]
    out += [f"изменился: {k}" for k in sorted(set(expected) & set(actual)) if expected[k] != actual[k]]
    return out


if __name__ == "__main__":
    if sys.argv[1:] == ["--update"]:
        root = Path(__file__).resolve().parents[1]
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(digest(root), indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"written {GOLDEN} from {root}/data/processed and {root}/reports (run `make report` first)")
    else:
        print(__doc__)
