"""Templates compiled once per process, however many apps it creates.

Jinja compiles each template on its first use by an app. A process normally builds one app, but the test suite
builds one per test (and a CLI command one per run), and compiling the pages again each time was a third of a
quick test's time. Jinja's bytecode cache keeps the compiled code by the template's name and checks the
source's checksum, so an edited template is compiled afresh.
"""
from __future__ import annotations

from jinja2.bccache import Bucket, BytecodeCache


class ProcessBytecodeCache(BytecodeCache):
    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if (code := self._code.get(bucket.key)) is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


COMPILED = ProcessBytecodeCache()
