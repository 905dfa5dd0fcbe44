"""manifest.json: content, determinism, hashing rules; two runs into different folders agree."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st



from pipeline.core.errors import PipelineError
from pipeline.config.params import load_params
from pipeline.io.storage import sha256_file
from synthetic_stages import write_notebooks, write_raw
from pipeline.run import manifest as mf
from pipeline.run import runner
from pipeline.run import stages as run_stages


@pytest.fixture
def stable_code(monkeypatch):
    monkeypatch.setattr(mf, "source_sha256", lambda package_dir=mf.PACKAGE_DIR: "c0de" * 16)


def _keys(obj, prefix=""):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield f"{prefix}{k}"
            yield from _keys(v, f"{prefix}{k}.")
    elif isinstance(obj, list):
        for v in obj:
            yield from _keys(v, prefix)


# --- after a run ---------------------------------------------------------------------------

def test_manifest_content(tmp_path, make_params, stable_code):
    raw = write_raw(tmp_path / "raw", {"0101.txt": "3\n", "0102.txt": "4\n", "bad.txt": "x\n"})
    notebooks = write_notebooks(tmp_path / "notebooks")
    params = load_params(make_params(raw_dir=raw))
    runner.run_year(params, notebooks_dir=notebooks, stages=run_stages.stages_until("clean"))
    path = params.reports_dir / "manifest.json"
    data = json.loads(path.read_text(encoding="utf-8"))

    assert path.read_bytes() == mf.dumps(data)  # canonical: sorted keys, fixed layout
    assert not [k for k in _keys(data) if any(w in k.lower() for w in ("time", "duration", "run_at"))]
    assert data["year"] == 2026 and data["parameters"] == params.as_dict()
    assert data["params_file"] == {"path": str(params.source), "sha256": sha256_file(params.source)}
    assert data["methodology"]["sha256"] == sha256_file(params.methodology)
    raw_files = {r["file"]: r for r in data["raw_files"]}
    assert set(raw_files) == {"0101.txt", "0102.txt", "bad.txt"}
    assert raw_files["bad.txt"]["status"] == "rejected" and raw_files["0101.txt"]["status"] == "accepted"
    assert raw_files["0101.txt"]["sha256"] == sha256_file(raw / "0101.txt")
    assert set(data["code"]) == {"revision", "dirty", "pipeline_sha256"}
    assert data["environment"]["python"].startswith("3.")
    for name in ("pandas", "matplotlib", "papermill", "nbconvert", "openpyxl", "python-calamine", "pydantic"):
        assert data["environment"]["packages"][name]
    assert [s["name"] for s in data["stages"]] == ["ingest", "clean"]
    for stage in data["stages"]:
        assert mf.path_for(params, stage["executed_notebook"]).is_file()
        assert mf.path_for(params, stage["executed_html"]).is_file()
        assert stage["notebook_sha256"] == sha256_file(notebooks / Path(stage["notebook"]).name)
    assert "processed_dir/issues.csv" in data["stages"][1]["outputs"]
    for key, entry in data["outputs"].items():
        assert entry["sha256"] == sha256_file(mf.path_for(params, key))
        assert ("sha256_normalized" in entry) == key.startswith("reports_dir/")
    assert "reports_dir/audit/02_clean.ipynb" in data["outputs"]
    assert "reports_dir/manifest.json" not in data["outputs"]


def test_manifest_lists_computed_raw_files_without_files_csv(tmp_path, make_params):
    raw = write_raw(tmp_path / "raw", {"a.txt": "1\n"})
    (raw / "sub").mkdir()
    (raw / "sub" / "b.txt").write_text("2\n", encoding="utf-8")
    params = load_params(make_params(raw_dir=raw))
    listed = mf.raw_files(params)
    assert [r["file"] for r in listed] == ["a.txt", "sub/b.txt"]
    assert all(r["status"] is None and len(r["sha256"]) == 64 for r in listed)


# --- hashing rules -------------------------------------------------------------------------

def test_normalized_hash_ignores_the_run_folders(tmp_path, make_params):
    a = load_params(make_params())
    b = a.model_copy(update={"processed_dir": tmp_path / "elsewhere" / "p", "reports_dir": tmp_path / "elsewhere" / "r",
                             "source": tmp_path / "elsewhere" / "2026.yaml"})
    fa, fb = tmp_path / "a.html", tmp_path / "b.html"
    fa.write_text(f"<p>{a.processed_dir}/.staging/x.csv {a.source} at 0x7f12ab34cd56</p>", encoding="utf-8")
    fb.write_text(f"<p>{b.processed_dir}/.staging/x.csv {b.source} at 0x7f99aa00bb11</p>", encoding="utf-8")
    assert sha256_file(fa) != sha256_file(fb)
    assert mf.normalized_sha256(fa, mf.placeholders(a)) == mf.normalized_sha256(fb, mf.placeholders(b))
    fb.write_text(f"<p>{b.processed_dir}/.staging/y.csv {b.source}</p>", encoding="utf-8")
    assert mf.normalized_sha256(fa, mf.placeholders(a)) != mf.normalized_sha256(fb, mf.placeholders(b))
    assert mf.normalized_sha256(tmp_path / "x.png", []) is None


def test_normalized_hash_of_excel_ignores_creation_time(tmp_path):
    from openpyxl import Workbook

    hashes = []
    for i, when in enumerate((dt.datetime(2026, 6, 1, 10), dt.datetime(2026, 6, 2, 11))):
        wb = Workbook()
        wb.active["A1"] = "Школа"
        wb.properties.created = wb.properties.modified = when
        wb.save(tmp_path / f"{i}.xlsx")
        hashes.append(mf.normalized_sha256(tmp_path / f"{i}.xlsx", []))
    assert hashes[0] == hashes[1]
    wb = Workbook()
    wb.active["A1"] = "Другая школа"
    wb.save(tmp_path / "2.xlsx")
    assert mf.normalized_sha256(tmp_path / "2.xlsx", []) != hashes[0]


def test_compare_outputs_and_flatten():
    expected = {"processed_dir/a.csv": {"sha256": "1"}, "reports_dir/i.html": {"sha256": "2", "sha256_normalized": "n"},
                "processed_dir/gone.csv": {"sha256": "3"}}
    actual = {"processed_dir/a.csv": {"sha256": "9"}, "reports_dir/i.html": {"sha256": "8", "sha256_normalized": "n"},
              "processed_dir/new.csv": {"sha256": "4"}}
    assert mf.compare_outputs(expected, actual) == {
        "differ": ["processed_dir/a.csv"], "missing": ["processed_dir/gone.csv"], "extra": ["processed_dir/new.csv"]}
    assert mf.flatten({"a": {"b": 1, "c": {"d": 2}}, "e": [1]}) == {"a.b": 1, "a.c.d": 2, "e": [1]}


def test_location_keys(tmp_path, make_params):
    params = load_params(make_params())
    path = params.reports_dir / "schools" / "0101.html"
    assert mf.key_for(params, path) == "reports_dir/schools/0101.html"
    assert mf.path_for(params, "reports_dir/schools/0101.html") == path
    with pytest.raises(ValueError):
        mf.key_for(params, tmp_path / "outside.csv")


def test_code_revision_without_git(tmp_path):
    assert mf.code_revision(tmp_path) == {"revision": None, "dirty": None}
    here = mf.code_revision()
    assert here["revision"] is None or len(here["revision"]) == 40


def test_source_hash_covers_the_package(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("x = 1\n")
    first = mf.source_sha256(tmp_path / "pkg")
    (tmp_path / "pkg" / "__pycache__").mkdir()
    (tmp_path / "pkg" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    assert mf.source_sha256(tmp_path / "pkg") == first
    (tmp_path / "pkg" / "a.py").write_text("x = 2\n")
    assert mf.source_sha256(tmp_path / "pkg") != first


def test_reading_a_missing_manifest_says_what_to_do(make_params):
    params = load_params(make_params())
    with pytest.raises(PipelineError, match="pipeline run --params"):
        mf.read(params)


# --- determinism -------------------------------------------------------------------------

@pytest.mark.slow
def test_two_runs_into_different_folders_agree(tmp_path, make_params, stable_code):
    from conftest import write_params

    raw = write_raw(tmp_path / "raw")
    notebooks = write_notebooks(tmp_path / "notebooks")
    manifests = []
    for folder in ("a", "b"):
        params = load_params(write_params(tmp_path / folder, 2026, raw_dir=raw))
        runner.run_year(params, notebooks_dir=notebooks)
        manifests.append((params, json.loads((params.reports_dir / "manifest.json").read_text(encoding="utf-8"))))
    (pa, ma), (pb, mb) = manifests
    assert ma["outputs"].keys() == mb["outputs"].keys()
    for key in ma["outputs"]:
        if key.startswith("processed_dir/"):
            assert mf.path_for(pa, key).read_bytes() == mf.path_for(pb, key).read_bytes(), key
        else:   # texts compared without the folders they name; binary documents byte for byte
            field = "sha256_normalized" if "sha256_normalized" in ma["outputs"][key] else "sha256"
            assert ma["outputs"][key][field] == mb["outputs"][key][field], key
    # the audit copies differ only by the folders they name
    nb_a = (pa.reports_dir / "audit" / "02_clean.ipynb").read_bytes()
    nb_b = (pb.reports_dir / "audit" / "02_clean.ipynb").read_bytes()
    assert nb_a != nb_b
    assert mf.normalize_bytes(nb_a, mf.placeholders(pa, notebooks)) == mf.normalize_bytes(nb_b, mf.placeholders(pb, notebooks))
    assert [s["input_key"] for s in ma["stages"]] != [] and ma["raw_files"] == mb["raw_files"]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200) | st.text(alphabet=" \t\nab0x1f", max_size=200).map(str.encode))
def test_normalize_bytes_collapses_spaces_as_the_regular_expression_would(data):
    """The fast collapse of spaces and tabs is exactly re.sub(rb"[ \\t]+", b" ")."""
    import re

    subst = [(b"/tmp/run", b"{reports_dir}")]
    expected = data.replace(b"/tmp/run", b"{reports_dir}")
    expected = re.sub(rb"[ \t]+", b" ", re.sub(rb"0x[0-9a-fA-F]{6,16}", b"0x?", expected))
    assert mf.normalize_bytes(data, subst) == expected


# --- the manifest describes the bytes parsed -------------------------------------------------

def test_manifest_hash_is_of_the_bytes_ingest_parsed_even_if_the_form_is_replaced(tmp_path, make_params):
    """A form replaced on disk after ingest read it (between ingest and the manifest's
    writing): the manifest keeps the sha256 of the bytes parsed (files.csv), and says what is
    on disk now; verify then names the file as changed."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from formbuilder import form_bytes, good_values, raw_folder

    from pipeline.config.methodology import load_methodology
    from pipeline.io.storage import sha256_bytes, write_tables
    from pipeline.stages import ingest

    m = load_methodology(Path(__file__).resolve().parents[1] / "methodology" / "default.yaml")
    parsed = form_bytes(m, good_values(m))
    raw = raw_folder(tmp_path / "raw", {"0107.xlsx": parsed})
    params = load_params(make_params(raw_dir=raw))
    write_tables(params.processed_dir, ingest.run(ingest.load_raw(params), m, params))
    later = form_bytes(m, good_values(m, code="0108"))
    (raw / "0107.xlsx.new").write_bytes(later)
    (raw / "0107.xlsx.new").replace(raw / "0107.xlsx")  # replaced, as a copy over the network does

    entries = {r["file"]: r for r in mf.raw_files(params)}
    with open(params.processed_dir / "files.csv", encoding="utf-8", newline="") as fh:
        files_csv = {r["file"]: r["sha256"] for r in csv.DictReader(fh)}
    assert entries["0107.xlsx"]["sha256"] == files_csv["0107.xlsx"] == sha256_bytes(parsed)
    assert entries["0107.xlsx"]["sha256_on_disk"] == sha256_bytes(later)
    assert "sha256_on_disk" not in entries["registry.csv"]
    manifest = {"raw_files": list(entries.values())}
    assert any("0107.xlsx" in line for line in mf.input_changes(manifest, params, {}))
