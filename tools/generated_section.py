"""Shared by the doc generators: replace a marked section of a file, or check it is current."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path


def update(doc: Path, begin: str, end: str, render: Callable[[], str], argv: list[str]) -> int:
    """Rewrite the text between ``begin`` and ``end`` in ``doc`` (``--check``: only compare).

    ``render()`` returns the new section, markers included. Returns an exit code.
    """
    text = doc.read_text(encoding="utf-8")
    if begin not in text or end not in text:
        print(f"{doc} lacks the markers {begin!r} ... {end!r}", file=sys.stderr)
        return 1
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    new = head + render() + tail
    if "--check" in argv:
        if new != text:
            print(f"{doc} is stale: run python tools/{Path(sys.argv[0]).name}", file=sys.stderr)
            return 1
        return 0
    doc.write_text(new, encoding="utf-8")
    return 0
