"""Reading a customer CSV as it streams in, never whole.

Encoding: UTF-8 (with or without the byte-order mark Excel writes) or, when any line is not UTF-8,
Windows-1252 (what Excel saves as "CSV" on Windows). Delimiter: comma or semicolon (German Excel),
told by the header line. Every structural character (quote, delimiter, newline) is ASCII in all
three, so the file's layout is read byte-transparently (latin-1) and each record remembers the byte
offset where it starts: a chunk is then a byte range of the stored file, read again by a worker.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

BOM = b"\xef\xbb\xbf"
UTF8 = "utf-8"
WINDOWS_1252 = "cp1252"
LAYOUT = "latin-1"  # byte-transparent: one character per byte


@dataclass(frozen=True)
class Dialect:
    encoding: str  # "utf-8" or "cp1252"
    delimiter: str  # "," or ";"

    def text(self, field: str) -> str:
        """A field read with the layout encoding, decoded in the file's own."""
        raw = field.encode(LAYOUT)
        try:
            return raw.decode(self.encoding)
        except UnicodeDecodeError:
            return raw.decode(WINDOWS_1252, errors="replace")


class Record(NamedTuple):
    number: int  # 1 = the first row after the header
    offset: int  # byte offset of its first byte in the file
    fields: list[str]


def delimiter_of(header_line: bytes) -> str:
    """Semicolon when the header has more semicolons than commas outside quotes, else comma."""
    text, inside, counts = header_line.decode(LAYOUT), False, {",": 0, ";": 0}
    for ch in text:
        if ch == '"':
            inside = not inside
        elif not inside and ch in counts:
            counts[ch] += 1
    return ";" if counts[";"] > counts[","] else ","


def is_utf8(line: bytes) -> bool:
    try:
        line.decode(UTF8)
    except UnicodeDecodeError:
        return False
    return True


class _Counted:
    """The file's lines as layout text, counting the bytes handed out (the next record's offset)."""

    def __init__(self, lines: Iterable[bytes], start: int):
        self.lines = iter(lines)
        self.consumed = start
        self.first = start == 0

    def __iter__(self) -> Iterator[str]:
        for line in self.lines:
            self.consumed += len(line)
            if self.first:
                self.first = False
                line = line.removeprefix(BOM)
            yield line.decode(LAYOUT)


def records(lines: Iterable[bytes], delimiter: str, *, start: int = 0, first_number: int = 0) -> Iterator[Record]:
    """Records in file order from `lines` (raw, line endings kept) starting at byte `start`; blank lines
    are skipped. `first_number` is the number of the first record (0 when `start` is the header)."""
    counted = _Counted(lines, start)
    reader = csv.reader(counted, delimiter=delimiter, quotechar='"', strict=False)
    number = first_number
    while True:
        offset = counted.consumed
        try:
            fields = next(reader)
        except StopIteration:
            return
        if not fields or all(not f.strip() for f in fields):
            continue
        yield Record(number, offset, fields)
        number += 1
