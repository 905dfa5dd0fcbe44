"""The command line never shows a person a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from pipeline import cli


ROOT = Path(__file__).resolve().parents[1]


def test_unexpected_error_is_one_russian_line_with_a_log(monkeypatch, capsys):
    def boom(*a, **k):
        raise ZeroDivisionError("division by zero")

    from pipeline.report import site

    monkeypatch.setattr(site, "publish", boom)
    code = cli.main(["publish", "--out", "/tmp/nowhere-test"])
    err = capsys.readouterr().err
    assert code == 3
    assert "Непредвиденная ошибка (ZeroDivisionError)" in err
    assert "Traceback" not in err
    log = Path(err.split("сохранены в ")[1].split(";")[0])
    assert "ZeroDivisionError" in log.read_text(encoding="utf-8")
    log.unlink()


def test_known_error_is_one_line_exit_2(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "pipeline", "run", "--params", str(tmp_path / "2031.yaml")],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "2031.yaml" in proc.stderr and "не найден" in proc.stderr


def test_help_is_russian():
    proc = subprocess.run([sys.executable, "-m", "pipeline", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0
    assert "template" in proc.stdout and "записать пустую форму" in proc.stdout
