"""`verify`: re-run a year in a temporary folder and compare with its manifest."""


from __future__ import annotations




import tempfile


from dataclasses import dataclass


from pathlib import Path


import yaml


from . import manifest as mf


from ..config.params import YearParams, load_params


from .lock import year_lock


from .progress import Progress, _shown


from .runner import check_methodology, run_year


from .stages import NOTEBOOKS_DIR, STAGES, check_notebooks


def _temporary_params(params: YearParams, folder: Path) -> Path:
    """A copy of the year's parameter file whose outputs go into folder; all else the same."""
    data = yaml.safe_load(Path(params.source).read_text(encoding="utf-8"))
    data.update(
        raw_dir=str(params.raw_dir),
        methodology=str(params.methodology),
        previous_params=str(params.previous_params) if params.previous_params else None,
        processed_dir=str(folder / "processed" / str(params.year)),
        reports_dir=str(folder / "reports" / str(params.year)),
    )
    path = folder / "params" / Path(params.source).name
    path.parent.mkdir(parents=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@dataclass
class VerifyReport:
    year: int
    manifest: Path
    checked: int
    rerun: dict[str, list[str]]       # differ / missing / extra between the manifest and a re-run
    on_disk: dict[str, list[str]]     # differ / missing between the manifest and the files now
    inputs: list[str]                 # inputs that differ from the manifest
    sealed: bool | None = True        # the manifest's seal: intact, broken (edited), None (none kept)

    @property
    def manifest_tampered(self) -> bool:
        return self.sealed is False

    @property
    def ok(self) -> bool:
        return not self.manifest_tampered and not any(self.rerun.values()) and not any(self.on_disk.values())


def verify_year(
    params: YearParams | str | Path,
    *,
    notebooks_dir: str | Path = NOTEBOOKS_DIR,
    progress: Progress | None = None,
) -> VerifyReport:
    """Re-run the year's stages into a temporary folder and compare with its manifest."""
    if not isinstance(params, YearParams):
        params = load_params(params)
    notebooks_dir = Path(notebooks_dir).resolve()
    manifest = mf.read(params)
    sealed = mf.seal_intact(manifest)
    if sealed is False:
        # its recorded hashes cannot be trusted: nothing to compare with, no re-run
        empty = {"differ": [], "missing": [], "extra": []}
        return VerifyReport(params.year, Path(params.reports_dir) / mf.MANIFEST_NAME,
                            len(manifest.get("outputs", {}) or {}), empty, {"differ": [], "missing": []}, [], sealed)
    names = [s.get("name") for s in manifest.get("stages", [])]
    stages = tuple(s for s in STAGES if s.name in names)
    check_notebooks(stages, notebooks_dir)
    check_methodology(params)
    expected = manifest.get("outputs", {})
    with year_lock(params):
        disk = mf.on_disk(params, expected)
        inputs = mf.input_changes(manifest, params, {s.name: notebooks_dir / s.notebook for s in stages})
        with tempfile.TemporaryDirectory(prefix=f"verify-{params.year}-") as tmp:
            again = load_params(_temporary_params(params, Path(tmp)))
            run_year(again, notebooks_dir=notebooks_dir, stages=stages, force=True, progress=progress,
                     code=manifest.get("code"))
            actual = mf.read(again).get("outputs", {})
    return VerifyReport(params.year, Path(params.reports_dir) / mf.MANIFEST_NAME, len(expected),
                        mf.compare_outputs(expected, actual), disk, inputs, sealed)


def render_verify(report: VerifyReport, params: YearParams) -> list[str]:
    """The Russian lines `verify` prints."""
    if report.manifest_tampered:
        return [
            f"Проверка {report.year}: манифест {_shown(report.manifest)} изменён после расчёта — его содержимое "
            f"не совпадает с его собственной контрольной суммой ({mf.SEAL}). Записанным в нём хешам верить нельзя, "
            "поэтому результаты с ним не сравнивались.",
            "Восстановите манифест из резервной копии или выполните расчёт года заново: "
            f"python -m pipeline run --params {_shown(params.source)}",
        ]
    unsealed = ([f"Примечание: манифест {_shown(report.manifest)} записан без контрольной суммы самого манифеста "
                 "(прежней версией); изменён ли он вручную, проверить нельзя."] if report.sealed is None else [])
    if report.ok:
        lines = [
            f"Проверка {report.year}: всё совпадает с {_shown(report.manifest)} — файлов результатов: "
            f"{report.checked} (таблицы — побайтно; отчёт и блокноты — без учёта путей временной папки)."
        ]
        if report.inputs:
            lines.append("Примечание: входы отличаются от манифеста, но результаты те же:")
            lines += [f"  - {line}" for line in report.inputs]
        return lines + unsealed
    lines = [f"Проверка {report.year}: найдены расхождения с {_shown(report.manifest)}."] + unsealed
    intact = " (манифест цел: его контрольная сумма сходится)" if report.sealed else ""
    sections = (
        (report.on_disk["differ"], f"Файлы результатов на диске изменены после расчёта{intact} — не совпадают с манифестом:"),
        (report.on_disk["missing"], "Файлы из манифеста отсутствуют на диске:"),
        (report.rerun["differ"], "Повторный расчёт дал другой результат:"),
        (report.rerun["missing"], "Повторный расчёт не создал файлы из манифеста:"),
        (report.rerun["extra"], "Повторный расчёт создал файлы, которых нет в манифесте:"),
    )
    for keys, title in sections:
        if keys:
            lines.append(title)
            lines += [f"  - {_shown(mf.path_for(params, k))}" for k in keys]
    if report.inputs:
        lines.append("Изменились входные данные:")
        lines += [f"  - {line}" for line in report.inputs]
    elif any(report.rerun.values()):
        lines.append("Входные данные (сырые файлы, параметры, данные прошлых лет, методика, блокноты, код) не менялись: "
                     "расчёт невоспроизводим — сообщите разработчикам.")
    lines.append(
        f"Чтобы результаты соответствовали входам, выполните: python -m pipeline run --params {_shown(params.source)}"
    )
    return lines
