"""Processed tables are written deterministically, atomically and readable by others."""

from __future__ import annotations

import hashlib
import random
import stat
import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st


from pipeline.io.storage import read_table, sha256_file, to_csv_bytes, write_bytes_atomic, write_tables
from pipeline.fast import csv as fast_csv
from pipeline.io import storage


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


class FailingOs:
    """storage's view of os, with one call failing (a full disk, a folder without rights)."""

    def __init__(self, name, error):
        import os

        self._os, self._name, self._error = os, name, error

    def __getattr__(self, attr):
        if attr == self._name:
            def fail(*args, **kwargs):
                raise self._error
            return fail
        return getattr(self._os, attr)


FAULTS = [("fsync", OSError(28, "No space left on device")), ("replace", PermissionError(13, "Permission denied")),
          ("chmod", OSError(30, "Read-only file system")), ("fdopen", OSError(28, "No space left on device"))]


@pytest.mark.parametrize("name, error", FAULTS, ids=[f[0] for f in FAULTS])
def test_a_failed_write_names_the_file_and_leaves_the_old_one_whole(tmp_path, monkeypatch, name, error):
    path = write_bytes_atomic(tmp_path / "f.txt", b"old")
    write_tables(tmp_path, {"a.csv": pd.DataFrame({"a": [1]})})
    before = (tmp_path / "a.csv").read_bytes()
    monkeypatch.setattr(storage, "os", FailingOs(name, error))
    with pytest.raises(OSError) as info:
        write_bytes_atomic(path, b"new")
    assert info.value.errno == error.errno and info.value.filename == str(path)
    if name != "fdopen":  # write_tables writes through os.fdopen and fsync too
        with pytest.raises(OSError) as info:
            write_tables(tmp_path, {"a.csv": pd.DataFrame({"a": [2]}), "b.csv": pd.DataFrame({"b": [2]})})
        assert info.value.errno == error.errno and info.value.filename
    assert path.read_bytes() == b"old" and (tmp_path / "a.csv").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "f.txt"]  # no .tmp left


# --------------------------------------------------------------------------------------------
# the CSV writer: pandas' bytes, written faster
# --------------------------------------------------------------------------------------------

TRICKY = ["", " ", "a", "Я", ",", '"', '""', "\n", "\r", "\r\n", "x,y", 'он сказал "да"', "\t", "0107", "NA", "nan",
          "ё", "\u2028", "\x85", "'", "  lead", "trail  ", ";", "\\", "#"]


def pandas_bytes(df: pd.DataFrame) -> bytes:
    return fast_csv.plain_csv(df)  # pandas' to_csv of the table with its texts protected


def column(kind: str, n: int, rnd: random.Random) -> pd.Series:
    def text() -> str:
        return "".join(rnd.choice(TRICKY) for _ in range(rnd.randint(0, 3)))

    if kind == "str":
        return pd.Series([text() for _ in range(n)], dtype="str")
    if kind == "str_na":
        return pd.Series([text() if rnd.random() < 0.7 else None for _ in range(n)], dtype="str")
    if kind == "string":
        return pd.Series([text() if rnd.random() < 0.7 else None for _ in range(n)], dtype="string")
    if kind == "object":
        return pd.Series([rnd.choice([text(), None, np.nan, pd.NA]) for _ in range(n)], dtype=object)
    if kind == "object_mixed":
        return pd.Series([rnd.choice([text(), 1, 2.5, True, None]) for _ in range(n)], dtype=object)
    if kind == "int64":
        return pd.Series([rnd.randint(-10**15, 10**15) for _ in range(n)], dtype="int64")
    if kind == "uint8":
        return pd.Series([rnd.randint(0, 255) for _ in range(n)], dtype="uint8")
    if kind == "Int64":
        return pd.Series([rnd.choice([0, -3, 10**12, None]) for _ in range(n)], dtype="Int64")
    if kind == "bool":
        return pd.Series([rnd.random() < 0.5 for _ in range(n)], dtype=bool)
    if kind == "boolean":
        return pd.Series([rnd.choice([True, False, None]) for _ in range(n)], dtype="boolean")
    if kind == "float":
        return pd.Series([rnd.choice([0.1 + 0.2, 1 / 3, 1e16, -0.0, np.nan]) for _ in range(n)])
    raise AssertionError(kind)


KINDS = ["str", "str_na", "string", "object", "object_mixed", "int64", "uint8", "Int64", "bool", "boolean", "float"]


@pytest.mark.parametrize("seed", range(40))
def test_csv_bytes_are_exactly_pandas_bytes(seed):
    rnd = random.Random(seed)
    for _ in range(10):
        n = rnd.choice([0, 1, 2, 7])
        names = [rnd.choice(["a", "b,c", 'q"', "d\ne", "имя", "school_code"]) + str(j) for j in range(rnd.randint(1, 5))]
        df = pd.DataFrame({name: column(rnd.choice(KINDS), n, rnd) for name in names})
        assert storage.to_csv_bytes(df) == pandas_bytes(df), df.dtypes.to_dict()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=6), st.text(alphabet=',"\n\r ab', max_size=6), st.integers(-5, 5)), min_size=1, max_size=6))
def test_csv_quoting_is_the_csv_modules(rows):
    df = pd.DataFrame(rows, columns=["code", "value", "n"])
    assert storage.to_csv_bytes(df) == pandas_bytes(df)


def test_forms_like_tables_take_the_fast_path_and_others_are_left_to_pandas():
    df = pd.DataFrame({"file": ["a.xlsx", "b,c.xlsx"], "row": [4, 5], "score": pd.array([1, None], dtype="Int64"),
                       "ok": [True, False], "flag": pd.array([None, True], dtype="boolean")})
    assert fast_csv._csv_writable(df)
    assert storage.to_csv_bytes(df) == pandas_bytes(df) == b'file,row,score,ok,flag\na.xlsx,4,1,True,\n"b,c.xlsx",5,,False,True\n'
    assert not fast_csv._csv_writable(df.assign(x=[0.5, 1.0]))
    assert not fast_csv._csv_writable(df.assign(x=["a", 1]))
    assert not fast_csv._csv_writable(df[["file"]])  # one column: an empty cell is written as ""
    assert storage.to_csv_bytes(pd.DataFrame({"a": [""]})) == b'a\n""\n'


@pytest.mark.parametrize("parallel_from", [None, 1000])
def test_write_tables_writes_pandas_bytes(tmp_path, monkeypatch, parallel_from):
    """In blocks of rows, and made by forked processes from PARALLEL_CSV_ROWS rows on: the same bytes."""
    rnd = random.Random(7)
    df = pd.DataFrame({k: column(k, 120_001, rnd) for k in ("str_na", "object", "int64", "Int64", "bool", "boolean")})
    if parallel_from:
        monkeypatch.setattr(fast_csv, "PARALLEL_CSV_ROWS", parallel_from)
    assert fast_csv._csv_workers(len(df)) == (1 if parallel_from is None else fast_csv._csv_workers(10**9))
    storage.write_tables(tmp_path, {"t.csv": df})
    assert (tmp_path / "t.csv").read_bytes() == storage.to_csv_bytes(df) == pandas_bytes(df)
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]  # the parts' files are gone


def test_parts_are_copied_without_copy_file_range_too(tmp_path, monkeypatch):
    rnd = random.Random(8)
    df = pd.DataFrame({k: column(k, 5_001, rnd) for k in ("str_na", "object", "int64")})
    monkeypatch.setattr(fast_csv, "PARALLEL_CSV_ROWS", 1000)

    def refuse(*_args):
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(fast_csv.os, "copy_file_range", refuse, raising=False)
    storage.write_tables(tmp_path, {"t.csv": df})
    assert (tmp_path / "t.csv").read_bytes() == pandas_bytes(df)


def test_a_failing_part_leaves_no_files_and_keeps_the_old_table(tmp_path, monkeypatch):
    rnd = random.Random(9)
    df = pd.DataFrame({k: column(k, 5_001, rnd) for k in ("str_na", "int64")})
    storage.write_tables(tmp_path, {"t.csv": df.head(3)})
    old = (tmp_path / "t.csv").read_bytes()
    monkeypatch.setattr(fast_csv, "PARALLEL_CSV_ROWS", 1000)
    real = fast_csv._csv_rows

    def failing(frame, start, stop):
        if start > 0:
            raise RuntimeError("part failed")
        return real(frame, start, stop)

    monkeypatch.setattr(fast_csv, "_csv_rows", failing)  # the forked workers inherit it
    with pytest.raises(RuntimeError, match="part failed"):
        storage.write_tables(tmp_path, {"t.csv": df})
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"] and (tmp_path / "t.csv").read_bytes() == old


# --------------------------------------------------------------------------------------------
# checksums: a file read once is not read again for its sha256, unless it changed
# --------------------------------------------------------------------------------------------


def test_sha256_of_a_file_read_through_read_hashed(tmp_path, monkeypatch):
    path = tmp_path / "f.bin"
    path.write_bytes(b"one")
    monkeypatch.setattr(storage, "SETTLED_NS", 0)  # (a raw file has not changed for a while)
    with open(path, "rb") as fh:
        data, digest = storage.read_hashed(fh)
    assert (data, digest) == (b"one", hashlib.sha256(b"one").hexdigest())
    real = hashlib.sha256
    with monkeypatch.context() as m:
        m.setattr(hashlib, "sha256", lambda *a: pytest.fail("read again"))
        assert storage.sha256_file(path) == digest
    time.sleep(0.05)  # past the file system clock's tick (the race SETTLED_NS guards against)
    path.write_bytes(b"two")  # same size: the change time tells
    assert storage.sha256_file(path) == real(b"two").hexdigest()


def test_a_file_changed_just_before_it_was_read_is_hashed_again(tmp_path, monkeypatch):
    path = tmp_path / "f.bin"
    path.write_bytes(b"fresh")
    with open(path, "rb") as fh:
        _, digest = storage.read_hashed(fh)
    calls = []
    real = hashlib.sha256
    monkeypatch.setattr(hashlib, "sha256", lambda *a: calls.append(1) or real(*a))
    assert storage.sha256_file(path) == digest and calls


def test_preview_of_a_long_table():
    df = pd.DataFrame({"a": range(12_345)})
    shown, note = storage.preview(df, 50, "files.csv")
    assert len(shown) == 50 and "50" in note and "12\u00a0345" in note and "files.csv" in note
    assert storage.preview(df.head(50), 50, "files.csv")[1] is None


def test_raw_score_reads_back_as_text_whatever_the_table_size(tmp_path):
    """A non-number deep in a long score_raw column: pandas would guess per reading chunk
    (numbers in some, text in others, with a DtypeWarning); it is text throughout."""
    import warnings

    n = 300_000
    raw = ["2"] * n
    raw[-1] = "есть"
    write_tables(tmp_path, {"checklist.csv": pd.DataFrame({"school_code": ["0101"] * n, "score_raw": raw})})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        back = read_table(tmp_path, "checklist.csv")
    assert isinstance(back["score_raw"].dtype, pd.StringDtype)
    assert back["score_raw"].iloc[0] == "2" and back["score_raw"].iloc[-1] == "есть"
