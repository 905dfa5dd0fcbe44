"""Processed tables are written deterministically, atomically and readable by others."""

from __future__ import annotations

import stat

import pandas as pd

from pipeline.storage import read_table, sha256_file, to_csv_bytes, write_bytes_atomic, write_tables


def test_csv_is_canonical_and_keeps_codes():
    df = pd.DataFrame({"school_code": ["0107", "0012"], "x": [0.1 + 0.2, 1 / 3]})
    data = to_csv_bytes(df)
    assert b"\r" not in data
    assert b"0.30000000000000004" in data  # full precision, round-trips
    assert data == to_csv_bytes(df.copy())


def test_write_tables_roundtrip_and_mode(tmp_path):
    df = pd.DataFrame({"school_code": ["0107"], "value": [1.5]})
    written = write_tables(tmp_path / "out", {"a.csv": df, "b.csv": df})
    assert sorted(written) == ["a.csv", "b.csv"]
    back = read_table(tmp_path / "out", "a.csv")
    assert back.loc[0, "school_code"] == "0107"
    mode = stat.S_IMODE((tmp_path / "out" / "a.csv").stat().st_mode)
    assert mode & stat.S_IROTH, "outputs must be world-readable (published to a web server)"
    assert not list((tmp_path / "out").glob(".*.tmp")), "no temporary files left behind"


def test_failed_write_keeps_previous_outputs(tmp_path):
    good = pd.DataFrame({"a": [1]})
    write_tables(tmp_path, {"a.csv": good})
    before = sha256_file(tmp_path / "a.csv")

    class Boom:  # not a DataFrame: fails while staging, after a.csv was staged
        def to_csv(self, *a, **k):
            raise RuntimeError("boom")

    try:
        write_tables(tmp_path, {"a.csv": pd.DataFrame({"a": [2]}), "z.csv": Boom()})
    except RuntimeError:
        pass
    assert sha256_file(tmp_path / "a.csv") == before
    assert not list(tmp_path.glob(".*.tmp"))


def test_write_bytes_atomic(tmp_path):
    path = write_bytes_atomic(tmp_path / "sub" / "f.txt", b"hello")
    assert path.read_bytes() == b"hello"
    assert stat.S_IMODE(path.stat().st_mode) & stat.S_IRGRP
