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


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=ROOT, capture_output=True, text=True)


def test_argparse_speaks_russian():
    proc = _cli("оценка")
    assert proc.returncode == 2
    assert "ошибка" in proc.stderr and "недопустимое значение 'оценка'" in proc.stderr and "использование" in proc.stderr
    assert "invalid choice" not in proc.stderr and "usage" not in proc.stderr
    proc = _cli("verify")
    assert "не указаны обязательные аргументы: --params" in proc.stderr and "required" not in proc.stderr


def test_version_and_every_option_has_help():
    proc = _cli("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("python -m pipeline ")
    parser = cli._parser()
    for action in parser._subparsers._group_actions[0].choices.values():  # noqa: SLF001 - every command
        for opt in action._actions:
            assert opt.help, f"{action.prog} {opt.option_strings or opt.dest}: no help"


def test_stages_are_named_in_russian_or_english():
    assert cli._stage("оценка") == cli._stage("score") == "score"
    assert cli._stage("Отчёт") == cli._stage("отчет") == "report"
    proc = _cli("run", "--all", "--until", "анализ")
    assert proc.returncode == 2 and "неизвестный этап «анализ»" in proc.stderr and "оценка (score)" in proc.stderr
