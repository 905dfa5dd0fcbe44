"""The report's sections (HTML, pipeline/report/sections) written into a Word document: the
справка shows exactly the text, tables and charts of the published report, made once by the
sections, not derived again. Headings, paragraphs, lists, tables (zone chips as shaded
cells) and PNG charts are kept; links become their text; the page's navigation is left out.

A table of more rows than the year's `documents.max_rows` (a list of thousands of schools: a
region's ranking, heat map, recommendations) is not written: a short notice in its place names
where the full list is (the sheet of results.xlsx, the published report). Such tables are cut
out of the HTML before it is parsed, so their size costs a text scan, not a tree.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from docx.document import Document as DocxDocument

from . import base

VOID = {"img", "col", "br", "hr", "input", "meta", "link", "source", "wbr"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list["Node | str"] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def find_all(self, tag: str) -> list["Node"]:
        out = []
        for c in self.children:
            if isinstance(c, Node):
                if c.tag == tag:
                    out.append(c)
                out.extend(c.find_all(tag))
        return out


class _Tree(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("root")
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(html: str) -> Node:
    """The HTML as a tree of Nodes (the sections' markup is well nested; void tags unclosed)."""
    t = _Tree()
    t.feed(html)
    t.close()
    return t.root


def text_of(node: Node | str) -> str:
    """The visible text: whitespace collapsed, an inline bar dropped, a collapsed list's summary
    («5 ОО») replaced by its content."""
    if isinstance(node, str):
        return node
    if node.tag in ("style", "script", "summary") or "bar" in node.classes:
        return ""
    if node.tag == "br":
        return "\n"
    parts = [text_of(c) for c in node.children]
    joined = "".join(parts)
    if node.tag in ("li", "div", "p") and joined:
        joined = joined + " "
    return joined


_SPACES = re.compile(r"[ \t\n\r\f\v]+")


def clean(s: str) -> str:
    """Whitespace collapsed as a browser does; a no-break space (1 119, «≥ 100 %») kept."""
    return _SPACES.sub(" ", s.replace("\u00ad", "")).strip()


_KEEP = re.compile(r"(?<=\d) (?=%)|(?<=[≥≤]) (?=\d)")


def unbroken(s: str) -> str:
    """«≥ 100 %» and «84,8 %» kept on one line in a narrow column."""
    return _KEEP.sub("\u00a0", s)


# a long table's sheet in results.xlsx (pipeline/report/excel.SHEETS), told by words of its
# header row; the first rule that matches names it (tests/test_documents_scale.py checks the
# names against SHEETS)
SHEET_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Рекомендации", ("приоритет", "рекомендац")),
    ("Целевые показатели", ("достигнуто", "целевой показатель")),
    ("Решения", ("основание",)),
    ("Дорожная карта", ("мероприяти",)),
    ("Критерии", ("критери",)),
    ("Результаты", ("место", "балл", "уровень", "зона", "оо")),
)
OMITTED = "docx-omitted"   # the element a long table is replaced by before parsing


def sheet_for(headers: list[str]) -> str | None:
    """The results.xlsx sheet holding the full table of these column headers, or None."""
    words = " ".join(h.lower() for h in headers)
    for sheet, keys in SHEET_RULES:
        if any(k in words.split() if len(k) <= 3 else k in words for k in keys):
            return sheet
    return None


def notice(rows: int, headers: list[str], title: str = "") -> str:
    """What the справка says instead of a table of `rows` rows (Russian)."""
    sheet = sheet_for(headers)
    where = (f"в файле результатов results.xlsx (лист «{sheet}»)" if sheet else "в файле результатов results.xlsx")
    named = f"«{title}» " if title else ""
    return (f"Таблица {named}({rows} {plural_rows(rows)}) в справку не включена: полный перечень приведён {where} "
            "и в опубликованном отчёте на сайте.")


def plural_rows(n: int) -> str:
    if n % 10 == 1 and n % 100 != 11:
        return "строка"
    return "строки" if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14 else "строк"


_TABLE = re.compile(r"<table\b.*?</table>", re.S)
_HEAD = re.compile(r"<thead\b.*?</thead>|<caption\b.*?</caption>", re.S)


def cut_long_tables(html: str, max_rows: int | None) -> str:
    """The HTML with each table of more than max_rows body rows replaced by an OMITTED element
    carrying its row count, caption and header (tables are not nested in the sections)."""
    if max_rows is None:
        return html

    def cut(m: re.Match[str]) -> str:
        t = m.group(0)
        rows = t.count("<tr") - t.count("<thead")   # the header row is the thead's one
        if rows <= max_rows:
            return t
        return f'<div class="{OMITTED}" data-rows="{rows}">{"".join(_HEAD.findall(t))}</div>'

    return _TABLE.sub(cut, html)


class Writer:
    """Writes the nodes of a section into the document."""

    def __init__(self, doc: DocxDocument, max_rows: int | None = None) -> None:
        self.doc = doc
        self.max_rows = max_rows
        self.last_heading = ""

    def write(self, node: Node) -> None:
        for child in node.children:
            if isinstance(child, str):
                if child.strip():
                    base.para(self.doc, clean(child))
                continue
            self.block(child)

    def block(self, n: Node) -> None:
        tag, cls = n.tag, n.classes
        if tag in ("nav", "header", "footer", "style", "script") or "cycle-nav" in cls:
            return
        if OMITTED in cls:
            self.omitted(n)
        elif tag == "h1" or tag == "h2":
            number = next((c for c in n.children if isinstance(c, Node) and "num" in c.classes), None)
            rest = clean("".join(text_of(c) for c in n.children if c is not number))
            base.heading(self.doc, f"{clean(text_of(number))}. {rest}" if number is not None else rest, 1)
        elif tag in ("h3", "h4"):
            self.last_heading = clean(text_of(n))
            base.heading(self.doc, self.last_heading, 2)
        elif tag == "p":
            base.para(self.doc, self.short(clean(text_of(n))), italic="note" in cls)
        elif tag in ("ul", "ol"):
            self.listing(n, numbered=tag == "ol")
        elif tag == "table":
            self.table(n)
        elif tag == "figure":
            self.figure(n)
        elif "cards" in cls:
            self.cards(n)
        elif "callout" in cls:
            base.para(self.doc, clean(text_of(n)), italic=True)
        elif tag in ("section", "div", "details", "root"):
            self.write(n)
        else:
            t = self.short(clean(text_of(n)))
            if t:
                base.para(self.doc, t)

    def short(self, s: str) -> str:
        """A list in one text (a seminar's schools, a decision's) of more than max_rows items cut
        to its first max_rows, with the count and where the full list is."""
        if self.max_rows is None or len(s) < 2 * self.max_rows:
            return s
        sep = max(("; ", ", "), key=s.count)
        items = s.split(sep)
        if len(items) <= self.max_rows:
            return s
        return (sep.join(items[:self.max_rows]) + f"{sep.strip()} … (всего {len(items)}; полный перечень — в файле "
                "результатов results.xlsx и в опубликованном отчёте на сайте)")

    def omitted(self, n: Node) -> None:
        """The notice in place of a long table (cut_long_tables)."""
        heads = [clean(text_of(th)) for th in n.find_all("th")]
        caption = n.find_all("caption")
        title = clean(text_of(caption[0])) if caption else self.last_heading
        base.para(self.doc, notice(int(n.attrs.get("data-rows", "0")), heads, title), italic=True)

    def listing(self, n: Node, numbered: bool) -> None:
        items = [c for c in n.children if isinstance(c, Node) and c.tag == "li"]
        for i, li in enumerate(items, start=1):
            own = "".join(text_of(c) for c in li.children if not (isinstance(c, Node) and c.tag in ("ul", "ol")))
            mark = f"{i}. " if numbered else "– "
            base.para(self.doc, mark + self.short(clean(own)))
            for sub in (c for c in li.children if isinstance(c, Node) and c.tag in ("ul", "ol")):
                for li2 in (c for c in sub.children if isinstance(c, Node) and c.tag == "li"):
                    base.para(self.doc, "– " + clean(text_of(li2)), left=base.INDENT)

    def table(self, n: Node) -> None:
        caption = n.find_all("caption")
        if caption:
            base.para(self.doc, clean(text_of(caption[0])), italic=True, keep=True)
        heads = [clean(text_of(th)) for th in n.find_all("thead")[0].find_all("th")] if n.find_all("thead") else []
        body = n.find_all("tbody")
        trs = body[0].find_all("tr") if body else n.find_all("tr")
        rows, shades, bold = [], {}, []
        num_cols: set[int] = set()
        for i, tr in enumerate(trs):
            cells = [c for c in tr.children if isinstance(c, Node) and c.tag in ("td", "th")]
            # a cell the page keeps on one line («≥ 100 %», «12 из 33 (36 %)») keeps it here too
            rows.append([clean(text_of(td)).replace(" ", "\u00a0") if "nowrap" in td.classes
                         else unbroken(self.short(clean(text_of(td)))) for td in cells])
            if "total" in tr.classes:
                bold.append(i)
            for j, td in enumerate(cells):
                if "num" in td.classes:
                    num_cols.add(j)
                for chip in (x for x in td.find_all("span") if "chip" in x.classes):
                    zone = next((z for z in base.SHADES if z in chip.classes), None)
                    if zone:
                        shades[(i, j)] = base.SHADES[zone]
        if not heads:
            heads = [""] * max((len(r) for r in rows), default=0)
        if not rows or not heads:
            return
        if self.max_rows is not None and len(rows) > self.max_rows:   # a table not cut before parsing
            base.para(self.doc, notice(len(rows), heads, clean(text_of(caption[0])) if caption else self.last_heading),
                      italic=True)
            return
        # a column of no header and no text (the ranking's bar) is left out
        keep = [j for j in range(len(heads)) if heads[j] or any(j < len(r) and r[j] for r in rows)]
        heads = [heads[j] for j in keep]
        rows = [[r[j] if j < len(r) else "" for j in keep] for r in rows]
        shades = {(i, keep.index(j)): v for (i, j), v in shades.items() if j in keep}
        base.add_table(self.doc, heads, rows, shades=shades, bold_rows=bold,
                       num_cols=[keep.index(j) for j in num_cols if j in keep])

    def figure(self, n: Node) -> None:
        for img in n.find_all("img"):
            src = img.attrs.get("src", "")
            if src.startswith("data:image/png;base64,"):
                base.picture(self.doc, base64.b64decode(src.split(",", 1)[1]))
        cap = n.find_all("figcaption")
        if cap:
            base.caption(self.doc, clean(text_of(cap[0])))

    def cards(self, n: Node) -> None:
        rows = []
        for card in (c for c in n.children if isinstance(c, Node)):
            parts = {k: "" for k in ("card-label", "card-value", "card-sub")}
            for d in (c for c in card.children if isinstance(c, Node)):
                for k in parts:
                    if k in d.classes:
                        parts[k] = clean(text_of(d))
            rows.append([parts["card-label"], parts["card-value"], parts["card-sub"]])
        base.add_table(self.doc, ["Показатель", "Значение", "Пояснение"], rows, widths=[5, 3, 6])


def write_html(doc: DocxDocument, html: str, max_rows: int | None = None) -> None:
    """Write one section's HTML into the document; a table of more than max_rows rows as a
    notice of where the full list is."""
    Writer(doc, max_rows).write(parse(cut_long_tables(html, max_rows)))

