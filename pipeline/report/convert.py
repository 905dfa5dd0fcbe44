"""DOCX → PDF with LibreOffice headless: the documents of a year in one `soffice` call, or one
per core when they are large.

Starting LibreOffice costs about a second (1–2 s of CPU), converting a small document a
fraction of that, but LibreOffice converts on one core: when the documents' text is large (a
region's roadmap: 11 MB of document.xml at 10,000 schools) they are split into a group per
core of about the same text size (the roadmap alone, the order and the справка together), each
converted by one call, all at once; a municipality's documents (under PARALLEL_FROM_XML of
text) are converted by one call, which spares the second start. Each call runs with a profile of its own (-env:UserInstallation in a
temporary folder: no clash with a LibreOffice the analyst has open, nothing left in the home
folder), with a timeout (the whole process group is killed), and writes into a temporary folder
beside the outputs (`.convert-<pid>-…`): only when every PDF is there and whole are they moved
into place, each by a rename, so a killed run never leaves half a PDF (and the next conversion
removes a temporary folder whose process is gone). LibreOffice stamps each PDF with the time
and a random identifier; both are made fixed (same length, so the cross-reference table stays
right), so the same documents give the same bytes and `verify` can compare them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import zipfile
from pathlib import Path

from ..core.errors import DocumentError
from ..core.parallel import cores, pid_alive

PROGRAMS = ("soffice", "libreoffice")  # the command's names, first found is used
PARALLEL_FROM_XML = 2 * 1024 * 1024  # the documents' text (word/document.xml, uncompressed) from which a call per core pays
TIMEOUT = 300  # seconds for the conversion (the calls at once); a region's documents take under a minute
_WORK_PREFIX = ".convert-"
_FILE_MODE = 0o644

INSTALL_HINT = ("Установите LibreOffice (Debian/Ubuntu: sudo apt-get install libreoffice-writer; "
                "или make system) и запустите расчёт снова")


def soffice() -> str | None:
    """The LibreOffice command found on PATH, or None."""
    for name in PROGRAMS:
        found = shutil.which(name)
        if found:
            return found
    return None


def _remove_stale(folder: Path) -> None:
    """Temporary folders of conversions whose process no longer exists."""
    for work in folder.glob(f"{_WORK_PREFIX}*"):
        pid = work.name[len(_WORK_PREFIX):].partition("-")[0]
        if pid.isdigit() and not pid_alive(int(pid)) and work.is_dir() and not work.is_symlink():
            shutil.rmtree(work, ignore_errors=True)


_DATES = re.compile(rb"/(CreationDate|ModDate)\s*\(D:(\d+)")
_ID = re.compile(rb"/ID\s*\[\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*\]")
_CHECKSUM = re.compile(rb"/DocChecksum\s*/([0-9A-Fa-f]+)")


def deterministic_pdf(data: bytes, date: dt.date | None = None) -> bytes:
    """The PDF with its creation time set to `date` (00:00), and its identifier and checksum
    (LibreOffice's /DocChecksum) made from its content, each replaced by a text of the same
    length."""
    stamp = (date or dt.date(2000, 1, 1)).strftime("%Y%m%d000000").encode()

    def fixed_date(m: re.Match[bytes]) -> bytes:
        digits = m.group(2)
        return m.group(0)[: -len(digits)] + (stamp + b"0" * len(digits))[: len(digits)]

    data = _DATES.sub(fixed_date, data)
    found = [(m.start(g), m.end(g)) for rx in (_ID, _CHECKSUM) for m in rx.finditer(data) for g in range(1, rx.groups + 1)]
    if found:
        blank = bytearray(data)
        for start, end in found:
            blank[start:end] = b"0" * (end - start)
        digest = hashlib.sha256(bytes(blank)).hexdigest().upper().encode() * 4
        for start, end in found:
            blank[start:end] = digest[: end - start]
        data = bytes(blank)
    return data


def _is_whole_pdf(data: bytes) -> bool:
    return data.startswith(b"%PDF-") and b"%%EOF" in data[-2048:]


def convert_to_pdf(documents: list[Path], out_dir: str | Path, *, timeout: float = TIMEOUT,
                   date: dt.date | None = None, parallel: bool = True) -> list[Path]:
    """Convert DOCX files to out_dir/<stem>.pdf, one LibreOffice call per core (`parallel` and
    the documents' text of PARALLEL_FROM_XML or more, else one call), the calls at once;
    return the PDFs.

    All or nothing: a PDF is moved into out_dir only when every one is written and whole. No
    LibreOffice, a failure, a timeout or a missing PDF raise DocumentError naming the file.
    `date`: the creation date written into the PDFs (fixed, for identical bytes)."""
    documents = [Path(d) for d in documents]
    if not documents:
        return []
    stems = [d.stem for d in documents]
    if len(set(stems)) != len(stems):
        dup = next(s for s in stems if stems.count(s) > 1)
        raise DocumentError(f"{dup}.docx", "два документа с одним именем в одном преобразовании",
                            "Преобразуйте документы с одинаковыми именами по отдельности.")
    program = soffice()
    if program is None:
        raise DocumentError(documents[0].name, "LibreOffice (soffice) не найден — PDF не получить", INSTALL_HINT + ".")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _remove_stale(out_dir)
    work = Path(tempfile.mkdtemp(prefix=f"{_WORK_PREFIX}{os.getpid()}-", dir=out_dir))
    try:
        large = parallel and sum(_text_size(d) for d in documents) >= PARALLEL_FROM_XML
        groups = _groups(documents, cores() if large else 1)
        env = {**os.environ, "HOME": str(work)}  # nothing of LibreOffice's written into the real home
        calls: list[tuple[list[Path], Path, subprocess.Popen]] = []
        try:
            for i, group in enumerate(groups):
                pdf_dir, profile = work / f"pdf{i}", work / f"profile{i}"   # a profile per call: they run at once
                pdf_dir.mkdir()
                command = [program, f"-env:UserInstallation={profile.resolve().as_uri()}", "--headless", "--invisible",
                           "--norestore", "--nologo", "--nodefault", "--nolockcheck",
                           "--convert-to", "pdf:writer_pdf_Export", "--outdir", str(pdf_dir),
                           *(str(d.resolve()) for d in group)]
                with open(work / f"said{i}.txt", "wb") as said:   # a file, not a pipe: no call waits on a full pipe
                    calls.append((group, pdf_dir, subprocess.Popen(
                        command, stdout=said, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                        start_new_session=True, cwd=work)))
            deadline = time.monotonic() + timeout
            for group, _, proc in calls:
                try:
                    proc.wait(timeout=max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    late = [d.name for g, _, p in calls if p.poll() is None for d in g] or [d.name for d in group]
                    raise DocumentError(", ".join(late), f"LibreOffice не закончил преобразование в PDF за {timeout:g} с",
                                        "Откройте документ в LibreOffice вручную и проверьте его; "
                                        "закройте зависшие процессы soffice и запустите расчёт снова.") from None
        finally:
            for _, _, proc in calls:
                _kill_group(proc)  # all of them on a failure; a helper process LibreOffice left behind
        outputs: list[tuple[Path, bytes]] = []
        placed = {d: (i, pdf_dir) for i, (group, pdf_dir, _) in enumerate(calls) for d in group}
        for doc in documents:
            i, pdf_dir = placed[doc]
            pdf = pdf_dir / f"{doc.stem}.pdf"
            data = pdf.read_bytes() if pdf.is_file() else b""
            if not _is_whole_pdf(data):
                said = " ".join((work / f"said{i}.txt").read_bytes().decode("utf-8", "replace").split())[-300:]
                why = (f"LibreOffice не создал PDF (код завершения {calls[i][2].returncode}"
                       + (f"; {said})" if said else ")"))
                raise DocumentError(doc.name, why, "Откройте документ в LibreOffice или Word: если он не открывается, "
                                                   "он повреждён; запустите расчёт снова.")
            outputs.append((pdf, deterministic_pdf(data, date)))
        for pdf, data in outputs:
            pdf.write_bytes(data)
            os.chmod(pdf, _FILE_MODE)
        written = []
        for pdf, _ in outputs:  # every PDF whole: now into place, each by a rename
            os.replace(pdf, out_dir / pdf.name)
            written.append(out_dir / pdf.name)
        return written
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _text_size(document: Path) -> int:
    """The uncompressed size of a DOCX's word/document.xml — what LibreOffice's time grows with
    (its images cost little); the file's size when it is not a readable DOCX."""
    try:
        with zipfile.ZipFile(document) as zf:
            return zf.getinfo("word/document.xml").file_size
    except (OSError, KeyError, zipfile.BadZipFile):
        return document.stat().st_size if document.is_file() else 0


def _groups(documents: list[Path], n: int) -> list[list[Path]]:
    """The documents in at most n groups of about the same text size (largest first into the
    lightest group), each in the given order."""
    n = max(1, min(n, len(documents)))
    groups: list[list[Path]] = [[] for _ in range(n)]
    sizes = [0] * n
    text = {d: _text_size(d) for d in documents}
    for d in sorted(documents, key=lambda d: -text[d]):
        k = sizes.index(min(sizes))
        groups[k].append(d)
        sizes[k] += text[d]
    order = {d: i for i, d in enumerate(documents)}
    return [sorted(g, key=order.__getitem__) for g in groups if g]


def _kill_group(proc: subprocess.Popen) -> None:
    """End LibreOffice and what it started (its own session), then reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:  # pragma: no cover - a process that ignores SIGKILL
        pass
