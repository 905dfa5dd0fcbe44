"""Load test of ingest: 20,000 files, half valid forms and half junk, read in one process.

    python benchmarks/load.py [--files 20000] [--keep DIR]

The valid half is the sample's year (benchmarks/run.py's generator: forms stamped from one
template); the junk half is damaged and crafted forms (tests/fuzzforms.py: flipped, truncated,
duplicated entries, far cells, bogus relationships, bad encodings…), size bombs (one value in
cell XFD1048576 behind a relationship spelled «worksheets/./sheet1.xml»), random bytes,
empty files and text files named .xlsx. Prints the time and the peak memory of ingest
(load_raw + run: this process and its forked workers, as ru_maxrss) and how many files ended in
each status and rule; exits 1 if a file was neither accepted nor rejected with a rule.
"""

from __future__ import annotations

import argparse
import io
import random
import resource
import sys
import tempfile
import time
import zipfile
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE), str(ROOT / "tests")]

import fuzzforms  # noqa: E402
from run import generate  # noqa: E402

from pipeline.config.methodology import load_methodology  # noqa: E402
from pipeline.config.params import load_params  # noqa: E402
from pipeline.core.rules import RULES  # noqa: E402
from pipeline.stages import ingest  # noqa: E402

BOMB_SHEET = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
              b'<sheetData><row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData></worksheet>')


def bomb(form: bytes) -> bytes:
    """A form whose first sheet's relationship leads the reader to a sheet with a cell at
    XFD1048576 (which the size check must refuse before the reader allocates it)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(form)) as zin, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"/xl/worksheets/sheet1.xml", b"worksheets/./sheet1.xml")
            zout.writestr(info, data)
        zout.writestr("xl/worksheets/./sheet1.xml", BOMB_SHEET)
    return buf.getvalue()


def junk(form: bytes, i: int, rng: random.Random) -> tuple[str, bytes]:
    kind = i % 10
    if kind < 6:
        return f"junk_{i:05d}.xlsx", fuzzforms.mutate(form, 5, i)[1]
    if kind == 6:
        return f"bomb_{i:05d}.xlsx", bomb(form)
    if kind == 7:
        return f"random_{i:05d}.xlsx", rng.randbytes(rng.randrange(0, 20_000))
    if kind == 8:
        return f"empty_{i:05d}.xlsx", b""
    return f"text_{i:05d}.xlsx", "не форма\n".encode() * rng.randrange(1, 100)


def build(root: Path, files: int) -> Path:
    """raw/2026 with files // 2 schools' forms and the rest junk; params/2026.yaml."""
    generate(root, max(1, files // 2), [2026])
    folder = root / "raw" / "2026"
    form = next(p for p in sorted(folder.glob("*.xlsx"))).read_bytes()
    have = sum(1 for p in folder.iterdir() if p.is_file())
    rng = random.Random(2026)
    for i in range(max(0, files - have)):
        name, data = junk(form, i, rng)
        (folder / name).write_bytes(data)
    return root / "params" / "2026.yaml"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--files", type=int, default=20_000)
    ap.add_argument("--keep", type=Path, help="build the raw folder here and keep it")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        t0 = time.perf_counter()
        params = load_params(build(root, args.files))
        built = time.perf_counter() - t0
        methodology = load_methodology(params.methodology)
        t0 = time.perf_counter()
        raw = ingest.load_raw(params)
        loaded = time.perf_counter() - t0
        tables = ingest.run(raw, methodology, params)
        took = time.perf_counter() - t0
        self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        workers_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    files = tables["files.csv"]
    statuses = Counter(files["status"])
    rules = Counter(r for r in files["rule"] if r)
    unexplained = files[(files["status"] == "rejected") & ~files["rule"].isin(list(RULES))]
    print(f"files: {len(files):,} (built in {built:.1f} s)")
    print(f"ingest: {took:.1f} s ({loaded:.1f} s reading the folder), {len(files) / took:,.0f} files/s")
    print(f"peak memory: this process {self_mb:,.0f} MB, largest forked worker {workers_mb:,.0f} MB (ru_maxrss)")
    print("statuses: " + ", ".join(f"{k} {v:,}" for k, v in sorted(statuses.items())))
    print("rules: " + ", ".join(f"{k} {v:,}" for k, v in sorted(rules.items())))
    print(f"rejected without a rule of the table: {len(unexplained)}")
    return 1 if len(unexplained) else 0


if __name__ == "__main__":
    sys.exit(main())
