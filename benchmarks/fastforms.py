"""Fast school forms for benchmarks: one workbook written by openpyxl, then stamped per school.

openpyxl needs about 30 ms to build and save one form, so 10,000 forms would take five minutes
before the benchmark has measured anything. `FormStamper` builds the year's form once with a
placeholder in every answer cell, keeps the package's parts, and for each school only replaces
the placeholder cells in the sheets' XML by the values, written exactly as openpyxl writes them
(inline strings, numbers, dates as serial numbers in a date-formatted cell, empty cells). The
result is byte-identical to `form_template.workbook_bytes(form_template.build_workbook(...))` for the same
values (tests/test_benchmarks.py checks it), about thirty times faster.

Only forms in the template's row order without protection changes are stamped: the sample's
planned defects (reordered rows, retyped labels, broken files) still go through openpyxl.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from typing import Any
from xml.sax.saxutils import escape


from pipeline.config.methodology import Methodology
from pipeline.form import template as form_template

_EXCEL_EPOCH = dt.date(1899, 12, 30)
_PLACEHOLDER = "@@F{}@@"
STYLES = "xl/styles.xml"
_CELL = re.compile(r'<c r="([A-Z]+\d+)" s="(\d+)" t="inlineStr"><is><t>@@F(\d+)@@</t></is></c>')


def _value_xml(ref: str, style: str, value: Any) -> str:
    """One cell as openpyxl writes it."""
    if value is None:
        return f'<c r="{ref}" s="{style}" t="n" />'
    if isinstance(value, bool):
        return f'<c r="{ref}" s="{style}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, dt.datetime):
        delta = value - dt.datetime(1899, 12, 30)
        serial = delta.days + delta.seconds / 86400
        return f'<c r="{ref}" s="{style}" t="n"><v>{serial:g}</v></c>'
    if isinstance(value, dt.date):
        return f'<c r="{ref}" s="{style}" t="n"><v>{(value - _EXCEL_EPOCH).days}</v></c>'
    if isinstance(value, (int, float)):
        return f'<c r="{ref}" s="{style}" t="n"><v>{value}</v></c>'
    text = str(value)
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f'<c r="{ref}" s="{style}" t="inlineStr"><is><t{space}>{escape(text)}</t></is></c>'


class FormStamper:
    """The year's form, written once; `bytes(values)` gives one school's filled workbook."""

    def __init__(self, methodology: Methodology, academic_year: str, stamp: dt.datetime) -> None:
        self.stamp = stamp
        wb, cells = form_template.build_workbook(methodology, academic_year, values={})
        self.fields = [name for name in cells if name != "info.academic_year"]
        placeholders = {name: _PLACEHOLDER.format(i) for i, name in enumerate(self.fields)}
        wb, _ = form_template.build_workbook(methodology, academic_year, values=placeholders)
        package = form_template.workbook_bytes(wb, stamp)
        # openpyxl registers a number format when a date is assigned to a cell: a form with a
        # date has one more entry in its styles than the template with placeholders
        dated, _ = form_template.build_workbook(methodology, academic_year, values={"info.filled_date": stamp.date()})
        with zipfile.ZipFile(io.BytesIO(form_template.workbook_bytes(dated, stamp))) as zf:
            self.dated_styles = zf.read(STYLES)
        self.parts: list[tuple[zipfile.ZipInfo, bytes | list[Any]]] = []
        with zipfile.ZipFile(io.BytesIO(package)) as zf:
            for info in zf.infolist():
                data = zf.read(info.filename)
                if info.filename.startswith("xl/worksheets/") and b"@@F" in data:
                    # text pieces and (ref, style, field) holes, alternating
                    text = data.decode("utf-8")
                    pieces: list[Any] = []
                    last = 0
                    for m in _CELL.finditer(text):
                        pieces.append(text[last:m.start()])
                        pieces.append((m.group(1), m.group(2), self.fields[int(m.group(3))]))
                        last = m.end()
                    pieces.append(text[last:])
                    self.parts.append((info, pieces))
                else:
                    self.parts.append((info, data))

    def bytes(self, values: dict[str, Any]) -> bytes:
        """The filled form (the same bytes openpyxl would write for these values)."""
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
            for info, part in self.parts:
                if isinstance(part, list):
                    data = "".join(p if isinstance(p, str) else _value_xml(p[0], p[1], values.get(p[2]))
                                   for p in part).encode("utf-8")
                elif info.filename == STYLES and any(isinstance(v, dt.date) for v in values.values()):
                    data = self.dated_styles
                else:
                    data = part
                zi = zipfile.ZipInfo(info.filename, date_time=info.date_time)
                zi.compress_type = zipfile.ZIP_DEFLATED
                zi.external_attr = info.external_attr
                dst.writestr(zi, data)
        return out.getvalue()
