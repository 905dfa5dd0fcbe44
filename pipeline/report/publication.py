"""The year's documents on the site: drafts as PDF, signed scans instead of drafts.

In reports/<year>/documents/ the report stage has the documents for signature (spravka.docx,
prikaz.docx, roadmap.docx) and the print version (report.pdf). `place_documents`, called by
the report notebook right after they are written,

1. converts the DOCX to PDF with LibreOffice in one call (report/convert.py); without
   LibreOffice the DOCX stay as they are, with a warning, and the site offers the DOCX;
2. copies each signed scan the analyst put into raw_dir/signed/<name>.pdf (name: prikaz,
   spravka, roadmap — core.contract.SIGNABLE) into documents/signed/<name>.pdf, after checking
   that it is a whole PDF of a sane size; its number and date come from the parameters'
   `signed:` block («Приказ от 20.06.2026 № 214»);
3. writes documents/index.html, the published list of the year's documents.

What the site publishes of the folder is `published`: per document the signed scan, else the
PDF, else the DOCX — never letters/, letters.zip, measures.xlsx or anything not listed here.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..config.params import YearParams
from ..core.contract import SIGNABLE, SIGNED_DIR
from ..core.errors import DocumentError
from ..io.storage import write_bytes_atomic
from . import convert

DOCS_DIR = "documents"          # reports/<year>/documents/
SIGNED_OUT = "signed"           # reports/<year>/documents/signed/<name>.pdf: the published scans
PAGE = "index.html"             # reports/<year>/documents/index.html
MAX_SCAN_BYTES = 50 * 1024 * 1024  # a scan of a few pages at 300 dpi is a few MB


@dataclass(frozen=True)
class Document:
    name: str        # file stem: documents/<name>.docx / .pdf
    title: str       # what the site calls it
    kind: str        # the word for its registration: «Приказ от 20.06.2026 № 214»
    docx: bool = True  # written as DOCX (converted to PDF); False: written as PDF (report.pdf)


# The documents the site may publish, in the order it lists them.
DOCUMENTS: tuple[Document, ...] = (
    Document("prikaz", "Приказ об итогах мониторинга", "Приказ"),
    Document("spravka", "Аналитическая справка (для подписи)", "Аналитическая справка"),
    Document("roadmap", "Дорожная карта на следующий учебный год", "Дорожная карта"),
    Document("report", "Аналитическая справка для печати", "Аналитическая справка", docx=False),
)
assert {d.name for d in DOCUMENTS} >= set(SIGNABLE)

NO_SOFFICE = ("LibreOffice (soffice) не найден: документы года ({files}) не преобразованы в PDF, "
              "на сайте они предлагаются в формате DOCX. " + convert.INSTALL_HINT + ".")


@dataclass(frozen=True)
class Scan:
    """A signed scan that may be published."""

    name: str                 # prikaz, spravka, roadmap
    file: Path                # raw_dir/signed/<name>.pdf
    data: bytes
    number: str | None        # from the parameters' signed block (None: not given)
    date: dt.date | None


@dataclass(frozen=True)
class Entry:
    """One document as the site offers it."""

    document: Document
    href: str                 # relative to the year's folder: documents/prikaz.pdf
    form: str                 # "signed" | "pdf" | "docx"
    number: str | None = None
    date: dt.date | None = None

    @property
    def registration(self) -> str:
        """«Приказ от 20.06.2026 № 214» (signed, with number and date), else ''."""
        if self.form != "signed" or not self.number or not self.date:
            return ""
        return f"{self.document.kind} от {self.date:%d.%m.%Y} {self.number}"

    @property
    def mark(self) -> str:
        if self.form == "signed":
            return "подписанный экземпляр"
        return "проект" if self.document.name in SIGNABLE else ""

    @property
    def format(self) -> str:
        return "DOCX" if self.form == "docx" else "PDF"


@dataclass
class Placed:
    """What place_documents did: the documents offered and the warnings (Russian)."""

    entries: list[Entry] = field(default_factory=list)
    converted: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# --- signed scans --------------------------------------------------------------------------

def check_scan(path: Path) -> bytes:
    """The bytes of a signed scan when it is a whole PDF of a sane size; else DocumentError
    naming the file. A symbolic link is never followed."""
    if path.is_symlink():
        raise DocumentError(str(path), "символическая ссылка, а не сам файл: ссылки не публикуются",
                            "Положите в папку signed сам файл PDF.")
    if not path.is_file():
        raise DocumentError(str(path), "это не файл", "Положите в папку signed файл PDF.")
    size = path.stat().st_size
    if size > MAX_SCAN_BYTES:
        raise DocumentError(str(path), f"файл слишком большой ({size / 1048576:.0f} МБ, допускается до "
                                       f"{MAX_SCAN_BYTES // 1048576} МБ)",
                            "Отсканируйте документ с меньшим разрешением (150–300 точек на дюйм) и замените файл.")
    with open(path, "rb") as fh:
        data = fh.read(MAX_SCAN_BYTES + 1)
    if not data.startswith(b"%PDF-"):
        raise DocumentError(str(path), "это не PDF (файл не начинается с «%PDF-»), он не будет опубликован",
                            "Сохраните скан подписанного документа в формате PDF под этим именем.")
    if b"%%EOF" not in data[-2048:]:
        raise DocumentError(str(path), "PDF обрезан (нет конца файла «%%EOF»), он не будет опубликован",
                            "Сохраните скан заново и замените файл.")
    return data


def signed_folder(params: YearParams) -> Path:
    return Path(params.raw_dir) / SIGNED_DIR


def _key_hint(name: str) -> str:
    return f"signed: {{{name}: {{number: \"№ …\", date: ГГГГ-ММ-ДД}}}}"


def signed_scans(params: YearParams) -> tuple[list[Scan], list[str]]:
    """The signed scans of raw_dir/signed/ that may be published, and warnings (Russian): a
    file that is not a whole PDF (refused, the draft is published), a scan without its number
    and date in the parameters, a number and date without a scan, a file of another name."""
    folder = signed_folder(params)
    scans: list[Scan] = []
    warnings: list[str] = []
    present: set[str] = set()
    source = params.source or "файл параметров года"
    files = sorted(folder.iterdir()) if folder.is_dir() and not folder.is_symlink() else []
    if folder.is_symlink():
        warnings.append(f"Папка «{folder}» — символическая ссылка: подписанные экземпляры из неё не публикуются. "
                        "Положите сами файлы в папку signed года.")
    for path in files:
        stem, suffix = path.stem.lower(), path.suffix.lower()
        if path.name.startswith((".", "~$")):
            continue
        if stem not in SIGNABLE or suffix != ".pdf":
            expected = ", ".join(f"{n}.pdf" for n in SIGNABLE)
            warnings.append(f"Файл «{path}» не используется: в папке signed ожидаются {expected}.")
            continue
        present.add(stem)
        try:
            data = check_scan(path)
        except DocumentError as exc:
            warnings.append(f"{exc} На сайте — проект документа.")
            continue
        reg = params.signed.get(stem)
        if reg is None:
            warnings.append(f"Скан «{path}» опубликован без номера и даты: их нет в параметрах. "
                            f"Добавьте в {source} ключ {_key_hint(stem)}.")
        scans.append(Scan(stem, path, data, reg.number if reg else None, reg.date if reg else None))
    for name, reg in sorted(params.signed.items()):
        if name not in present:
            warnings.append(f"В параметрах ({source}, ключ signed.{name}) указан документ {reg.number} от "
                            f"{reg.date:%d.%m.%Y}, но скана «{folder / (name + '.pdf')}» нет: на сайте — проект "
                            "документа. Положите скан подписанного экземпляра в эту папку.")
    return scans, warnings


# --- placing and listing ---------------------------------------------------------------------

def published(year_dir: str | Path, params: YearParams | None = None) -> list[Entry]:
    """The documents of a year's folder the site offers, in DOCUMENTS' order: per document the
    signed scan (documents/signed/<name>.pdf), else the PDF, else the DOCX. Only these names:
    nothing else of documents/ is ever published."""
    docs = Path(year_dir) / DOCS_DIR
    out: list[Entry] = []
    for d in DOCUMENTS:
        candidates = [(f"{SIGNED_OUT}/{d.name}.pdf", "signed")] if d.name in SIGNABLE else []
        candidates.append((f"{d.name}.pdf", "pdf"))
        if d.docx:
            candidates.append((f"{d.name}.docx", "docx"))
        for rel, form in candidates:
            path = docs / rel
            if path.is_file() and not path.is_symlink():
                reg = params.signed.get(d.name) if params is not None and form == "signed" else None
                out.append(Entry(d, f"{DOCS_DIR}/{rel}", form, reg.number if reg else None, reg.date if reg else None))
                break
    return out


def place_documents(params: YearParams, out_dir: str | Path, *, timeout: float = convert.TIMEOUT) -> Placed:
    """Convert the year's DOCX to PDF, put the signed scans beside them and write the
    documents page (documents/index.html) into out_dir. Returns what is offered and the
    warnings to show."""
    out_dir = Path(out_dir)
    docs = out_dir / DOCS_DIR
    placed = Placed()
    docx = [docs / f"{d.name}.docx" for d in DOCUMENTS if d.docx and (docs / f"{d.name}.docx").is_file()]
    if docx:
        if convert.soffice() is None:
            placed.warnings.append(NO_SOFFICE.format(files=", ".join(p.name for p in docx)))
        else:
            placed.converted = convert_reusing(params, docx, docs, timeout=timeout)
    scans, warnings = signed_scans(params)
    placed.warnings += warnings
    names = {s.name for s in scans}
    for scan in scans:
        write_bytes_atomic(docs / SIGNED_OUT / f"{scan.name}.pdf", scan.data)
    for name in SIGNABLE:  # a scan withdrawn from raw_dir/signed/ is no longer offered
        if name not in names:
            (docs / SIGNED_OUT / f"{name}.pdf").unlink(missing_ok=True)
    if (docs / SIGNED_OUT).is_dir() and not (docs / SIGNED_OUT).is_symlink() and not any((docs / SIGNED_OUT).iterdir()):
        os.rmdir(docs / SIGNED_OUT)
    placed.entries = published(out_dir, params)
    write_bytes_atomic(docs / PAGE, documents_page(params, placed).encode("utf-8"))
    return placed


CACHE = "converted"   # processed_dir/.cache/converted.json (report/reuse.py)


def convert_reusing(params: YearParams, docx: list[Path], docs: Path, *, timeout: float = convert.TIMEOUT) -> list[Path]:
    """The DOCX's PDFs in docs/: a PDF converted last time from the same DOCX bytes (same
    LibreOffice, fonts, code and date) is taken from the year's reports folder; the others are
    converted, in one conversion."""
    from . import reuse

    date = params.header.order_date
    cache = reuse.Outputs(params.processed_dir, params.reports_dir, CACHE)
    common = reuse.digest(reuse.code_key(fonts=True), reuse.soffice_key(convert.soffice() or ""), str(date))
    keys = {d: reuse.digest(common, d.read_bytes()) for d in docx}
    rel = {d: f"{DOCS_DIR}/{d.stem}.pdf" for d in docx}
    todo = [d for d in docx if not cache.take(rel[d], keys[d], docs / f"{d.stem}.pdf")]
    for pdf in convert.convert_to_pdf(todo, docs, timeout=timeout, date=date):
        source = docs / f"{pdf.stem}.docx"
        cache.remember(rel[source], keys[source], pdf.read_bytes())
    cache.save()
    return [docs / f"{d.stem}.pdf" for d in docx]


def documents_page(params: YearParams, placed: Placed) -> str:
    """documents/index.html: the year's documents with their form, mark and registration."""
    from .render import _render

    entries = [{"title": e.document.title, "href": e.href[len(DOCS_DIR) + 1:], "format": e.format, "mark": e.mark,
                "registration": e.registration, "signed": e.form == "signed"} for e in placed.entries]
    only_docx = any(e.form == "docx" for e in placed.entries)
    return _render("documents.html.j2", entries=entries, year=params.year, only_docx=only_docx,
                   title=f"Документы по итогам мониторинга — {params.year}",
                   organization=params.header.organization)


def registrations(params: YearParams) -> list[str]:
    """«Приказ от 20.06.2026 № 214» of each signed document whose scan is published (for the
    report page), in DOCUMENTS' order."""
    scans = {s.name: s for s in signed_scans(params)[0]}
    out = []
    for d in DOCUMENTS:
        s = scans.get(d.name)
        if s is not None and s.number and s.date:
            out.append(f"{d.kind} от {s.date:%d.%m.%Y} {s.number}")
    return out


def warnings_html(placed: Placed) -> str:
    """The warnings as a visible block for the report notebook (empty when there are none)."""
    from markupsafe import escape

    if not placed.warnings:
        return ""
    items = "".join(f"<li>{escape(w)}</li>" for w in placed.warnings)
    return ('<div style="border:2px solid #b45309;background:#fff7ed;padding:8px 14px;margin:8px 0">'
            f"<strong>Внимание: документы года</strong><ul>{items}</ul></div>")


def summary(placed: Placed) -> "pd.DataFrame":
    """What the site offers of the year's documents (Russian headings), for the notebook."""
    import pandas as pd

    return pd.DataFrame([{"документ": e.document.title, "файл": e.href, "формат": e.format,
                          "отметка": e.mark, "регистрация": e.registration} for e in placed.entries],
                        columns=["документ", "файл", "формат", "отметка", "регистрация"])


def run_warnings(params: YearParams) -> list[str]:
    """The warnings a run prints for the year (they are in the report notebook too): no
    LibreOffice to make the PDFs of the DOCX the year has, signed scans refused or without
    their number and date."""
    docs = Path(params.reports_dir) / DOCS_DIR
    docx = [f"{d.name}.docx" for d in DOCUMENTS if d.docx and (docs / f"{d.name}.docx").is_file()]
    out = [NO_SOFFICE.format(files=", ".join(docx))] if docx and convert.soffice() is None else []
    return out + signed_scans(params)[1]
