"""Crafted packages: a sheet's relationship spelled so that the size check and the reader
(calamine) could look at different entries of the zip. The check must examine every entry the
reader may open. These tests call the check itself on the bomb (XFD1048576): the reader is
never given a file the check accepted wrongly (it would allocate hundreds of gigabytes)."""

from __future__ import annotations

import io
import re
import struct
import zipfile

import pytest
from formbuilder import form_bytes, good_values

from pipeline.config.methodology import load_methodology
from pipeline.core.errors import FormError
from pipeline.form import package as form_package
from pipeline.form import reader as form_reader
from pipeline.form.fields import SHEET_INFO
from conftest import ROOT

METHODOLOGY = load_methodology(ROOT / "methodology" / "default.yaml")
GOOD = form_bytes(METHODOLOGY, good_values(METHODOLOGY))


def _sheet_xml(address: str, value: str = '<v>1</v>', dimension: str = "A1") -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'<dimension ref="{dimension}"/><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Код ОО</t></is></c></row>'
            f'<row r="{form_package.split_address(address)[0]}"><c r="{address}">{value}</c></row></sheetData></worksheet>').encode()


def _info_target() -> tuple[str, str]:
    """(relationship id, target) of the «Сведения» sheet in GOOD."""
    with zipfile.ZipFile(io.BytesIO(GOOD)) as zf:
        book, rels = zf.read("xl/workbook.xml").decode(), zf.read("xl/_rels/workbook.xml.rels").decode()
    rid = re.search(f'<sheet name="{SHEET_INFO}"[^>]*r:id="([^"]+)"', book).group(1)
    return rid, re.search(f'Target="([^"]+)" Id="{rid}"', rels).group(1)


def crafted(target: str, entry: str, sheet: bytes, *, extra: dict[str, bytes] | None = None,
            unicode_path: str | None = None) -> bytes:
    """GOOD with «Сведения»'s relationship pointing at `target` and the zip holding `entry`."""
    _, old = _info_target()
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(GOOD)) as zin, zipfile.ZipFile(buf, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(f'Target="{old}"'.encode(), f'Target="{target}"'.encode())
            zout.writestr(info, data)
        item = zipfile.ZipInfo(entry)
        if unicode_path is not None:
            name = unicode_path.encode()
            item.extra = struct.pack("<HHBI", 0x7075, 5 + len(name), 1, zipfile.crc32(entry.encode())) + name
        zout.writestr(item, sheet)
        for name, data in (extra or {}).items():
            zout.writestr(name, data)
    return buf.getvalue()


BOMB = _sheet_xml("XFD1048576")
DECOY = "xl/worksheets/sheet9.xml"  # a small sheet where the target points once tidied up


def _decoy(entry: str) -> dict[str, bytes]:
    return {} if entry == DECOY else {DECOY: _sheet_xml("B2", "<v>1</v>")}

# (relationship target, the zip entry's literal name): each the reader opens (tests/test_crafted
# checked them against calamine 0.37 with a small sheet)
SPELLINGS = [
    ("worksheets/./sheet9.xml", "xl/worksheets/./sheet9.xml"),
    ("../xl/worksheets/sheet9.xml", "xl/../xl/worksheets/sheet9.xml"),
    ("worksheets//sheet9.xml", "xl/worksheets//sheet9.xml"),
    ("Worksheets/SHEET9.xml", "xl/worksheets/sheet9.xml"),
    ("worksheets/sheet9.xml", "XL/Worksheets/Sheet9.XML"),
    ("/xl/worksheets/sheet9.xml", "xl/worksheets/sheet9.xml"),
    ("/XL/worksheets/sheet9.xml", "XL/worksheets/sheet9.xml"),
    ("/worksheets/sheet9.xml", "worksheets/sheet9.xml"),
    ("worksheets\\sheet9.xml", "xl/worksheets\\sheet9.xml"),
    ("worksheets/sheet9.xml", "xl\\worksheets\\sheet9.xml"),
    ("worksheets/sheet&#57;.xml", "xl/worksheets/sheet&#57;.xml"),   # the reader does not undo «&#57;»
]


def _check(data: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        form_package._SHEET_PARTS_SEEN.clear()
        form_package._check_sheet_sizes(data, "бомба.xlsx", [SHEET_INFO], zf)


@pytest.mark.parametrize("target, entry", SPELLINGS)
def test_size_check_examines_the_entry_the_reader_opens(target, entry):
    with pytest.raises(FormError) as exc:
        _check(crafted(target, entry, BOMB, extra=_decoy(entry)))
    assert (exc.value.rule, exc.value.file, exc.value.sheet) == ("file.too_large", "бомба.xlsx", SHEET_INFO)
    assert "1048576" in exc.value.reason


@pytest.mark.parametrize("bomb", [
    _sheet_xml("XFD1048576", '<v></v>'),                      # an empty text value: the reader keeps it
    _sheet_xml("XFD1048576", '<v/>'),
    _sheet_xml("B2", dimension="A1:XFD1048576"),             # the <dimension> says so
    _sheet_xml("B2", dimension="a1:xfd1048576"),
])
def test_size_check_counts_empty_values_and_the_dimension(bomb):
    with pytest.raises(FormError) as exc:
        _check(crafted("worksheets/sheet9.xml", "xl/worksheets/sheet9.xml", bomb))
    assert exc.value.rule == "file.too_large"


def test_size_check_examines_duplicate_entries_and_unicode_paths():
    small = _sheet_xml("B2")
    # two entries of one name: the reader opens the last, Python's zipfile too; both are checked
    with pytest.raises(FormError):
        _check(crafted("worksheets/sheet9.xml", "xl/worksheets/sheet9.xml", BOMB,
                       extra={"xl/worksheets/sheet9.xml": small}))
    # the Unicode path field names the sheet's entry, the entry's own name is something else
    with pytest.raises(FormError):
        _check(crafted("worksheets/sheet9.xml", "xl/media/x.bin", BOMB, unicode_path="xl/worksheets/sheet9.xml"))
    # a second xl/workbook.xml in other letter case (the reader finds either)
    with zipfile.ZipFile(io.BytesIO(GOOD)) as zf:
        book, rels = zf.read("xl/workbook.xml"), zf.read("xl/_rels/workbook.xml.rels")
    rels2 = rels.replace(b'Id="rId1"', b'Id="rId1x"').replace(b"<Relationships", b"<Relationships", 1)
    data = crafted(_info_target()[1], "xl/unused.xml", b"", extra={
        "XL/WORKBOOK.XML": book.replace(b'r:id="rId1"', b'r:id="rId99"'),
        "XL/_RELS/WORKBOOK.XML.RELS": rels.replace(b'Id="rId1"', b'Id="rId99"').replace(
            _info_target()[1].encode(), b"worksheets/sheet9.xml", 1),
        "xl/worksheets/sheet9.xml": BOMB})
    with pytest.raises(FormError):
        _check(data)


def test_a_good_form_still_passes_and_reads():
    _check(GOOD)
    assert form_reader.read_form(GOOD, METHODOLOGY, name="f.xlsx").get("info.school_code").value == "0107"


def test_crafted_form_is_refused_whole_with_its_name(monkeypatch):
    """Through the form reader (limits lowered so that even a wrong answer stays small)."""
    monkeypatch.setattr(form_package, "MAX_SHEET_ROWS", 200)
    with pytest.raises(FormError) as exc:
        form_reader.read_form(crafted("worksheets/./sheet9.xml", "xl/worksheets/./sheet9.xml", _sheet_xml("C300")),
                              METHODOLOGY, name="школа 0107.xlsx")
    assert exc.value.rule == "file.too_large" and "школа 0107.xlsx" in str(exc.value)


@pytest.mark.parametrize("target, entry", SPELLINGS)
def test_the_reader_does_open_each_spelling(target, entry):
    """What the spellings above stand for: calamine reads the sheet from that entry (a small
    sheet here)."""
    import python_calamine as pc

    wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(crafted(target, entry, _sheet_xml("B2", "<v>42</v>"))))
    rows = wb.get_sheet_by_name(SHEET_INFO).to_python()
    assert rows[1][1] == 42


# --- a reader that dies: that one file is rejected, named; the others are read -----------------

@pytest.mark.parametrize("workers", [2, 1])  # a pool of forked workers; one forked reader
def test_a_form_that_kills_its_reader_is_rejected_alone(monkeypatch, workers):
    import os
    import signal

    from pipeline.stages import ingest

    real = ingest.read_form_values

    def read(data, methodology, *, name=None):
        if name == "убийца.xlsx":
            os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's out-of-memory killer does
        return real(data, methodology, name=name)

    monkeypatch.setattr(ingest, "read_form_values", read)
    monkeypatch.setattr(ingest, "PARALLEL_FROM", 2)
    files = [ingest.RawFile(f"{i:02d}.xlsx", "", len(GOOD), GOOD) for i in range(7)]
    files.insert(3, ingest.RawFile("убийца.xlsx", "", len(GOOD), GOOD))
    read_ = ingest.read_forms(files, METHODOLOGY, workers=workers)
    assert [e is None for _, e in read_] == [True] * 3 + [False] + [True] * 4
    error = read_[3][1]
    assert error["rule"] == "file.reader_crash" and "SIGKILL" in error["reason"]
    assert all(f.get("info.school_code").value == "0107" for f, _ in read_ if f is not None)


def test_a_dead_pool_worker_reports_its_exit_status():
    import os

    from pipeline.core.parallel import WorkerDied, fork_map

    with pytest.raises(WorkerDied) as exc:
        fork_map(_exit_7_on_3, range(6), 2)
    assert exc.value.exitcodes == (7,) and "код завершения 7" in str(exc.value)


def _exit_7_on_3(x: int) -> int:
    import os

    if x == 3:
        os._exit(7)
    return x


class _Panic(BaseException):
    """What a Rust panic inside the reader arrives as (pyo3's PanicException is a BaseException)."""


@pytest.mark.parametrize("failure", [_Panic("index out of bounds"), MemoryError()])
def test_a_reader_panic_or_memory_error_is_a_named_rejection(monkeypatch, failure):
    import python_calamine as pc

    class Book:
        sheet_names = [SHEET_INFO]

        def get_sheet_by_name(self, _name):
            raise failure

    monkeypatch.setattr(pc.CalamineWorkbook, "from_filelike", lambda *_: Book())
    with pytest.raises(FormError) as exc:
        form_reader.read_form(GOOD, METHODOLOGY, name="школа.xlsx")
    assert exc.value.rule in ("file.corrupt", "file.too_large") and exc.value.file == "школа.xlsx"


def test_a_crafted_form_in_the_year_is_rejected_and_the_others_accepted(tmp_path, make_params, monkeypatch):
    """The issue's case through ingest: the crafted file is a row of files.csv, rejected with
    its reason; the other schools' forms are accepted. (Limits lowered, so that the sheet
    behind the crafted relationship stays small whatever happens.)"""
    from formbuilder import raw_folder

    from pipeline.config.params import load_params
    from pipeline.stages import ingest

    monkeypatch.setattr(form_package, "MAX_SHEET_ROWS", 200)
    crafted_form = crafted("worksheets/./sheet9.xml", "xl/worksheets/./sheet9.xml", _sheet_xml("C300"), extra=_decoy("x"))
    raw = raw_folder(tmp_path / "raw", {"0107.xlsx": GOOD, "0108 бомба.xlsx": crafted_form,
                                        "0201.xlsx": form_bytes(METHODOLOGY, good_values(METHODOLOGY, code="0201"))})
    params = load_params(make_params(raw_dir=raw))
    files = ingest.run(ingest.load_raw(params), METHODOLOGY, params)["files.csv"].set_index("file")
    assert files.loc["0108 бомба.xlsx", "status"] == "rejected" and files.loc["0108 бомба.xlsx", "rule"] == "file.too_large"
    assert "допускается до" in files.loc["0108 бомба.xlsx", "reason"]  # refused before the reader read it
    assert list(files.loc[["0107.xlsx", "0201.xlsx"], "status"]) == ["accepted", "accepted"]
