"""Small HTML builders for the report's sections: every string is escaped unless it is
`Markup` built here."""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from markupsafe import Markup, escape

from ..config.params import YearParams
from ..core.levels import ZONE_MARK, trend, zone_of
from ..core.russian import fmt_num
from ..core.values import num, text
from .labels import ZONE_CLASS


def _cell(v: Any) -> Markup:
    if isinstance(v, Markup):
        return v
    return escape(text(v))


def h(tag: str, content: Any = "", **attrs: Any) -> Markup:
    """<tag attrs>content</tag>; content escaped unless Markup; `class_` → class."""
    parts = []
    for k, v in attrs.items():
        if v is None or v is False:
            continue
        k = k.rstrip("_").replace("_", "-")
        parts.append(f' {k}="{escape(text(v))}"')
    if isinstance(content, (list, tuple)):
        inner = Markup("").join(_cell(c) for c in content)
    else:
        inner = _cell(content)
    return Markup(f"<{tag}{''.join(parts)}>{inner}</{tag}>")


def table(headers: Sequence[Any], rows: Iterable[Sequence[Any]], *, cls: str = "data",
          num_cols: Sequence[int] = (), caption: str | None = None, row_classes: Sequence[str] | None = None,
          nowrap: Sequence[int] = (), widths: Sequence[str | None] | None = None, hidden_caption: bool = False) -> Markup:
    """A plain HTML table; numeric columns right-aligned, `nowrap` columns kept on one line,
    `widths` (CSS widths per column) fix the layout so that tables of one kind line up. The
    caption names the table for a screen reader (`hidden_caption`: for it only, when a heading
    just above already says it; sub() gives an uncaptioned table its heading so)."""
    numeric, keep = set(num_cols), set(nowrap)

    def klass(i: int) -> str | None:
        names = [n for n, on in (("num", i in numeric), ("nowrap", i in keep)) if on]
        return " ".join(names) or None

    head = Markup("").join(h("th", c, class_=klass(i), scope="col") for i, c in enumerate(headers))
    # each cell as h("td", c, class_=klass(i)) would write it, its opening tag made once per
    # column (a region's tables have hundreds of thousands of cells)
    opening = [f'<td class="{escape(k)}">' if (k := klass(i)) else "<td>" for i in range(len(headers))]
    body = []
    for r, row in enumerate(rows):
        while len(opening) < len(row):
            opening.append(f'<td class="{escape(k)}">' if (k := klass(len(opening))) else "<td>")
        cells = "".join([f"{opening[i]}{_cell(c)}</td>" for i, c in enumerate(row)])
        rc = row_classes[r] if row_classes and r < len(row_classes) else None
        body.append(Markup(f'<tr class="{escape(rc)}">{cells}</tr>' if rc else f"<tr>{cells}</tr>"))
    cap = h("caption", caption, class_="sr-only" if hidden_caption else None) if caption else Markup("")
    cols = Markup("")
    if widths:
        cols = h("colgroup", Markup("").join(Markup(f'<col style="width:{escape(w)}">') if w else Markup("<col>")
                                             for w in widths))
        cls += " fixed"
    return Markup(f'<div class="table-wrap"><table class="{escape(cls)}">{cap}{cols}<thead><tr>{head}</tr></thead>'
                  f"<tbody>{Markup('').join(body)}</tbody></table></div>")


def zone_mark(zone: str) -> Markup:
    """The zone's symbol (seen) and its name (read by a screen reader instead of the symbol)."""
    return (h("span", ZONE_MARK[zone], class_="zmark", aria_hidden="true")
            + h("span", f" ({zone} зона)", class_="sr-only"))


def zone_chip(value: Any, params: YearParams, label: str | None = None) -> Markup:
    """A value in its zone's colour, with the zone's letter (В, С, Н) so colour is not alone."""
    z = zone_of(value, params)
    if not z:
        return h("span", label if label is not None else "—", class_="chip none")
    content = [zone_mark(z), " ", label if label is not None else fmt_num(value)]
    return h("span", content, class_=f"chip {ZONE_CLASS[z]}", title=f"{z} зона")


def zone_legend(params: YearParams) -> Markup:
    """One line naming the zone letters and colours with the thresholds."""
    hi, med = fmt_num(params.levels.high, 0), fmt_num(params.levels.medium, 0)
    z = [h("span", ZONE_MARK[k], class_=f"chip {ZONE_CLASS[k]}") + " " for k in ZONE_MARK]
    return h("p", Markup("Зоны: ") + z[0] + f"зелёная — высокий уровень (≥ {hi}), " + z[1]
             + f"жёлтая — средний (≥ {med}), " + z[2] + "красная — низкий (зона риска).", class_="zone-legend note")


def trend_chip(delta: Any, threshold: float) -> Markup:
    mark, cls, words = trend(delta, threshold)
    if not mark:
        return h("span", "—", class_="trend none", title=words)
    sign = "+" if (num(delta) or 0) > 0 else ""
    return h("span", f"{mark} {sign}{fmt_num(delta)}", class_=f"trend {cls}", title=words)


def bar_cell(value: Any, params: YearParams) -> Markup:
    """An inline bar 0–100 coloured by zone (CSS only)."""
    f = num(value)
    if f is None:
        return Markup('<span class="bar empty"></span>')
    z = ZONE_CLASS.get(zone_of(f, params), "none")
    w = max(0.0, min(100.0, f))
    return Markup(f'<span class="bar"><span class="fill {z}" style="width:{w:.1f}%"></span></span>')


def section(anchor: str, number: str, title: str, *content: Any, lead: str | None = None) -> str:
    head = h("h2", [h("span", number, class_="num"), " ", title] if number else title)
    parts = [head]
    if lead:
        parts.append(h("p", lead, class_="lead"))
    parts.extend(_cell(c) for c in content)
    return str(h("section", Markup("").join(parts), id=anchor, class_="report-section"))


_TABLE_START = '<div class="table-wrap"><table class="'


def _captioned(content: Any, title: str) -> Any:
    """A table built by table() without a caption gets the heading above it as a caption for
    screen readers (WCAG 1.3.1: a table is named)."""
    if not (isinstance(content, Markup) and content.startswith(_TABLE_START)):
        return content
    head_end = content.index(">", len(_TABLE_START)) + 1
    if content.startswith("<caption", head_end):
        return content
    return Markup(content[:head_end]) + h("caption", title, class_="sr-only") + Markup(content[head_end:])


def sub(title: str, *content: Any, anchor: str | None = None) -> Markup:
    """A titled part of a section; with an anchor it is a block the contents can link to.
    Its tables without a caption are named by its title."""
    inner = Markup("").join([h("h3", title)] + [_cell(_captioned(c, title)) for c in content])
    return h("div", inner, id=anchor, class_="subsection") if anchor else inner


def para(*sentences: Any, cls: str | None = None) -> Markup:
    return h("p", Markup(" ").join(_cell(s) for s in sentences if s), class_=cls)


def note(*sentences: Any) -> Markup:
    return para(*sentences, cls="note")


def figure(uri: str, alt: str, caption: str, data: Markup, width: int | None = None) -> Markup:
    """A chart with its text alternative (WCAG 1.1.1): `alt` says what it shows with its key
    numbers, the caption how to read it, and `data` (a table of the numbers drawn, from
    chart_data()) sits folded under the caption."""
    img = Markup(f'<img src="{escape(uri)}" alt="{escape(alt)}"' + (f' width="{int(width)}"' if width else "") + ">")
    folded = h("details", h("summary", "Данные диаграммы") + data, class_="chart-data")
    return h("figure", img + h("figcaption", h("span", caption) + folded), class_="chart")


def chart_data(title: str, headers: Sequence[Any], rows: Iterable[Sequence[Any]], num_cols: Sequence[int] = ()) -> Markup:
    """The numbers of a chart as a table captioned «Данные диаграммы: <title>»."""
    return table(headers, rows, num_cols=num_cols, caption=f"Данные диаграммы: {title}", cls="data chart-table")
