"""What every Word document of the year shares: the page and the fonts of Russian office
documents, the requisites of ГОСТ Р 7.0.97-2025 (organisation, document type, date and
number, place, approval block, executor mark), page numbers, tables, and a reproducible save.

ГОСТ Р 7.0.97-2025 keeps the requisites and the page of the 2016 edition (§5, §6): margins
left 20 mm, right 10 mm, top and bottom 20 mm; page numbers centred in the top margin, not on
the first page; the executor mark at the end of the last page.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any, Sequence

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from xml.sax.saxutils import escape
from docx.shared import Cm, Mm, Pt, RGBColor

from ...config.params import YearParams, split_person
from ...io.storage import write_bytes_atomic

FONT = "Times New Roman"        # LibreOffice shows it as Liberation Serif (metric-compatible)
BODY_PT = 14                    # text
TABLE_PT = 12                   # tables
SMALL_PT = 10                   # wide tables, the executor mark
INDENT = Cm(1.25)               # абзацный отступ
BLANK_NUMBER = "________"       # a number not yet assigned: the draft has a blank
BLANK_DATE = "«___» ____________ 20__ г."

# zone of a table cell (the HTML chip's class) → a light shading of the cell
LONG_ROW = 600                  # characters of a table row that may break across pages
SHADES = {"green": "DDF0E4", "yellow": "FCEFCF", "red": "F6DCDB"}


def new_document(*, landscape: bool = False) -> DocxDocument:
    """An empty A4 document with ГОСТ margins and Times New Roman 14 (tables 12)."""
    doc = Document()
    sec = doc.sections[0]
    sec.page_height, sec.page_width = Mm(297), Mm(210)
    if landscape:
        sec.orientation = WD_ORIENT.LANDSCAPE
        sec.page_width, sec.page_height = Mm(297), Mm(210)
    sec.left_margin, sec.right_margin = Mm(20), Mm(10)
    sec.top_margin, sec.bottom_margin = Mm(20), Mm(20)
    sec.header_distance, sec.footer_distance = Mm(10), Mm(10)
    for name in ("Normal", "Header", "Footer", "Caption", "Heading 1", "Heading 2", "Title"):
        try:
            st = doc.styles[name]
        except KeyError:
            continue
        _font(st.font, BODY_PT)
        st.font.color.rgb = RGBColor(0, 0, 0)
    normal = doc.styles["Normal"].paragraph_format
    normal.space_before, normal.space_after, normal.line_spacing = Pt(0), Pt(0), 1.0
    for name, size, before in (("Heading 1", BODY_PT, 12), ("Heading 2", BODY_PT, 8)):
        st = doc.styles[name]
        _font(st.font, size)
        st.font.bold, st.font.italic = True, False
        pf = st.paragraph_format
        pf.space_before, pf.space_after, pf.keep_with_next = Pt(before), Pt(6), True
        pf.alignment = WD_ALIGN_PARAGRAPH.CENTER if name == "Heading 1" else WD_ALIGN_PARAGRAPH.LEFT
        pf.first_line_indent = Cm(0) if name == "Heading 1" else INDENT
    cap = doc.styles["Caption"]
    _font(cap.font, TABLE_PT)
    cap.font.bold, cap.font.italic = False, True
    cap.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    cap.paragraph_format.space_after = Pt(6)
    _language(doc)
    return doc


def _font(font: Any, size: float) -> None:
    font.name, font.size = FONT, Pt(size)
    rpr = font.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), FONT)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:cstheme", "w:eastAsiaTheme"):
        fonts.attrib.pop(qn(attr), None)


def _language(doc: DocxDocument) -> None:
    """Russian as the document's language (spelling, hyphenation in Word and LibreOffice)."""
    rpr = doc.styles["Normal"].element.get_or_add_rPr()
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "ru-RU")
    lang.set(qn("w:eastAsia"), "ru-RU")
    lang.set(qn("w:bidi"), "ar-SA")
    rpr.append(lang)


class Body:
    """A document's body written as XML text, without python-docx objects: what a letter is
    made of (a thousand letters would otherwise cost python-docx's ~0.1 s each), joined into
    the skeleton of `Skeleton`."""

    def __init__(self, width: int) -> None:
        self.width = width              # EMU between the margins
        self.parts: list[str] = []

    def xml(self) -> str:
        return "".join(self.parts)


Target = Any   # a python-docx Document or a Body: the functions below write into either


def text_width(doc: Target) -> int:
    """The width between the margins (EMU)."""
    if isinstance(doc, Body):
        return doc.width
    sec = doc.sections[-1]
    return int(sec.page_width - sec.left_margin - sec.right_margin)


def _insert(doc: Target, xml: str) -> Any:
    """Add a block (paragraph or table XML) at the end of the body."""
    if isinstance(doc, Body):   # declared once, in the skeleton's <w:document>
        doc.parts.append(xml.replace(_W_DECL, "", 1))
        return None
    el = parse_xml(xml)
    doc.element.body._insert_p(el) if xml.startswith("<w:p ") else doc.element.body._insert_tbl(el)
    return el


_ALIGN = {WD_ALIGN_PARAGRAPH.JUSTIFY: "both", WD_ALIGN_PARAGRAPH.LEFT: "left", WD_ALIGN_PARAGRAPH.CENTER: "center",
          WD_ALIGN_PARAGRAPH.RIGHT: "right"}
_W = nsdecls("w")
_W_DECL = " " + _W


def _text(s: str) -> str:
    """The text escaped for XML; characters XML 1.0 does not allow removed."""
    if not s.isprintable():
        s = _XML_BAD.sub("", s)
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _rpr(bold: bool = False, italic: bool = False, size: float | None = None) -> str:
    out = ("<w:b/><w:bCs/>" if bold else "") + ("<w:i/><w:iCs/>" if italic else "")
    if size:
        out += f'<w:sz w:val="{int(round(size * 2))}"/><w:szCs w:val="{int(round(size * 2))}"/>'
    return f"<w:rPr>{out}</w:rPr>" if out else ""


def p_xml(text: str = "", *, bold: bool = False, italic: bool = False, size: float | None = None,
          align: Any = WD_ALIGN_PARAGRAPH.JUSTIFY, indent: bool = True, before: float = 0, after: float = 0,
          keep: bool = False, left: Any = None, style: str | None = None) -> str:
    """A paragraph as XML: justified with the first-line indent unless told otherwise; spacing
    in points, `left` indent in EMU; a style id (Heading1, Caption) instead of direct format."""
    ppr = f'<w:pStyle w:val="{style}"/>' if style else ""
    if keep:
        ppr += "<w:keepNext/>"
    if not style:
        ppr += f'<w:spacing w:before="{int(before * 20)}" w:after="{int(after * 20)}"/>'
        ind = f' w:left="{int(left / 635)}"' if left is not None else ""
        ppr += f'<w:ind{ind} w:firstLine="{int(INDENT / 635) if indent else 0}"/><w:jc w:val="{_ALIGN.get(align, align)}"/>'
    run_ = f'<w:r>{_rpr(bold, italic, size)}<w:t xml:space="preserve">{_text(text)}</w:t></w:r>' if text else ""
    return f"<w:p {_W}><w:pPr>{ppr}</w:pPr>{run_}</w:p>"


def para(doc: Target, text: str = "", **fmt: Any) -> None:
    """A paragraph of text (p_xml's format) at the end of the document."""
    _insert(doc, p_xml(text, **fmt))


def heading(doc: Target, text: str, level: int = 1) -> None:
    """A heading of the document's style «Heading 1» (a section) or «Heading 2» (a part)."""
    _insert(doc, p_xml(text, style=f"Heading{level}"))


def caption(doc: Target, text: str) -> None:
    _insert(doc, p_xml(text, style="Caption"))


def page_break(doc: DocxDocument) -> None:
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


# --------------------------------------------------------------------------- requisites


def fmt_doc_date(d: dt.date | None) -> str:
    """A document's date as ГОСТ writes it: 15.06.2026; a blank to fill when not yet known."""
    return f"{d:%d.%m.%Y}" if d else BLANK_DATE


def number_text(number: str | None) -> str:
    """«№ 205» from «205» or «№ 205»; a blank when not yet assigned."""
    n = (number or "").strip()
    if not n:
        return f"№ {BLANK_NUMBER}"
    return n if n.startswith("№") else f"№ {n}"


def approval_block(doc: Target, params: YearParams, date: dt.date | None) -> None:
    """Гриф утверждения, top right: УТВЕРЖДАЮ, position, signature line with initials and
    surname, date (ГОСТ Р 7.0.97, requisite 16)."""
    hd = params.header
    left = Cm(9.5) if text_width(doc) < Mm(200) else Cm(18)
    lines = [("УТВЕРЖДАЮ", True), (hd.approver_position, False), (f"__________ {hd.approver_name}", False),
             (fmt_doc_date(date), False)]
    for i, (text, bold) in enumerate(lines):
        para(doc, text, bold=bold, align=WD_ALIGN_PARAGRAPH.LEFT, indent=False, left=left, keep=True,
             before=6 if i == 2 else 0, after=12 if i == len(lines) - 1 else 0)


def organisation(doc: Target, params: YearParams) -> None:
    """Наименование организации (requisite 4), centred, bold."""
    para(doc, params.header.organization, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False, after=6)


def _two_sides(doc: Target, left: str, right: str, before: float = 0) -> None:
    """One line, a text at the left margin and one at the right (a borderless table)."""
    half = text_width(doc) // 635 // 2
    cell = lambda text, jc: (f'<w:tc><w:tcPr><w:tcW w:w="{half}" w:type="dxa"/></w:tcPr><w:p><w:pPr>'
                             f'<w:spacing w:before="{int(before * 20)}" w:after="0"/><w:ind w:firstLine="0"/>'
                             f'<w:jc w:val="{jc}"/></w:pPr><w:r><w:t xml:space="preserve">{_text(text)}</w:t></w:r></w:p></w:tc>')
    nil = "".join(f'<w:{side} w:val="nil"/>' for side in ("top", "left", "bottom", "right", "insideH", "insideV"))
    _insert(doc, f'<w:tbl {_W}><w:tblPr><w:tblW w:w="{2 * half}" w:type="dxa"/><w:tblBorders>{nil}</w:tblBorders>'
                 f'<w:tblLayout w:type="fixed"/></w:tblPr><w:tblGrid><w:gridCol w:w="{half}"/><w:gridCol w:w="{half}"/>'
                 f'</w:tblGrid><w:tr><w:trPr><w:cantSplit/></w:trPr>{cell(left, "left")}{cell(right, "right")}</w:tr></w:tbl>')


def kind_date_number_place(doc: Target, kind: str, date: dt.date | None, number: str | None,
                           place: str | None) -> None:
    """Вид документа, дата, регистрационный номер, место составления (requisites 9, 10, 11, 14)."""
    para(doc, kind, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False, before=6, after=6)
    _two_sides(doc, fmt_doc_date(date), number_text(number))
    if place:
        para(doc, place, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False, before=4)


def title(doc: Target, text: str) -> None:
    """Заголовок к тексту (requisite 18): bold, centred, before the text."""
    para(doc, text, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False, before=12, after=12, keep=True)


def signature(doc: Target, params: YearParams) -> None:
    """Подпись (requisite 22): position on the left, initials and surname on the right."""
    _two_sides(doc, params.header.approver_position, params.header.approver_name, before=24)


def executor_mark(doc: Target, params: YearParams) -> None:
    """Отметка об исполнителе (requisite 25): each executor's initials and surname and phone,
    at the end of the document, small print, kept together."""
    phones = params.documents.executor_phones
    lines = []
    for i, who in enumerate(params.header.executors):
        lines.append(split_person(who)[1])
        if i < len(phones) and phones[i]:
            lines.append(phones[i])
    para(doc, "", align=WD_ALIGN_PARAGRAPH.LEFT, indent=False, before=36, keep=True)
    for i, line in enumerate(lines):
        para(doc, line, size=SMALL_PT, align=WD_ALIGN_PARAGRAPH.LEFT, indent=False, keep=i < len(lines) - 1)


def page_numbers(doc: DocxDocument) -> None:
    """Page numbers centred in the top margin from the second page (the first has none)."""
    for sec in doc.sections:
        sec.different_first_page_header_footer = True
        p = sec.header.paragraphs[0]
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _field(p, "PAGE")


def _field(p: Paragraph, instr: str) -> None:
    r = p.add_run()
    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    code = OxmlElement("w:instrText")
    code.set(qn("xml:space"), "preserve")
    code.text = f" {instr} "
    sep = OxmlElement("w:fldChar")
    sep.set(qn("w:fldCharType"), "separate")
    r._r.append(begin)
    r._r.append(code)
    r._r.append(sep)
    shown = p.add_run("2")
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    shown._r.append(end)


# --------------------------------------------------------------------------- tables


def add_table(doc: DocxDocument, headers: Sequence[str], rows: Sequence[Sequence[Any]], *,
              widths: Sequence[float] | None = None, size: float | None = None,
              bold_rows: Sequence[int] = (), shades: dict[tuple[int, int], str] | None = None,
              num_cols: Sequence[int] = ()) -> None:
    """A bordered table: its header row repeated on every page (w:tblHeader), no row split
    across pages (w:cantSplit); widths relative (normalised to the text width), else from the
    texts. Written as one piece of XML: python-docx's cell-by-cell calls cost ~1 ms a cell."""
    ncols = len(headers)
    size = size or (TABLE_PT if ncols <= 6 else SMALL_PT)
    total = text_width(doc)
    rel = list(widths) if widths else _auto_widths(headers, rows, size, total / 360000)
    twips = [int(total * w / (sum(rel) or 1) / 635) for w in rel]
    numeric, bold, shades = set(num_cols), set(bold_rows), shades or {}
    half = int(round(size * 2))
    rprs = {b: f'<w:rPr>{"<w:b/><w:bCs/>" if b else ""}<w:sz w:val="{half}"/><w:szCs w:val="{half}"/></w:rPr>'
            for b in (False, True)}
    # per column and boldness: the cell's paragraph start and run start (made once a table:
    # a letter has ~250 cells, a справка tens of thousands)
    starts = {(head, j, b): (f'<w:p><w:pPr><w:ind w:firstLine="0"/><w:jc w:val="'
                             f'{"center" if head else "right" if j in numeric else "left"}"/>{rprs[b]}</w:pPr>',
                             f'<w:r>{rprs[b]}<w:t xml:space="preserve">')
              for head in (False, True) for j in range(ncols) for b in (False, True)}
    tcs = [f'<w:tc><w:tcPr><w:tcW w:w="{w}" w:type="dxa"/>' for w in twips]

    def cell(value: Any, j: int, *, head: bool, b: bool, fill: str | None) -> str:
        shd = f'<w:shd w:val="clear" w:color="auto" w:fill="{fill}"/>' if fill else ""
        ppr, run_ = starts[(head, j, b)]
        text_ = "" if value is None else str(value)
        paras = [f'{ppr}{run_}{_text(line)}</w:t></w:r></w:p>' if line else f"{ppr}</w:p>"
                 for line in (text_.split("\n") if "\n" in text_ else (text_,))]
        return f'{tcs[j]}{shd}</w:tcPr>{"".join(paras)}</w:tc>'

    head = "".join(cell(h, j, head=True, b=True, fill=None) for j, h in enumerate(headers))
    body = []
    for i, row in enumerate(rows):
        b = i in bold
        cells = "".join(cell(row[j] if j < len(row) else "", j, head=False, b=b, fill=shades.get((i, j)) if shades else None)
                        for j in range(ncols))
        # a row is kept on one page unless it is long (a list of schools): a row taller than a
        # page would otherwise leave a page nearly empty before it
        long = sum(len(str(v)) for v in row) > LONG_ROW
        body.append(f'<w:tr>{"" if long else "<w:trPr><w:cantSplit/></w:trPr>"}{cells}</w:tr>')
    style = "TableGrid"   # «Table Grid» of python-docx's default template (new_document)
    start = (f'<w:tbl {_W}><w:tblPr><w:tblStyle w:val="{style}"/><w:tblW w:w="{sum(twips)}" w:type="dxa"/>'
             '<w:jc w:val="center"/><w:tblLayout w:type="fixed"/><w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" '
             'w:firstColumn="1" w:lastColumn="0" w:noHBand="0" w:noVBand="1"/></w:tblPr><w:tblGrid>'
             + "".join(f'<w:gridCol w:w="{w}"/>' for w in twips) + '</w:tblGrid>'
             f'<w:tr><w:trPr><w:cantSplit/><w:tblHeader/></w:trPr>{head}</w:tr>')
    # a long table in parts of ROWS_PER_TABLE rows, each with the header row, a hairline
    # paragraph between them: LibreOffice lays one table across pages in time growing with the
    # square of its rows (a roadmap of 5,764 rows: not done in 400 s; in parts: linear)
    for k in range(0, max(len(body), 1), ROWS_PER_TABLE):
        if k:
            _insert(doc, f'<w:p {_W}><w:pPr><w:spacing w:before="0" w:after="0" w:line="20" w:lineRule="exact"/>'
                         '<w:ind w:firstLine="0"/><w:rPr><w:sz w:val="2"/></w:rPr></w:pPr></w:p>')
        _insert(doc, start + "".join(body[k:k + ROWS_PER_TABLE]) + "</w:tbl>")
    para(doc, "", indent=False)


ROWS_PER_TABLE = 200


_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")   # not allowed in XML 1.0
_WORDS = re.compile("[ \n]")


def _auto_widths(headers: Sequence[Any], rows: Sequence[Sequence[Any]], size: float, total_cm: float) -> list[float]:
    """Column widths (cm) as a browser lays out an automatic table: each column at least its
    longest word (no word broken; at most 30 % of the width), the rest shared in proportion to
    what each column lacks for its longest text on one line."""
    char = 0.5 * size * 0.0353            # an average character of Times at `size` pt, cm
    pad = 0.45                            # the cell's margins
    mins, maxes = [], []
    for j, head in enumerate(headers):
        texts = [str(head)] + [str(r[j]) for r in rows if j < len(r) and r[j] is not None]
        word = max((len(w) for t in texts[1:] for w in _WORDS.split(t)), default=1)
        head_word = max((len(w) for w in str(head).split(" ")), default=1)   # bold: wider letters
        mins.append(min(max(word * char, head_word * char * 1.25) + pad, 0.3 * total_cm))
        longest = max((max(map(len, t.split("\n"))) if "\n" in t else len(t) for t in texts), default=0)
        maxes.append(max(longest * char + pad, mins[-1]))
    if sum(maxes) <= total_cm:             # everything fits on one line: widen in proportion
        return [m * total_cm / sum(maxes) for m in maxes]
    if sum(mins) >= total_cm:
        return [m * total_cm / sum(mins) for m in mins]
    lack = [x - m for x, m in zip(maxes, mins)]
    spare = total_cm - sum(mins)
    return [m + spare * d / sum(lack) for m, d in zip(mins, lack)]


# --------------------------------------------------------------------------- pictures


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height in pixels of a PNG (its IHDR chunk)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    return struct.unpack(">II", data[16:24])


def picture(doc: DocxDocument, data: bytes, *, max_height_cm: float = 21.0) -> None:
    """A PNG across the text width, smaller when it would be taller than max_height_cm."""
    w, h = png_size(data)
    width = text_width(doc)
    if width * h / w > Cm(max_height_cm):
        width = int(Cm(max_height_cm) * w / h)
    p = doc.add_paragraph()
    p.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.paragraph_format.keep_with_next = True
    p.add_run().add_picture(io.BytesIO(data), width=width)


# --------------------------------------------------------------------------- saving


def stamp_of(params: YearParams) -> dt.datetime:
    """The fixed moment a document of the year carries (its core properties and zip entries):
    the order's date, so that the same data give the same bytes."""
    d = params.header.order_date
    return dt.datetime(d.year, d.month, d.day, 12, 0, 0)


def docx_bytes(doc: DocxDocument, params: YearParams, title_: str) -> bytes:
    """The document's bytes, reproducible: core properties and zip dates fixed."""
    cp = doc.core_properties
    stamp = stamp_of(params)
    cp.author = params.header.organization
    cp.title = title_
    cp.last_modified_by = params.header.organization
    cp.created = cp.modified = stamp
    cp.revision = 1
    cp.comments = ""
    buf = io.BytesIO()
    doc.save(buf)
    return fixed_zip(buf.getvalue(), stamp)


def fixed_zip(data: bytes, stamp: dt.datetime) -> bytes:
    """The same zip with every entry's date set to stamp (entry order kept)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6])
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            dst.writestr(zi, src.read(info.filename))
    return out.getvalue()


# parts of python-docx's default template a generated letter does without: a second copy of
# the styles for Word 2010, a thumbnail, a custom XML item, web settings (together ~30 KB of
# a 43 KB letter)
_DROP = re.compile(r"word/stylesWithEffects\.xml|docProps/thumbnail\.jpeg|customXml/.*|word/webSettings\.xml")
# the styles a Body may name (p_xml's Heading1/2 and Caption, add_table's TableGrid, the page
# number's Header); the others of the template (~150, and its latent styles) are left out
_STYLES = ("Normal", "Heading1", "Heading2", "Caption", "TableGrid", "Header", "Footer", "Title")


def _slim(parts: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """The template's parts without those a generated document does not use (_DROP, and the
    unused styles); relationships and content types left consistent."""
    from lxml import etree

    out = []
    for name, data in parts:
        if _DROP.fullmatch(name):
            continue
        if name.endswith(".rels"):
            data = re.sub(rb'<Relationship [^>]*Target="[^"]*(stylesWithEffects\.xml|thumbnail\.jpeg|customXml/[^"]*|'
                          rb'webSettings\.xml)"/>', b"", data)
        elif name == "[Content_Types].xml":
            data = re.sub(rb'<Override PartName="/(customXml/[^"]*|word/stylesWithEffects\.xml|word/webSettings\.xml)"'
                          rb'[^>]*/>', b"", data)
        elif name == "word/styles.xml":
            root = etree.fromstring(data)
            w = root.nsmap["w"]
            for latent in root.findall(f"{{{w}}}latentStyles"):
                root.remove(latent)
            styles = {st.get(f"{{{w}}}styleId"): st for st in root.findall(f"{{{w}}}style")}
            keep = {i for i, st in styles.items() if st.get(f"{{{w}}}default") == "1"} | set(_STYLES)
            todo = list(keep)
            while todo:   # the styles these are based on, linked to, followed by
                st = styles.get(todo.pop())
                for ref in ("basedOn", "link", "next"):
                    el = st.find(f"{{{w}}}{ref}") if st is not None else None
                    if el is not None and el.get(f"{{{w}}}val") not in keep:
                        keep.add(el.get(f"{{{w}}}val"))
                        todo.append(el.get(f"{{{w}}}val"))
            for i, st in styles.items():
                if i not in keep:
                    root.remove(st)
            data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
        out.append((name, data))
    return out


class Skeleton:
    """The parts of an empty document of the year (page, styles, page numbers, properties),
    made once and compressed once; `bytes(body)` puts a Body into it: a letter costs its text
    (one part compressed), not a new document. The unused parts of the template are left out."""

    def __init__(self, params: YearParams, title_: str, *, landscape: bool = False) -> None:
        doc = new_document(landscape=landscape)
        page_numbers(doc)
        self.width = text_width(doc)
        self.stamp = stamp_of(params)
        with zipfile.ZipFile(io.BytesIO(docx_bytes(doc, params, title_))) as zf:
            parts = _slim([(i.filename, zf.read(i.filename)) for i in zf.infolist()])
        main = dict(parts)["word/document.xml"].decode("utf-8")
        cut = main.rindex("<w:sectPr")
        self.head, self.tail = main[:cut], main[cut:]
        self.head = self.head[:self.head.index("<w:body>") + len("<w:body>")]
        self.zip = FixedZip(self.stamp)
        self.entries = [(name, None if name == "word/document.xml" else self.zip.entry(name, data))
                        for name, data in parts]

    def body(self) -> Body:
        return Body(self.width)

    def bytes(self, body: Body) -> bytes:
        main = (self.head + body.xml() + self.tail).encode("utf-8")
        return self.zip.write([e or self.zip.entry(name, main) for name, e in self.entries])


class FixedZip:
    """A zip written directly (what zipfile writes, without its per-entry overhead): entries
    deflated once and reused in every file, every date the fixed stamp, so the same entries
    give the same bytes."""

    def __init__(self, stamp: dt.datetime, level: int = 6) -> None:
        self.level = level
        self.date = ((stamp.year - 1980) << 9) | (stamp.month << 5) | stamp.day
        self.time = (stamp.hour << 11) | (stamp.minute << 5) | (stamp.second // 2)

    def entry(self, name: str, data: bytes, deflate: bool = True) -> tuple[bytes, int, int, int, bytes, int]:
        """(name, crc, compressed size, size, compressed data, method) of one entry."""
        if deflate:
            c = zlib.compressobj(self.level, zlib.DEFLATED, -15)
            packed = c.compress(data) + c.flush()
        else:
            packed = data
        return name.encode("utf-8"), zlib.crc32(data), len(packed), len(data), packed, 8 if deflate else 0

    def write(self, entries: Sequence[tuple[bytes, int, int, int, bytes, int]]) -> bytes:
        """The zip of these entries, in this order."""
        out, central = [], []
        offset = 0
        for name, crc, csize, size, packed, method in entries:
            head = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0x800, method, self.time, self.date, crc, csize,
                               size, len(name), 0) + name
            central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0x0314, 20, 0x800, method, self.time,
                                       self.date, crc, csize, size, len(name), 0, 0, 0, 0, 0o100644 << 16, offset)
                           + name)
            out += (head, packed)
            offset += len(head) + csize
        cd = b"".join(central)
        end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(cd), offset, 0)
        return b"".join(out) + cd + end


def save(doc: DocxDocument, path: Path, params: YearParams, title_: str) -> Path:
    """Write the document atomically (pipeline.io.storage) with reproducible bytes."""
    return write_bytes_atomic(path, docx_bytes(doc, params, title_), durable=False)
