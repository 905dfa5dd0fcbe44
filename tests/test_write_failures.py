"""A full disk or a folder without rights while a year runs: a Russian message naming the
path and what to do (exit 2, not an unexpected error), no temporary file left, the previous
manifest whole; the next run completes."""

from __future__ import annotations

import json
import os
from types import SimpleNamespace

import pytest

from pipeline import cli
from pipeline.io import storage
from pipeline.run import manifest as mf
from synthetic_stages import write_notebooks, write_raw


@pytest.fixture
def stable_code(monkeypatch):
    monkeypatch.setattr(mf, "source_sha256", lambda package_dir=mf.PACKAGE_DIR: "c0de" * 16)


class FaultyOs:
    """storage's view of os: in this process (not in a kernel), the n-th call of `name` fails."""

    def __init__(self, name: str, n: int, error: OSError):
        self.name, self.n, self.error, self.calls, self.pid = name, n, error, 0, os.getpid()

    def __getattr__(self, attr):
        real = getattr(os, attr)
        if attr != self.name:
            return real

        def call(*args, **kwargs):
            if os.getpid() == self.pid:
                self.calls += 1
                if self.calls == self.n:
                    raise self.error
            return real(*args, **kwargs)
        return call


def _leftovers(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.name.endswith(".tmp") or ".staging" in p.parts)


FAULTS = [
    ("fsync", 1, OSError(28, "No space left on device"), "нет свободного места"),   # the first audit notebook
    ("fsync", 3, OSError(28, "No space left on device"), "нет свободного места"),   # the year's state
    ("replace", 6, PermissionError(13, "Permission denied"), "нет прав на запись"),
    ("fsync", 16, OSError(28, "No space left on device"), "нет свободного места"),  # later: manifest, site index
]


@pytest.mark.parametrize("name, n, error, words", FAULTS, ids=[f"{f[0]}-{f[1]}" for f in FAULTS])
def test_a_write_that_fails_is_told_and_leaves_nothing_half_written(tmp_path, make_params, stable_code, monkeypatch,
                                                                   capsys, name, n, error, words):
    raw = write_raw(tmp_path / "raw")
    notebooks = write_notebooks(tmp_path / "notebooks")
    params = make_params(raw_dir=raw)
    base = ["run", "--params", str(params), "--notebooks", str(notebooks), "--quiet"]
    assert cli.main(base) == 0
    manifest = tmp_path / "reports" / "2026" / "manifest.json"
    before = manifest.read_bytes()
    capsys.readouterr()
    fault = FaultyOs(name, n, error)
    monkeypatch.setattr(storage, "os", fault)
    code = cli.main(base + ["--force"])
    err = capsys.readouterr().err
    assert fault.calls >= n, "the fault was never reached"
    assert code == 2, err
    assert words in err and "Непредвиденная" not in err and str(tmp_path) in err
    assert "выполните запуск снова" in err
    assert _leftovers(tmp_path) == []
    json.loads(manifest.read_text(encoding="utf-8"))  # whole
    assert manifest.read_bytes() == before or n == 16
    monkeypatch.setattr(storage, "os", os)
    assert cli.main(base) == 0
    assert _leftovers(tmp_path) == []
