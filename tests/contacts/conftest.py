"""Fixtures for the contacts tests: the sample files in tests/fixtures, opened and read whole."""
from __future__ import annotations

from pathlib import Path

import pytest

from webapp.contacts.tabular import Row, Table, open_table

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture
def sample():
    """The path of a sample file in tests/fixtures, by name."""

    def path(name: str) -> Path:
        found = FIXTURES / name
        assert found.is_file(), f"{name} is missing: run tests/fixtures/make_fixtures.py"
        return found

    return path


@pytest.fixture
def read_table(sample):
    """Open a sample file (or any path) and read all of it: (table, rows)."""

    def read(name_or_path: str | Path, filename: str | None = None) -> tuple[Table, list[Row]]:
        path = name_or_path if isinstance(name_or_path, Path) else sample(name_or_path)
        with open_table(path, filename) as table:
            return table, list(table.rows())

    return read
