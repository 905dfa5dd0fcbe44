"""A seeded generator of damaged and crafted forms: valid forms whose zip structure and XML
parts are mutated (entries flipped, truncated, duplicated, dropped, renamed; bogus
relationships, far cell addresses and dimensions, wrong content types, deep nesting, bad
encodings, DTDs). Used by tests/test_fuzz.py and benchmarks/load.py. Deterministic: case `i`
of seed `s` is always the same bytes."""

from __future__ import annotations

import io
import random
import re
import warnings
import zipfile
from typing import Callable

Parts = list[tuple[zipfile.ZipInfo, bytes]]

FAR_ADDRESSES = ["XFD1048576", "BI1", "A20001", "A0", "AAAA1", "A99999999999", "$XFD$1", "a1", "1A", "", "A-1",
                 "ZZZ999999", "A１", "A1 ", "XFE1"]
TARGETS = ["worksheets/./sheet1.xml", "../xl/worksheets/sheet2.xml", "worksheets//sheet3.xml", "/xl/worksheets/sheet1.xml",
           "/XL/WORKSHEETS/SHEET2.XML", "worksheets\\sheet1.xml", "worksheets/sheet&#49;.xml", "", "/", "..", "../../../etc/passwd",
           "http://example.com/x.xml", "worksheets/missing.xml", "styles.xml", "theme/theme1.xml", "worksheets/sheet1.xml#a",
           "%2e%2e/worksheets/sheet1.xml", "chartsheets/sheet1.xml", "xl/worksheets/sheet1.xml"]
ENCODINGS = [b'<?xml version="1.0" encoding="UTF-16"?>', b'<?xml version="1.0" encoding="bogus"?>',
             b'<?xml version="1.0" encoding="windows-1251"?>', b"\xef\xbb\xbf", b"\xff\xfe", b'<?xml version="2.0"?>']
NASTY = [b"<!DOCTYPE x [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;\">]>", b"\x00", b"\xff\xfe\xfd",
         b"<![CDATA[<c r=\"XFD1\"><v>1</v></c>]]>", b"<!-- <c r='XFD1048576'> -->", b"&#0;", b"&undefined;", b"\xc3\x28",
         b"<x:c r=\"XFD1048576\" xmlns:x=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><x:v>1</x:v></x:c>"]


def _pick_xml(rng: random.Random, parts: Parts) -> int:
    xml = [i for i, (info, _) in enumerate(parts) if info.filename.endswith((".xml", ".rels"))]
    return rng.choice(xml) if xml else rng.randrange(len(parts))


def _retext(rng: random.Random, parts: Parts, fn: Callable[[random.Random, bytes], bytes]) -> Parts:
    i = _pick_xml(rng, parts)
    info, data = parts[i]
    return parts[:i] + [(info, fn(rng, data))] + parts[i + 1:]


def _flip(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return b"\x00"
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


def _truncate(rng: random.Random, data: bytes) -> bytes:
    return data[:rng.randrange(len(data) + 1)]


def _far_cell(rng: random.Random, data: bytes) -> bytes:
    cells = [m.start(1) for m in re.finditer(rb'<c r="([^"]*)"', data)]
    if not cells:
        return data + b'<c r="XFD1048576"><v>1</v></c>'
    at = rng.choice(cells)
    end = data.index(b'"', at)
    return data[:at] + rng.choice(FAR_ADDRESSES).encode() + data[end:]


def _far_row(rng: random.Random, data: bytes) -> bytes:
    return re.sub(rb'<row r="\d+"', lambda _: f'<row r="{rng.choice(["0", "1048577", "99999999999999", "-3", "x"])}"'.encode(),
                  data, count=rng.randint(1, 3))


def _dimension(rng: random.Random, data: bytes) -> bytes:
    ref = rng.choice(["A1:XFD1048576", "XFD1048576:A1", "A1:", ":", "A1:A1:A1", "Z9:A1", "", "A0:B0"])
    return re.sub(rb'<dimension ref="[^"]*"', f'<dimension ref="{ref}"'.encode(), data)


def _nest(rng: random.Random, data: bytes) -> bytes:
    depth = rng.choice([100, 5_000, 50_000])
    at = data.find(b"<sheetData>")
    at = at + len(b"<sheetData>") if at >= 0 else len(data) // 2
    return data[:at] + b"<a>" * depth + b"</a>" * depth + data[at:]


def _encoding(rng: random.Random, data: bytes) -> bytes:
    head = rng.choice(ENCODINGS)
    data = re.sub(rb"^<\?xml[^>]*\?>", b"", data)
    if rng.random() < 0.3:
        return head + data.decode("utf-8", "replace").encode("utf-16-le")
    return head + data


def _inject(rng: random.Random, data: bytes) -> bytes:
    at = rng.randrange(len(data) + 1)
    return data[:at] + rng.choice(NASTY) + data[at:]


def _target(rng: random.Random, data: bytes) -> bytes:
    targets = list(re.finditer(rb'Target="[^"]*"', data))
    if not targets:
        return data
    m = rng.choice(targets)
    return data[:m.start()] + f'Target="{rng.choice(TARGETS)}"'.encode() + data[m.end():]


def _shared_string(rng: random.Random, data: bytes) -> bytes:
    return re.sub(rb't="inlineStr"><is><t>[^<]*</t></is>', lambda _: f't="s"><v>{rng.choice([0, 5, 99999, -1])}</v>'.encode(),
                  data, count=rng.randint(1, 3))


def _content_type(rng: random.Random, data: bytes) -> bytes:
    return re.sub(rb'ContentType="[^"]*"', b'ContentType="text/plain"', data, count=rng.randint(1, 5))


XML_MUTATIONS = {"flip": _flip, "truncate": _truncate, "far_cell": _far_cell, "far_row": _far_row, "dimension": _dimension,
                 "nest": _nest, "encoding": _encoding, "inject": _inject, "target": _target,
                 "shared_string": _shared_string, "content_type": _content_type}


def _zip_mutation(rng: random.Random, parts: Parts, kind: str) -> Parts:
    i = rng.randrange(len(parts))
    info, data = parts[i]
    if kind == "drop":
        return parts[:i] + parts[i + 1:]
    if kind == "duplicate":
        twin = zipfile.ZipInfo(info.filename)
        return parts + [(twin, _far_cell(rng, data) if rng.random() < 0.5 else data)]
    renamed = zipfile.ZipInfo(rng.choice([info.filename.upper(), "./" + info.filename, info.filename.replace("/", "\\"),
                                          info.filename + "/", "/" + info.filename, "xl/worksheets/../" + info.filename]))
    return parts[:i] + [(renamed, data)] + parts[i + 1:]


def _pack(parts: Parts, rng: random.Random) -> bytes:
    buf = io.BytesIO()
    method = zipfile.ZIP_STORED if rng.random() < 0.2 else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(buf, "w", method) as zout, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are one of the mutations
        for info, data in parts:
            item = zipfile.ZipInfo(info.filename, date_time=(2026, 1, 1, 0, 0, 0))
            item.compress_type = method
            zout.writestr(item, data)
    return buf.getvalue()


def _raw_mutation(rng: random.Random, data: bytes) -> bytes:
    kind = rng.choice(["flip", "truncate", "compress_type"])
    if kind == "compress_type":  # an unknown compression method in the central directory
        out = bytearray(data)
        at = out.rfind(b"PK\x01\x02")
        if at >= 0:
            out[at + 10:at + 12] = rng.choice([b"\x63\x00", b"\x0c\x00", b"\x0e\x00"])
        return bytes(out)
    return _flip(rng, data) if kind == "flip" else _truncate(rng, data)


def mutate(form: bytes, seed: int, case: int) -> tuple[str, bytes]:
    """(what was done, the damaged bytes) of case `case`: one to three mutations."""
    rng = random.Random(f"{seed}:{case}")
    with zipfile.ZipFile(io.BytesIO(form)) as zf:
        parts: Parts = [(info, zf.read(info)) for info in zf.infolist()]
    done = []
    for _ in range(rng.choice([1, 1, 2, 3])):
        kind = rng.choice(list(XML_MUTATIONS) * 2 + ["drop", "duplicate", "rename"])
        done.append(kind)
        parts = _retext(rng, parts, XML_MUTATIONS[kind]) if kind in XML_MUTATIONS else _zip_mutation(rng, parts, kind)
        if not parts:
            break
    data = _pack(parts, rng) if parts else b"PK\x05\x06" + b"\x00" * 18
    if rng.random() < 0.1:
        done.append("raw")
        data = _raw_mutation(rng, data)
    return "+".join(done), data
