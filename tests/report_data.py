"""A small but complete processed monitoring history, hand-built in the shapes of
pipeline/core/contract.py, for the report, site and Excel tests.

Nine registry schools in three clusters over two years (2025, 2026). It carries what the
published pages must get right: a school without a form, a school with fewer than five young
teachers (S7 suppressed) and one with fewer than five teachers in all, a rejected and a
superseded file, data issues, personal data (`responsible`), and — with hostile=True — strings
from forms that try to become markup, a script link or an Excel formula.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pandas as pd
import yaml

from pipeline.config.targets import NO_DEPARTMENT
from pipeline.core.contract import OUTPUTS
from pipeline.config.methodology import load_methodology
from pipeline.io.storage import write_tables

ROOT = Path(__file__).resolve().parents[1]
METHODOLOGY = ROOT / "methodology" / "default.yaml"

RESPONSIBLE = "Иванова Мария Петровна"
HOSTILE_SCRIPT = "<script>alert(1)</script>"
HOSTILE_LINK = "javascript:alert(1)"
HOSTILE_FORMULA = '=HYPERLINK("http://x")'

# code, name, type, pupils, P0, P7 (young teachers)
SCHOOLS = [
    ("001", "МБОУ СОШ № 1", "СОШ", 820, 64, 9),
    ("002", "МБОУ «Гимназия № 2»", "Гимназия", 640, 52, 7),
    ("003", "МБОУ «Лицей № 3»", "Лицей", 560, 47, 6),
    ("004", "МБОУ СОШ № 4", "СОШ", 430, 35, 6),
    ("005", "МБОУ «Центр образования № 5»", "ЦО", 300, 28, 3),
    ("006", "МБОУ СОШ № 6 им. А. С. Пушкина", "СОШ", 210, 19, 5),
    ("007", "МБОУ ООШ № 7", "ООШ", 120, 12, 2),
    ("008", "МБОУ НОШ № 8", "НОШ", 60, 4, 1),
    ("009", "МБОУ ООШ № 9", "ООШ", 90, 9, 0),
]
NOT_SUBMITTED = {2026: {"009"}, 2025: {"007"}}


def _cluster(kind: str, pupils: int) -> str:
    if kind in ("ООШ", "НОШ"):
        return "ООШ"
    return "СОШ>500" if pupils > 500 else "СОШ≤500"


def build_year(year: int, *, hostile: bool = False) -> dict[str, pd.DataFrame]:
    """Every processed table of one year, as the stages would write them."""
    meth = load_methodology(METHODOLOGY)
    rng = random.Random(year * 7 + 3)
    skip = NOT_SUBMITTED.get(year, set())
    bonus = 1 if year == 2026 else 0
    files, profile, staff, checklist, positions, criteria, issues = [], [], [], [], [], [], []
    scores, tschool = [], []
    files.append({"file": "registry.csv", "sha256": "0" * 64, "size_bytes": 512, "kind": "registry",
                  "status": "registry", "reason": "", "school_code": "", "filled_date": ""})
    for i, (code, name, kind, pupils, p0, p7) in enumerate(SCHOOLS):
        submitted = code not in skip
        fname = f"{code}_{year}.xlsx"
        profile.append({
            "school_code": code, "school_name": name, "school_type": kind, "submitted": submitted,
            "file": fname if submitted else "", "pupils": pupils,
            "innovation_site": i % 3 == 0, "low_results": code in ("006", "007"),
            "low_results_support": code == "006", "staffing_monitoring": i % 4 != 1,
            "responsible": RESPONSIBLE if code == "004" else f"Петров{i} Пётр", "filled_date": f"{year}-05-1{i % 9}",
        })
        if not submitted:
            continue
        files.append({"file": fname, "sha256": f"{i:064x}", "size_bytes": 9000 + i, "kind": "form",
                      "status": "accepted", "reason": "", "school_code": code, "filled_date": f"{year}-05-1{i % 9}"})
        p = {"P0": p0, "P7": p7}
        for k in ("P1", "P2", "P4", "P5", "P6", "P9"):
            p[k] = rng.randint(0, p0)
        p["P3"] = rng.randint(0, p["P2"])
        p["P8"] = rng.randint(0, p7) if code != "001" else p7
        p["P5"] = max(p["P5"], p0 // 3)
        staff.append({"school_code": code, **{f"P{j}": p[f"P{j}"] for j in range(10)}})
        crit_pts: dict[str, list[int]] = {}
        for j, pos in enumerate(meth.positions):
            claimed = min(2, max(0, (2 - (i % 4) // 2 + rng.randint(-1, 1) + bonus) if j % 5 else rng.randint(0, 2)))
            doc = f"Приказ № {10 + j} от 01.09.{year - 1}" if claimed else ""
            link = f"https://school{code}.example.ru/metod/{pos.code}" if claimed else ""
            if claimed and j == 3 and code == "006":
                doc = ""  # a claim without a document: counts 0, «не подтверждено»
            if hostile and code == "004" and j == 0:
                doc, link, claimed = HOSTILE_FORMULA, HOSTILE_LINK, 2
            if hostile and code == "004" and j == 1:
                doc, claimed = HOSTILE_SCRIPT, 2
            confirmed = bool(doc) if claimed else None
            pts = claimed if confirmed else 0
            checklist.append({"school_code": code, "position": pos.code, "score": claimed, "score_raw": str(claimed),
                              "document": doc, "link": link, "link_ok": link.startswith("http"),
                              "file": fname, "cell": f"C{j + 2}"})
            positions.append({"school_code": code, "position": pos.code, "criterion": pos.criterion,
                              "claimed": claimed, "points": pts, "max_points": pos.max_points, "confirmed": confirmed})
            crit_pts.setdefault(pos.criterion, []).append(pts)
        for c in meth.criteria:
            pts = crit_pts.get(c.code, [])
            mx = 2 * len(pts)
            criteria.append({"school_code": code, "criterion": c.code, "points": sum(pts), "max_points": mx,
                             "pct": sum(pts) * 100 / mx if mx else None})
        tot = sum(sum(v) for v in crit_pts.values())
        scores.append({"school_code": code, "school_name": name, "cluster": _cluster(kind, pupils),
                       "checklist_points": tot, "checklist_max": 40, "checklist_pct": tot * 100 / 40,
                       "_s": [p[f"P{k}"] * 100 / p0 for k in range(1, 6)]})
        for t in meth.targets:
            if "school" not in t.scope:
                continue
            tv = 100 if t.code == "T1" and year == 2026 else 75 if t.code == "T1" else {"T2": 100, "T3": 30, "T4": 100, "T7": 1, "T8": 100}[t.code]
            if t.code in ("T1", "T3", "T4"):
                num, den = {"T1": ("P6", "P0"), "T3": ("P5", "P0"), "T4": ("P8", "P7")}[t.code]
                value = p[num] * 100 / p[den] if p[den] else None
                status = "not_applicable" if value is None else ("met" if value >= tv else "not_met")
            elif t.code == "T2":
                value = 100.0 if profile[-1]["staffing_monitoring"] else 0.0
                status = "met" if value else "not_met"
            elif t.code == "T7":
                value = float(p["P9"])
                status = "met" if value >= 1 else "not_met"
            else:
                value = 100.0 if profile[-1]["low_results_support"] else 0.0
                status = ("met" if value else "not_met") if profile[-1]["low_results"] else "not_applicable"
            tschool.append({"school_code": code, "target": t.code, "value": value, "target_value": tv, "status": status})
    # activity index (min-max within cluster), total, rank, level
    by_cluster: dict[str, list[dict]] = {}
    for s in scores:
        by_cluster.setdefault(s["cluster"], []).append(s)
    for members in by_cluster.values():
        scaled = []
        for k in range(5):
            vals = [m["_s"][k] for m in members]
            lo, hi = min(vals), max(vals)
            scaled.append([(v - lo) / (hi - lo) if hi > lo else (1.0 if hi > 0 else 0.0) for v in vals])
        for n, m in enumerate(members):
            m["activity_index"] = sum(col[n] for col in scaled) / 5 * 100
            m["total_score"] = 0.5 * m["checklist_pct"] + 0.5 * m["activity_index"]
        ordered = sorted(members, key=lambda m: -m["total_score"])
        for m in members:
            m["rank_in_cluster"] = 1 + sum(1 for o in ordered if o["total_score"] > m["total_score"])
    for s in scores:
        s.pop("_s")
        t = s["total_score"]
        s["level"], s["zone"] = ("высокий", "зелёная") if t >= 75 else ("средний", "жёлтая") if t >= 50 else ("низкий", "красная")
        s["submitted"] = True
    for code, name, kind, pupils, *_ in SCHOOLS:
        if code in skip:
            scores.append({"school_code": code, "school_name": name, "cluster": _cluster(kind, pupils),
                           "level": "нет данных", "submitted": False})
            for t in meth.targets:
                if "school" in t.scope:
                    tschool.append({"school_code": code, "target": t.code, "value": None,
                                    "target_value": 1 if t.code == "T7" else 100, "status": "not_submitted"})
    scores.sort(key=lambda s: s["school_code"])
    files.append({"file": f"школа_без_кода_{year}.xlsx", "sha256": "f" * 64, "size_bytes": 100, "kind": "form",
                  "status": "rejected", "reason": "код ОО «999» не найден в реестре", "school_code": "", "filled_date": ""})
    files.append({"file": f"002_{year}_old.xlsx", "sha256": "e" * 64, "size_bytes": 9100, "kind": "form",
                  "status": "superseded", "reason": "есть более поздняя форма школы", "school_code": "002",
                  "filled_date": f"{year}-04-01"})
    issues += [
        {"school_code": "", "file": f"школа_без_кода_{year}.xlsx", "sheet": "", "cell": "", "field": "",
         "value": "", "rule": "unknown_school", "severity": "error", "message": "Код ОО «999» не найден в реестре",
         "action": "форма отклонена"},
        {"school_code": "003", "file": f"003_{year}.xlsx", "sheet": "Кадры", "cell": "C5", "field": "P3",
         "value": "12", "rule": "P3<=P2", "severity": "warning", "message": "P3 больше P2", "action": "значение принято"},
        {"school_code": "006", "file": f"006_{year}.xlsx", "sheet": "Показатели", "cell": "D5", "field": "M2",
         "value": "", "rule": "evidence", "severity": "warning", "message": "Балл без подтверждающего документа",
         "action": "засчитано 0 баллов"},
        {"school_code": "004", "file": f"004_{year}.xlsx", "sheet": "Сведения", "cell": "B11", "field": "responsible",
         "value": RESPONSIBLE, "rule": "format", "severity": "warning", "message": f"Ответственный: «{RESPONSIBLE}»",
         "action": "значение принято"},
    ]
    if hostile:
        issues.append({"school_code": "004", "file": f"004_{year}.xlsx", "sheet": "Кадры", "cell": "C3", "field": "P1",
                       "value": HOSTILE_FORMULA, "rule": "number", "severity": "error",
                       "message": f"Не число: {HOSTILE_SCRIPT}", "action": "значение не использовано"})
    # recommendations
    recs = []
    for r in positions:
        if r["points"] < r["max_points"]:
            pr = "высокий" if r["points"] == 0 else "средний"
            pos = meth.position(r["position"])
            recs.append({"recommendation_id": f"{r['school_code']}:{r['position']}", "school_code": r["school_code"],
                         "indicator_code": r["position"], "priority": pr, "text": pos.recommendation})
    for r in tschool:
        if r["status"] == "not_met":
            t = next(t for t in meth.targets if t.code == r["target"])
            recs.append({"recommendation_id": f"{r['school_code']}:{r['target']}", "school_code": r["school_code"],
                         "indicator_code": r["target"], "priority": "высокий", "text": t.recommendation})
    recs.sort(key=lambda r: (r["school_code"], r["priority"] != "высокий"))
    decisions = [
        {"decision_id": "seminar:M7", "kind": "seminar", "topic": meth.position("M7").recommendation,
         "schools": "001;004;006", "responsible": "Руководители РМО", "due": f"октябрь {year}"},
        {"decision_id": "visit:006", "kind": "visit", "topic": "Методический выезд: уровень «низкий»",
         "schools": "006", "responsible": "Методисты ИМЦ", "due": f"сентябрь–ноябрь {year}"},
        {"decision_id": f"request:{sorted(skip)[0]}", "kind": "request", "topic": "Запросить форму мониторинга",
         "schools": sorted(skip)[0], "responsible": "Методисты ИМЦ", "due": f"сентябрь {year}"},
    ]
    followup = []
    if year == 2026:
        statuses = ["устранён", "улучшение", "без изменений", "ухудшение", "нет данных"]
        prev = build_year(2025, hostile=False)["recommendations.csv"]
        for n, r in enumerate(prev.itertuples()):
            followup.append({"recommendation_id": r.recommendation_id, "school_code": r.school_code,
                             "indicator_code": r.indicator_code,
                             "status": "нет данных" if r.school_code in skip else statuses[(n * 7) % 4]})
    tm = []
    for t in meth.targets:
        if "municipal" not in t.scope:
            continue
        sub = [s for s in staff]
        if t.kind.municipal_only:  # the department's data: this synthetic year has no department.xlsx
            tm.append({"target": t.code, "numerator": None, "denominator": None, "value": None, "target_value": 100,
                       "met": None, "note": NO_DEPARTMENT})
            continue
        if t.code in ("T1", "T3", "T4"):
            num, den = {"T1": ("P6", "P0"), "T3": ("P5", "P0"), "T4": ("P8", "P7")}[t.code]
            a, b = sum(s[num] for s in sub), sum(s[den] for s in sub)
            goal = 100 if t.code == "T1" and year == 2026 else 75 if t.code == "T1" else {"T3": 30, "T4": 100}[t.code]
        else:
            field = {"T2": "staffing_monitoring", "T7": None, "T8": "low_results_support", "T9": "innovation_site"}[t.code]
            subm = [p for p in profile if p["submitted"]]
            if t.code == "T7":
                a, b = sum(1 for s in sub if s["P9"] >= 1), len(sub)
            elif t.code == "T8":
                conc = [p for p in subm if p["low_results"]]
                a, b = sum(1 for p in conc if p["low_results_support"]), len(conc)
            else:
                a, b = sum(1 for p in subm if p[field]), len(subm)
            goal = 25 if t.code == "T9" else 100
        v = a * 100 / b if b else None
        tm.append({"target": t.code, "numerator": a, "denominator": b, "value": v, "target_value": goal,
                   "met": None if v is None else v >= goal})
    forms = pd.DataFrame(
        [{"file": c["file"], "sheet": "Показатели", "cell": c["cell"], "row": 2, "field": c["position"], "label": c["position"],
          "value": c["score_raw"], "value_type": "int", "school_code": c["school_code"]} for c in checklist])

    def frame(rows: list[dict], stage: str, name: str) -> pd.DataFrame:
        cols = list(OUTPUTS[stage][name])
        df = pd.DataFrame(rows)
        for c in cols:
            if c not in df.columns:
                df[c] = None
        return df[cols + [c for c in df.columns if c not in cols]]

    return {
        "forms.csv": frame(forms.to_dict("records"), "ingest", "forms.csv"),
        "files.csv": frame(files, "ingest", "files.csv"),
        "checklist.csv": frame(checklist, "clean", "checklist.csv"),
        "staff.csv": frame(staff, "clean", "staff.csv"),
        "profile.csv": frame(profile, "clean", "profile.csv"),
        "issues.csv": frame(issues, "clean", "issues.csv"),
        "scores.csv": frame(scores, "score", "scores.csv"),
        "positions.csv": frame(positions, "score", "positions.csv"),
        "criteria.csv": frame(criteria, "score", "criteria.csv"),
        "targets_school.csv": frame(tschool, "score", "targets_school.csv"),
        "targets_municipal.csv": frame(tm, "score", "targets_municipal.csv"),
        "recommendations.csv": frame(recs, "recommendations", "recommendations.csv"),
        "decisions.csv": frame(decisions, "recommendations", "decisions.csv"),
        "followup.csv": frame(followup, "recommendations", "followup.csv"),
    }


def write_history(folder: Path, *, hostile: bool = False, years: tuple[int, ...] = (2025, 2026)) -> Path:
    """Write params/<year>.yaml and processed/<year>/*.csv for each year into folder; return the
    newest year's parameter file. Earlier years are chained through previous_params."""
    folder = Path(folder)
    (folder / "raw").mkdir(parents=True, exist_ok=True)
    previous = None
    path = None
    for year in years:
        base = yaml.safe_load((ROOT / "params" / f"{year}.yaml").read_text(encoding="utf-8"))
        base.update(
            raw_dir=str(folder / "raw"),
            processed_dir=str(folder / "processed" / str(year)),
            reports_dir=str(folder / "reports" / str(year)),
            methodology=str(METHODOLOGY),
            previous_params=str(previous) if previous else None,
        )
        (folder / "params").mkdir(parents=True, exist_ok=True)
        path = folder / "params" / f"{year}.yaml"
        path.write_text(yaml.safe_dump(base, allow_unicode=True, sort_keys=False), encoding="utf-8")
        write_tables(folder / "processed" / str(year), build_year(year, hostile=hostile and year == years[-1]))
        previous = path
    assert path is not None
    return path


# ---------------------------------------------------------------------------- building a site


def build_site(folder: Path, *, hostile: bool = True, execute: bool = False, report: dict | None = None) -> Path:
    """Two processed years → every year's report (index.html, schools/, results.xlsx) and the
    site index, as the runner builds them. execute=True runs 05_report through papermill,
    otherwise its functions are called directly; report: values of the years' `report:`
    parameters (e.g. cluster_pages_from). Returns the site folder (reports/)."""
    from pipeline.report import context as report_context
    from pipeline.report import excel
    from pipeline.report import publication as report_documents
    from pipeline.report import pages as report_pages
    from pipeline.report import site
    from pipeline.config.params import load_params

    folder = Path(folder)
    newest = write_history(folder, hostile=hostile)
    for path in sorted((folder / "params").glob("*.yaml")):
        if report:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            data.setdefault("report", {}).update(report)
            path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        params = load_params(path, check_files=False)
        out = params.reports_dir
        if execute:
            from conftest import execute_notebook

            nb = execute_notebook("05_report.ipynb", path, folder / "executed" / str(params.year))
            (out / "audit").mkdir(exist_ok=True)
            (out / "audit" / "05_report.ipynb").write_bytes(nb.read_bytes())
        else:
            ctx = report_context.build_context(params)
            report_pages.write_school_pages(ctx, out)
            report_pages.write_report_page(ctx, out)
            excel.write_results(ctx, out / "results.xlsx")
            report_documents.place_documents(params, out)
            (out / "audit").mkdir(exist_ok=True)
            (out / "audit" / "05_report.ipynb").write_text("{}", encoding="utf-8")
        (out / "manifest.json").write_text("{}", encoding="utf-8")
    assert newest is not None
    site.build_index(folder / "reports")
    return folder / "reports"


def page_problems(page: Path, site_root: Path) -> list[str]:
    """What is wrong with one published page: a link or resource that does not resolve, an
    external resource, a script, code or a prompt."""
    from urllib.parse import unquote, urlsplit

    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    problems = []
    ids = {el.get("id") for el in soup.find_all(id=True)}
    for tag in soup.find_all("script"):
        problems.append(f"script: {str(tag)[:80]}")
    for tag in soup.find_all(["link", "img", "iframe", "embed", "object", "source", "video", "audio"]):
        for attr in ("href", "src", "data"):
            v = tag.get(attr)
            if v is None:
                continue
            if not v.startswith("data:"):
                problems.append(f"{tag.name} {attr}={v[:80]} is not embedded")
    for tag in soup.find_all(style=True):
        if "url(" in tag["style"]:
            problems.append(f"style with url(): {tag['style'][:80]}")
    for style in soup.find_all("style"):
        if "url(" in style.text or "@import" in style.text:
            problems.append("stylesheet loads something")
    for a in soup.find_all("a", href=True):
        href = a["href"]
        parts = urlsplit(href)
        if parts.scheme in ("http", "https"):
            if "evidence-link" not in (a.get("class") or []) and not a.find_parent("td", class_="link"):
                problems.append(f"external link outside the evidence table: {href}")
            rel = set(a.get("rel") or [])
            if not {"noopener", "noreferrer"} <= rel:
                problems.append(f"external link without rel=noopener noreferrer: {href}")
            continue
        if parts.scheme:
            problems.append(f"link with scheme {parts.scheme}: {href}")
            continue
        if href.startswith("/"):
            problems.append(f"absolute link: {href}")
            continue
        if href.startswith("#"):
            if href[1:] not in ids:
                problems.append(f"anchor {href} has no target")
            continue
        target = (page.parent / unquote(parts.path)).resolve()
        if not target.is_file():
            problems.append(f"broken link {href}")
        elif site_root.resolve() not in target.parents:
            problems.append(f"link leaves the site: {href}")
    for cls in ("input", "input_area", "input_prompt", "output_prompt", "prompt", "jp-InputArea", "highlight"):
        if soup.find(class_=cls):
            problems.append(f"notebook code or prompt element .{cls}")
    if re.search(r"\bIn&nbsp;\[|\bIn \[\d*\]:|\bOut\[\d*\]:", page.read_text(encoding="utf-8")):
        problems.append("prompt text In [..]/Out[..]")
    return problems
