"""Streaming a workbook's XML part safely: expat, a DTD refused (so no entity is ever
expanded), nothing built in memory."""

from __future__ import annotations

from typing import Any
from xml.parsers import expat


class BadXml(Exception):
    """A part of the package is not well-formed XML, or declares a DTD (never in a workbook)."""


def parse_xml(stream: Any, start: Any, end: Any = None, chars: Any = None) -> None:
    """Stream one XML part of the package through expat (DTDs refused: no entity expansion)."""
    parser = expat.ParserCreate()

    def refuse(*_: Any) -> None:
        raise BadXml("DTD")

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.StartElementHandler = lambda n, a: start(n.rpartition(":")[2], a)
    if end is not None:
        parser.EndElementHandler = lambda n: end(n.rpartition(":")[2])
    if chars is not None:
        parser.CharacterDataHandler = chars
    try:
        while chunk := stream.read(1 << 20):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except (expat.ExpatError, LookupError):  # (an encoding declared that does not exist)
        raise BadXml("syntax") from None
