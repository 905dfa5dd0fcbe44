"""4. Мониторинг: who sent forms, which files were refused and why, the data-quality issues."""

from __future__ import annotations
from typing import Any
from markupsafe import Markup
from ...core.russian import fmt_pct
from ...core.values import text
from ..context import ReportContext
from ..html import h, para, section, sub, table
from ..labels import SEVERITY_LABEL, rule_name
from ..tables import _names, participation, school_text


def monitoring_html(ctx: ReportContext) -> str:
    """4. Мониторинг — participation and data quality."""
    part = participation(ctx)
    names = _names(ctx)
    rows = [
        ["ОО в реестре (ожидалось форм)", part["expected"]],
        ["Получено файлов форм", part["received"]],
        ["Принято (по одной на ОО)", part["accepted"]],
        ["Отклонено", part["rejected"]],
        ["Заменено более поздней формой той же ОО", part["superseded"]],
        ["ОО без принятой формы", len(part["missing_schools"])],
    ]
    blocks: list[Any] = [sub("Участие ОО", table(["Показатель", "Количество"], rows, num_cols=(1,), cls="data compact")),
                         para(f"Охват мониторингом: {fmt_pct(part['rate'])} ОО реестра.")]
    if len(part["rejected_files"]):
        blocks.append(sub("Отклонённые файлы", table(
            ["Файл", "Причина"], [[school_text(ctx, r.file), school_text(ctx, r.reason)] for r in part["rejected_files"].itertuples()])))
    if len(part["superseded_files"]):
        blocks.append(sub("Заменённые файлы", table(
            ["Файл", "ОО", "Дата заполнения", "Причина"],
            [[school_text(ctx, r.file), names.get(text(r.school_code), text(r.school_code)), school_text(ctx, r.filled_date),
              school_text(ctx, r.reason)]
             for r in part["superseded_files"].itertuples()])))
    from .per_school import cluster_link, split

    if len(part["missing_schools"]) and split(ctx):   # no list of schools: the clusters' pages mark them
        blocks.append(sub("ОО, не представившие форму", para(f"ОО — {len(part['missing_schools'])}."), cluster_link(
            ctx, "В рейтинге на страницах кластеров они отмечены «форма не представлена»")))
    elif len(part["missing_schools"]):
        blocks.append(sub("ОО, не представившие форму", h("ul", Markup("").join(
            h("li", f"{text(r.school_code)} — {text(r.school_name)}") for r in part["missing_schools"].itertuples()),
            class_="cols")))
    blocks.append(data_quality_html(ctx))
    return section("monitoring", "4", "Мониторинг", *blocks,
                   lead="Кто представил формы, какие файлы не приняты и почему, какие замечания к данным найдены.")


# a rule's distinct actions shown in the summary: one per school when each names the school's
# code («форма сопоставлена с кодом …»), ~1 MB of the page at 40,000 schools
ACTIONS_SHOWN = 3


def _actions(actions: list[str]) -> str:
    """The actions of one rule, the first ACTIONS_SHOWN of them and how many more."""
    if len(actions) <= ACTIONS_SHOWN:
        return "; ".join(actions)
    more = len(actions) - ACTIONS_SHOWN
    return "; ".join(actions[:ACTIONS_SHOWN]) + f"; … и ещё {more} (все — в results.xlsx, лист «Замечания к данным»)"


def data_quality_html(ctx: ReportContext) -> Markup:
    """Issues by rule and severity (no values: they may carry personal data)."""
    iss = ctx.data["issues.csv"]
    if iss.empty:
        return sub("Качество данных", para("Замечаний к данным нет."))
    g = iss.assign(rule=iss["rule"].map(text), severity=iss["severity"].map(text), action=iss["action"].map(text),
                   school_code=iss["school_code"].map(text))
    rows = []
    for (rule, sev), grp in g.groupby(["rule", "severity"], sort=True):
        actions = _actions(sorted({a for a in grp["action"] if a}))
        rows.append([h("span", rule_name(rule), title=rule), SEVERITY_LABEL.get(sev, sev), len(grp),
                     grp.loc[grp["school_code"] != "", "school_code"].nunique(), actions])
    rows.sort(key=lambda r: (r[1] != "ошибка", -r[2], str(r[0])))
    n_err = int((g["severity"] == "error").sum())
    n_warn = int((g["severity"] == "warning").sum())
    return sub("Качество данных", para(
        f"Всего замечаний: {len(g)} (ошибок — {n_err}, предупреждений — {n_warn}). Ошибка: значение или форма не "
        "использованы; предупреждение: значение использовано, но требует внимания. Полный перечень с файлами, "
        "листами и ячейками передан ОО и приведён в служебной таблице results.xlsx."),
        table(["Правило проверки", "Вид", "Замечаний", "ОО", "Принятые меры"], rows, num_cols=(2, 3)))
