"""Small synthetic stage notebooks for the runner's tests.

They follow the stage convention (a `parameters` cell with params_file and output_dir, outputs
written into output_dir, earlier outputs read from params.processed_dir) and write every file
of the data contract, with contents that depend on the raw files and the parameters — fast
stand-ins for the real notebooks (no pandas, no Excel).

Raw files are text: one integer per line. A file named bad*.txt is "rejected" (a row in
issues.csv); a line `boom` makes the clean stage fail.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from pipeline.core.contract import OUTPUTS
from pipeline.run.stages import STAGES

PREAMBLE = '''import csv, hashlib
from pathlib import Path
from pipeline.config.params import load_params

params = load_params(params_file)
out = Path(output_dir or params.processed_dir)
out.mkdir(parents=True, exist_ok=True)

def read(name, folder=None):
    with open(Path(folder or params.processed_dir) / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))

def write(name, header, rows):
    with open(out / name, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\\n")
        w.writerow(header)
        w.writerows(rows)
    print(f"Записан {name}: {out / name}")
'''

BODIES = {
    "ingest": '''files = sorted(p for p in Path(params.raw_dir).iterdir() if p.is_file())
statuses = {p.name: ("rejected" if p.name.startswith("bad") else "accepted") for p in files}
write("files.csv", COLUMNS["files.csv"], [
    (p.name, hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_size, "form", statuses[p.name],
     "плохой файл" if statuses[p.name] == "rejected" else "", p.stem, "") for p in files])
rows = []
for p in files:
    if statuses[p.name] != "accepted":
        continue
    for i, line in enumerate(p.read_text(encoding="utf-8").split(), start=1):
        rows.append((p.name, "Кадры", f"C{i}", i, f"P{i}", f"P{i}", line, "int", p.stem))
write("forms.csv", COLUMNS["forms.csv"], rows)
print("Файл параметров:", params.source, "· сырые данные:", params.raw_dir)''',
    "clean": '''forms = read("forms.csv")
if any(r["value"] == "boom" for r in forms):
    raise ValueError("в форме значение boom")
rejected = [r for r in read("files.csv") if r["status"] == "rejected"]
schools = sorted({r["school_code"] for r in forms})
write("checklist.csv", COLUMNS["checklist.csv"], [(s, "M1", 2, "2", "док", "", False, s + ".txt", "C3") for s in schools])
write("staff.csv", COLUMNS["staff.csv"], [(s,) + tuple(range(10)) for s in schools])
write("profile.csv", COLUMNS["profile.csv"], [(s, "Школа " + s, "СОШ", True, s + ".txt", 100, "нет", "нет", "нет", "да", "", "") for s in schools])
write("issues.csv", COLUMNS["issues.csv"], [(r["school_code"], r["file"], "", "", "", "", "form", "error", r["reason"], "файл отклонён") for r in rejected])
for name in ("department_rmo.csv", "department_network.csv", "department_visits.csv"):
    write(name, COLUMNS[name], [])''',
    "score": '''w = params.weights.checklist
totals = {}
for r in read("forms.csv"):
    totals[r["school_code"]] = totals.get(r["school_code"], 0) + int(r["value"])
schools = sorted(totals)
write("scores.csv", COLUMNS["scores.csv"], [(s, "Школа " + s, "ООШ", totals[s], 40, totals[s] * 2.5, 50.0, round(w * totals[s], 6), 1, "средний", "жёлтая", True) for s in schools])
write("positions.csv", COLUMNS["positions.csv"], [(s, "M1", "K1", 2, 2, 2, True) for s in schools])
write("criteria.csv", COLUMNS["criteria.csv"], [(s, "K1", 2, 2, 100.0) for s in schools])
write("targets_school.csv", COLUMNS["targets_school.csv"], [(s, "T3", 30.0, 30.0, "met") for s in schools])
write("targets_municipal.csv", COLUMNS["targets_municipal.csv"], [("T9", 1, len(schools), 1 / max(len(schools), 1), 25.0, False)])''',
    "recommendations": '''scores = read("scores.csv")
write("recommendations.csv", COLUMNS["recommendations.csv"], [(f"R{i}", r["school_code"], "M1", "средний", "Сделайте план") for i, r in enumerate(scores, 1)])
write("decisions.csv", COLUMNS["decisions.csv"], [("D1", "seminar", "M1", ";".join(r["school_code"] for r in scores), "РМО", "октябрь")])
write("followup.csv", COLUMNS["followup.csv"], [])''',
    "report": '''import html
from IPython.display import HTML, display
scores = read("scores.csv")
rows = "".join(f"<tr><td>{html.escape(r['school_code'])}</td><td>{r['total_score']}</td></tr>" for r in scores)
page = f"<html><head><title>Отчёт — {params.year}</title></head><body><h1>{params.year}</h1><table>{rows}</table></body></html>"
display(HTML(page))
(out / "index.html").write_text(page, encoding="utf-8")  # the year's published page
(out / "results.xlsx").write_bytes(b"PK synthetic")
(out / "documents").mkdir(exist_ok=True)
(out / "documents" / "report.pdf").write_bytes(b"%PDF synthetic")
(out / "schools").mkdir(exist_ok=True)
for r in scores:
    (out / "schools" / f"{r['school_code']}.html").write_text(f"<p>{r['total_score']}</p>", encoding="utf-8")
print("Отчёт записан в", out)''',
}


def notebook(stage: str, body: str | None = None) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('params_file = "../params/2026.yaml"\noutput_dir = ""')
    params.metadata["tags"] = ["parameters"]
    columns = {name: list(cols) for name, cols in OUTPUTS.get(stage, {}).items()}
    nb.cells = [
        nbformat.v4.new_markdown_cell(f"# Синтетический этап {stage}"),
        params,
        nbformat.v4.new_code_cell(PREAMBLE + f"COLUMNS = {columns!r}"),
        nbformat.v4.new_code_cell(body if body is not None else BODIES[stage]),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    # fixed cell ids: the notebooks are as stable as the ones kept in git
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{stage}-{i}"
    return nb


def write_notebooks(folder: Path, **bodies: str) -> Path:
    """Write one synthetic notebook per runner stage into folder; bodies override by stage name."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for stage in STAGES:
        nbformat.write(notebook(stage.name, bodies.get(stage.name)), folder / stage.notebook)
    return folder


def write_raw(folder: Path, files: dict[str, str] | None = None) -> Path:
    """A raw folder of small text forms (one integer per line)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (files or {"0101.txt": "3\n4\n", "0102.txt": "5\n1\n", "0103.txt": "2\n2\n"}).items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder
