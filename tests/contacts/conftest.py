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


@pytest.fixture
def imported(app, sample):
    """Import a sample file (or any path) into a list by the upload's steps, run in-process: the finished Import."""
    import shutil

    from webapp.contacts import import_run, imports, services
    from webapp.extensions import db

    def run(name_or_path, list_name: str = "Customers", *, country: str = "US", update_existing: bool = True,
            columns=None, chunk_rows: int = import_run.CHUNK_ROWS, merge_rows: int | None = None,
            filename: str | None = None):
        source = name_or_path if isinstance(name_or_path, Path) else sample(name_or_path)
        stored = Path(app.config["UPLOAD_FOLDER"]) / f"test-{source.name}.upload"
        shutil.copyfile(source, stored)
        existing = services.find_list(db.session, list_name)
        record, preview = imports.begin_import(
            db.session, stored, filename or source.name, list_id=existing.id if existing else None,
            new_list=None if existing else list_name, country=country, update_existing=update_existing,
            user_id=None)
        imports.start_import(db.session, record, columns or preview.default_columns(), preview.headers)
        db.session.commit()
        return import_run.run_import(db.session, record.id, chunk_rows=chunk_rows, merge_rows=merge_rows)

    return run


def write_csv(path: Path, header: list[str], rows) -> Path:
    """A CSV file written row by row (rows may be a generator of any length)."""
    import csv

    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


# --- Through the pages --------------------------------------------------------------------------

def upload(client, name: str, filename: str | None = None, **fields):
    """POST a sample file through the upload form, as the browser would."""
    from tests.conftest import post

    choices = {"list_id": "", "new_list": "Customers", "country": "US", "existing": "update", **fields}
    with (FIXTURES / name).open("rb") as file:
        return post(client, "/imports/new", {**choices, "file": (file, filename or name)},
                    content_type="multipart/form-data")


def the_import():
    """The one import of the test, read fresh."""
    from sqlalchemy import select

    from webapp.contacts.models import Import
    from webapp.extensions import db

    return db.session.scalars(select(Import).execution_options(populate_existing=True)).one()


def confirm(client, record, **columns):
    """POST the column step with these choices (indexes of columns)."""
    from tests.conftest import post

    return post(client, f"/imports/{record.id}/columns", columns)
