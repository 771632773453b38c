"""Hostile files, made at test time in a few lines (never committed), and a way to watch a child process read one.

A workbook part is given as pieces of XML, each repeated some number of times. Each piece is deflated once,
flushed to a byte boundary, and its deflated bytes are written as often as it repeats: a part that unpacks
to a gigabyte is made in a second, as small as an attacker would make it.
"""
from __future__ import annotations

import os
import resource
import select
import signal
import struct
import time
import zlib
from collections.abc import Callable
from pathlib import Path

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE = "http://schemas.openxmlformats.org/package/2006/relationships"
MB = 1024 * 1024

Part = list[tuple[str, int]]  # (XML, how many times in a row)


def workbook(path: Path, sheet: Part, shared_strings: Part | None = None) -> Path:
    """An .xlsx whose first sheet's <sheetData> holds `sheet`, with `shared_strings` (<si> elements) if given."""
    relation = f'<Relationship Id="rId2" Target="sharedStrings.xml" Type="{RELATIONS}/sharedStrings"/>'
    types = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    parts = {
        "[Content_Types].xml": [(
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{types}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{types}.worksheet+xml"/>'
            + (f'<Override PartName="/xl/sharedStrings.xml" ContentType="{types}.sharedStrings+xml"/>'
               if shared_strings else "") + "</Types>", 1)],
        "_rels/.rels": [(f'<Relationships xmlns="{PACKAGE}"><Relationship Id="rId1" Target="xl/workbook.xml" '
                         f'Type="{RELATIONS}/officeDocument"/></Relationships>', 1)],
        "xl/workbook.xml": [(f'<workbook xmlns="{MAIN}" xmlns:r="{RELATIONS}"><sheets>'
                             '<sheet name="Customers" sheetId="1" r:id="rId1"/></sheets></workbook>', 1)],
        "xl/_rels/workbook.xml.rels": [(
            f'<Relationships xmlns="{PACKAGE}"><Relationship Id="rId1" Target="worksheets/sheet1.xml" '
            f'Type="{RELATIONS}/worksheet"/>{relation if shared_strings else ""}</Relationships>', 1)],
        "xl/worksheets/sheet1.xml": [(f'<worksheet xmlns="{MAIN}"><sheetData>', 1), *sheet,
                                     ("</sheetData></worksheet>", 1)],
    }
    if shared_strings:
        parts["xl/sharedStrings.xml"] = [(f'<sst xmlns="{MAIN}">', 1), *shared_strings, ("</sst>", 1)]
    _write_zip(path, parts)
    return path


def header(*names: str) -> str:
    """A first row of inline strings."""
    cells = "".join(f'<c r="{chr(65 + index)}1" t="inlineStr"><is><t>{name}</t></is></c>'
                    for index, name in enumerate(names))
    return f'<row r="1">{cells}</row>'


def _write_zip(path: Path, parts: dict[str, Part]) -> None:
    directory = []
    with path.open("wb") as out:
        for name, pieces in parts.items():
            encoded = name.encode()
            crc = size = packed = 0
            blocks = []
            for text, times in pieces:
                data = text.encode()
                deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
                block = deflate.compress(data) + deflate.flush(zlib.Z_FULL_FLUSH)
                for _ in range(times):
                    crc = zlib.crc32(data, crc)
                blocks.append((block, times))
                size, packed = size + len(data) * times, packed + len(block) * times
            end = zlib.compressobj(9, zlib.DEFLATED, -15).flush()  # the last, empty block
            packed += len(end)
            offset = out.tell()
            out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, packed, size, len(encoded), 0))
            out.write(encoded)
            for block, times in blocks:
                for _ in range(times):
                    out.write(block)
            out.write(end)
            directory.append(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, packed, size,
                                         len(encoded), 0, 0, 0, 0, 0, offset) + encoded)
        start = out.tell()
        listing = b"".join(directory)
        out.write(listing)
        out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(directory), len(directory), len(listing), start, 0))


def in_a_child(work: Callable[[], object], timeout: float = 20.0) -> tuple[str, float, float]:
    """Run `work` in a forked child (as a worker would), capped at 2 GB more address space: (what came of it, the
    child's peak memory above what it started with in MB, seconds). The outcome is "ok: …", "refused: <the
    message>", "MemoryError", or "still running after …" when it had to be stopped."""
    reader, writer = os.pipe()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        os.close(reader)
        try:
            before = _rss_mb()
            resource.setrlimit(resource.RLIMIT_AS, (_address_space() + 2048 * MB, resource.RLIM_INFINITY))
            try:
                outcome = f"ok: {work()}"
            except MemoryError:
                outcome = "MemoryError"
            except Exception as error:  # noqa: BLE001 - reported to the test, which says what it expected
                outcome = f"refused: {error}" if type(error).__name__ == "FileRejected" else repr(error)
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - before
            os.write(writer, f"{peak:.1f}\n{outcome}".encode())
        finally:
            os._exit(0)
    os.close(writer)
    ready, _, _ = select.select([reader], [], [], timeout)
    if not ready:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(reader)
        return f"still running after {timeout:.0f} s", float("nan"), time.monotonic() - started
    answer = b""
    while chunk := os.read(reader, 65536):
        answer += chunk
    os.close(reader)
    os.waitpid(pid, 0)
    if not answer:
        return "the child died", float("nan"), time.monotonic() - started
    peak, _, outcome = answer.decode().partition("\n")
    return outcome, float(peak), time.monotonic() - started


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MB


def _address_space() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
