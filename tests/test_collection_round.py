"""One collection round, end to end: forms out, some returned in each format with mistakes,
`status`, feedback letters, corrected forms in, `status` again, the year's run."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from formbuilder import form_bytes, good_values, xlsx

from pipeline.config.methodology import load_methodology
from pipeline.config.params import load_params

ROOT = Path(__file__).resolve().parents[1]
SOFFICE = shutil.which("soffice")


def cli(*args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=900, env=env)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, (proc.stdout + proc.stderr)[-3000:]
    return proc.stdout


def resave(data: bytes, fmt: str, work: Path) -> bytes:
    """A form as LibreOffice re-saves it in another format."""
    src = work / "in.xlsx"
    src.write_bytes(data)
    subprocess.run([SOFFICE, "--headless", f"-env:UserInstallation=file://{work / 'lo-profile'}", "--convert-to", fmt,
                    "--outdir", str(work / fmt), str(src)], check=True, capture_output=True, timeout=180)
    return (work / fmt / f"in.{fmt}").read_bytes()


def status_of(params) -> pd.DataFrame:
    return pd.read_csv(Path(params.reports_dir) / "collection" / "status.csv", dtype=str, keep_default_na=False)


@pytest.mark.slow
@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) не установлен: формы .ods/.xls не создать")
def test_one_collection_round(tmp_path, make_params):
    m = load_methodology(ROOT / "methodology" / "default.yaml")
    raw = tmp_path / "raw"
    raw.mkdir()
    # the registry as the department keeps it: Excel, Russian headers, e-mails, codes that lost their zeros
    (raw / "registry.xlsx").write_bytes(xlsx({"Реестр": [
        ["Код ОО", "Наименование ОО", "Тип ОО", "E-mail", "Руководитель"],
        [107, "МБОУ СОШ № 7", "СОШ", "s7@edu.ru", "Иванова И. И."],
        [108, "МБОУ СОШ № 8", "СОШ", "s8@edu.ru", "Петров П. П."],
        [201, "МКОУ ООШ № 1", "ООШ", "o1@edu.ru", "Сидорова С. С."],
        [202, "МКОУ ООШ № 2", "ООШ", "o2@edu.ru", "Козлов К. К."]]}))
    params = load_params(make_params(raw_dir=raw, code_width=4, collection={"deadline": "2026-05-15"}))
    cli("forms", "--params", str(params.source))
    assert (Path(params.reports_dir) / "collection" / "forms" / "forms.zip").is_file()

    def filled(code: str, **over) -> bytes:
        name = {"0107": "МБОУ СОШ № 7", "0108": "МБОУ СОШ № 8", "0201": "МКОУ ООШ № 1", "0202": "МКОУ ООШ № 2"}[code]
        kind = "СОШ" if code.startswith("01") else "ООШ"
        return form_bytes(m, good_values(m, code, info__school_name=name, info__school_type=kind, **over))

    work = tmp_path / "lo"
    work.mkdir()
    (raw / "0107.xlsx").write_bytes(filled("0107"))
    (raw / "0108.ods").write_bytes(resave(filled("0108", staff__P0="сорок"), "ods", work))       # a mistake
    (raw / "0201.xls").write_bytes(resave(filled("0201"), "xls", work))
    (raw / "0202.xlsx").write_bytes(filled("0202", staff__P1="=2*4"))                             # formula, no value
    out = cli("status", "--params", str(params.source))
    assert "0108" in out and "принята с замечаниями" in out
    st = status_of(params).set_index("school_code")
    assert st.loc["0107", "state"] == "accepted" and st.loc["0201", "state"] == "accepted"
    assert st.loc["0108", "state"] == "accepted_with_issues" and st.loc["0202", "state"] == "accepted_with_issues"
    letters = Path(params.reports_dir) / "collection" / "feedback"
    assert "Лист «Кадры», ячейка C4" in (letters / "0108.txt").read_text(encoding="utf-8")
    assert "формула" in (letters / "0202.txt").read_text(encoding="utf-8")
    reminders = pd.read_csv(letters.parent / "reminders.csv", dtype=str, keep_default_na=False)
    assert set(reminders["email"]) == {"s8@edu.ru", "o2@edu.ru"} and "Иванова" not in reminders.to_csv()

    # corrected forms come in, filled later
    (raw / "0108_испр.xlsx").write_bytes(filled("0108", info__filled_date=dt.date(2026, 5, 20)))
    (raw / "0202_испр.ods").write_bytes(resave(filled("0202", info__filled_date=dt.date(2026, 5, 10)), "ods", work))
    cli("status", "--params", str(params.source))
    st = status_of(params)
    now = st.set_index("file")
    assert now.loc["0108_испр.xlsx", "state"] == "accepted" and now.loc["0108_испр.xlsx", "late"] == "да"
    assert now.loc["0108.ods", "state"] == "superseded" and now.loc["0202_испр.ods", "state"] == "accepted"
    assert sorted(p.name for p in letters.iterdir()) == []

    # the year's run: every school scored, the registry repair reported, the collection folder not published
    cli("run", "--params", str(params.source), "--quiet")
    profile = pd.read_csv(Path(params.processed_dir) / "profile.csv", dtype={"school_code": str})
    assert profile["submitted"].all() and profile["school_code"].tolist() == ["0107", "0108", "0201", "0202"]
    issues = pd.read_csv(Path(params.processed_dir) / "issues.csv", dtype=str, keep_default_na=False)
    assert (issues["rule"] == "registry.code_repaired").sum() == 1
    publish = tmp_path / "site"
    cli("publish", "--reports", str(Path(params.reports_dir).parent), "--out", str(publish))
    assert not list(publish.rglob("collection")) and not [p for p in publish.rglob("*") if "@edu.ru" in p.name]
