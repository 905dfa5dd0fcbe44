"""One small exception hierarchy for the whole pipeline: one class per layer under a common root.

    PipelineError            the root; never raised itself
    ├── ParamsError          a parameter set (params/<year>.yaml): file and key
    ├── MethodologyError     a methodology file: file and element
    ├── FormError            a school's form or the registry: file, sheet, cell, value, rule
    ├── StageError           a stage's inputs do not fit together (the stage and what to do)
    ├── DocumentError        a document: a DOCX not converted to PDF, a signed scan not usable
    └── RunError             running years: a stage notebook that failed, a lock held, …
        ├── StageFailedError     a stage's notebook failed (the executed notebook is kept)
        ├── StrictModeError      --strict and the data has issues
        ├── RunLockedError       another run holds the year's folders
        └── WriteError           an output could not be written (disk full, no permission)

Every error carries *where* it happened and renders to one Russian sentence that ends with
what the person should do. The command line prints that sentence, never a traceback.
"""

from __future__ import annotations

import errno
import os


class PipelineError(Exception):
    """Root of all errors the pipeline reports to a person."""

    def __init__(self, message: str, hint: str = "") -> None:
        self.message = message
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        text = self.message.rstrip()
        if self.hint:
            if not text.endswith((".", "!", "?")):
                text += "."
            text += " " + self.hint.rstrip()
        return text

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.render()


class _FileKeyError(PipelineError):
    """A configuration file (what it is: `_WHAT`) and the key or element at fault."""

    _WHAT = ""          # «Файл параметров»
    _KEY = ""           # «ключ»
    _HINT = ""          # what to do when the raiser gives no hint

    def __init__(self, file: str, key: str | None, problem: str, hint: str = "") -> None:
        self.file = str(file)
        self.key = key
        self.problem = problem
        where = f"{self._WHAT} «{self.file}»" + (f", {self._KEY} «{key}»" if key else "")
        super().__init__(f"{where}: {problem}", hint or self._HINT)


class ParamsError(_FileKeyError):
    """A parameter set (params/<year>.yaml) is missing, unreadable or invalid."""

    _WHAT, _KEY, _HINT = "Файл параметров", "ключ", "Исправьте файл параметров и запустите снова."


class MethodologyError(_FileKeyError):
    """A methodology file is invalid (duplicate codes, unknown criterion, bad scale...)."""

    _WHAT, _KEY, _HINT = "Файл методики", "элемент", "Исправьте файл методики и запустите снова."


class FormError(PipelineError):
    """A school's form cannot be used; names the file and, where known, sheet and cell."""

    def __init__(
        self,
        file: str,
        reason: str,
        *,
        sheet: str | None = None,
        cell: str | None = None,
        value: object = None,
        hint: str = "",
        rule: str = "form",
    ) -> None:
        self.file = str(file)
        self.sheet = sheet
        self.cell = cell
        self.value = value
        self.reason = reason
        self.rule = rule
        where = f"Файл «{self.file}»"
        if sheet:
            where += f", лист «{sheet}»"
        if cell:
            where += f", ячейка {cell}"
        if value is not None and value != "":
            where += f" (значение «{value}»)"
        super().__init__(f"{where}: {reason}", hint or "Попросите школу исправить форму и прислать её снова.")


class StageError(PipelineError):
    """A stage cannot do its work with what it was given (tables that do not fit together,
    data of the year missing); names the stage and says what to do."""

    def __init__(self, stage: str, problem: str, hint: str = "") -> None:
        self.stage = stage
        self.problem = problem
        super().__init__(f"Этап «{stage}»: {problem}", hint or "Выполните этапы года заново (python -m pipeline run --force).")


class DocumentError(PipelineError):
    """A document of the year (reports/<year>/documents/) cannot be made or used: LibreOffice
    failed or timed out converting it, a signed scan is not a PDF. Names the file."""

    def __init__(self, file: str, problem: str, hint: str = "") -> None:
        self.file = str(file)
        self.problem = problem
        super().__init__(f"Документ «{self.file}»: {problem}", hint or "Исправьте файл и запустите расчёт снова.")


class RunError(PipelineError):
    """Running years: what the runner, the scheduler, verify or publish refuse or report."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message, hint)


class StageFailedError(RunError):
    """A stage notebook failed; the executed notebook is kept as the error report."""

    def __init__(
        self,
        stage: str,
        notebook: str,
        *,
        cell: int | None = None,
        ename: str = "",
        evalue: str = "",
    ) -> None:
        self.stage = stage
        self.notebook = str(notebook)
        self.cell = cell
        self.ename = ename
        self.evalue = evalue
        where = f"Этап «{stage}» завершился с ошибкой"
        if cell is not None:
            where += f" в ячейке {cell}"
        detail = f": {ename}: {evalue}" if ename else ""
        super().__init__(
            f"{where}{detail}",
            f"Откройте выполненный блокнот {self.notebook}, чтобы увидеть ошибку целиком.",
        )


class StrictModeError(RunError):
    """--strict was given and the data has issues."""

    def __init__(self, count: int, issues_file: str) -> None:
        self.count = count
        self.issues_file = str(issues_file)
        super().__init__(
            f"Строгий режим: найдено замечаний к данным — {count}",
            f"Список с файлами, листами и ячейками: {self.issues_file}. "
            "Исправьте формы или запустите без --strict.",
        )


class RunLockedError(RunError):
    """Another run holds a folder the year writes (its processed or reports folder)."""

    def __init__(self, year: int, lock_file: str, *, folder: str = "", holder: str = "") -> None:
        self.year = year
        self.lock_file = str(lock_file)
        self.folder = folder or str(os.path.dirname(self.lock_file))
        self.holder = holder
        by = f" ({holder})" if holder else ""
        super().__init__(
            f"Год {year} уже обрабатывается другим запуском{by}: папка {self.folder} занята (блокировка {self.lock_file})",
            "Дождитесь его окончания или укажите этому году другие папки (processed_dir, reports_dir) в "
            "файле параметров; если запуск был прерван, удалите файл блокировки.",
        )

class WriteError(RunError):
    """Writing an output failed (disk full, permission denied, read-only folder): names the
    path; the previous outputs are kept whole."""

    _WHY = {
        errno.ENOSPC: ("на диске нет свободного места", "Освободите место на диске"),
        errno.EDQUOT: ("исчерпана дисковая квота", "Освободите место или увеличьте квоту"),
        errno.EACCES: ("нет прав на запись", "Дайте пользователю запуска права на запись в эту папку"),
        errno.EPERM: ("операция не разрешена", "Дайте пользователю запуска права на запись в эту папку"),
        errno.EROFS: ("файловая система доступна только для чтения", "Укажите в параметрах папку на записываемом диске"),
    }

    def __init__(self, exc: OSError, path: str = "") -> None:
        self.path = str(exc.filename or path or "")
        self.errno = exc.errno
        why, todo = self._WHY.get(exc.errno, (exc.strerror or str(exc), "Устраните причину"))
        super().__init__(
            f"Не удалось записать «{self.path}»: {why}. Результаты предыдущего запуска сохранены целыми",
            f"{todo} и выполните запуск снова (python -m pipeline run).",
        )
