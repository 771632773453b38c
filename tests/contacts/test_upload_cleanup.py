"""Upload files no import needs any more are removed by the hourly job; the rest stay."""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from jobs.imports import remove_unneeded_uploads
from tests.contacts.conftest import the_import, upload
from webapp.contacts import imports
from webapp.contacts.errors import ContactsError
from webapp.contacts.models import Import
from webapp.extensions import db
from webapp.timestamps import utcnow

DAY = timedelta(hours=24)  # the default UPLOAD_RETENTION_HOURS


@pytest.fixture
def folder(app, tmp_path) -> Path:
    """An upload folder of the test's own, so files other tests left behind are not counted."""
    path = tmp_path / "uploads"
    path.mkdir()
    app.config["UPLOAD_FOLDER"] = str(path)
    return path


def a_file(folder: Path, kind: str) -> Path:
    path = folder / f"{kind}-{len(os.listdir(folder))}.upload"
    path.write_text("phone\n+12125550100\n")
    return path


def an_import(folder: Path, status: str, age: timedelta = timedelta(0), *, uploaded: bool = True) -> Path:
    """An import in this state, created `age` ago, with its file in the upload folder."""
    path = a_file(folder, status)
    db.session.add(Import(filename="customers.csv", stored_path=str(path), status=status, created_at=utcnow() - age,
                          options={"country": "US", "new_list": "Customers", "uploaded": uploaded}))
    db.session.commit()
    return path


def a_stray_file(folder: Path, age: timedelta) -> Path:
    """A file in the upload folder that no import names, last written `age` ago."""
    path = a_file(folder, "stray")
    then = (utcnow() - age).timestamp()
    os.utime(path, (then, then))
    return path


def test_the_files_of_finished_and_failed_imports_are_removed_and_their_reports_stay(folder):
    done, failed = an_import(folder, "done"), an_import(folder, "failed")

    assert remove_unneeded_uploads() == 2
    assert not done.exists() and not failed.exists()
    assert sorted(record.status for record in db.session.query(Import)) == ["done", "failed"]


def test_the_files_of_queued_and_running_imports_are_kept_however_old(folder):
    queued, running = an_import(folder, "queued", 10 * DAY), an_import(folder, "running", 10 * DAY)

    assert remove_unneeded_uploads() == 0
    assert queued.exists() and running.exists()


def test_an_upload_left_at_its_column_step_is_kept_for_the_retention_period_then_removed(folder):
    recent, abandoned = an_import(folder, "uploaded", DAY - timedelta(minutes=5)), an_import(folder, "uploaded", DAY)

    assert remove_unneeded_uploads() == 1
    assert recent.exists() and not abandoned.exists()


def test_the_retention_period_is_a_setting(app, folder):
    left = an_import(folder, "uploaded", timedelta(hours=3))
    app.config["UPLOAD_RETENTION_HOURS"] = 2

    assert remove_unneeded_uploads() == 1
    assert not left.exists()


def test_files_no_import_names_are_removed_once_older_than_the_retention_period(folder):
    old, young = a_stray_file(folder, DAY + timedelta(minutes=1)), a_stray_file(folder, timedelta(minutes=1))

    assert remove_unneeded_uploads() == 1
    assert not old.exists() and young.exists()


def test_the_file_a_command_line_import_read_is_never_removed(folder):
    own_file = an_import(folder, "done", 10 * DAY, uploaded=False)
    os.utime(own_file, (0, 0))

    assert remove_unneeded_uploads() == 0
    assert own_file.exists()


def test_coming_back_to_an_expired_upload_asks_for_the_file_again(staff_client, folder):
    upload(staff_client, "utf8.csv")
    record = the_import()
    record.created_at = utcnow() - DAY
    db.session.commit()
    assert remove_unneeded_uploads() == 1

    page = staff_client.get(f"/imports/{record.id}", follow_redirects=True)
    assert page.status_code == 200
    assert "This upload has expired; upload the file again." in page.get_data(as_text=True)
    assert 'type="file"' in page.get_data(as_text=True)  # the upload form, to choose the file again


def test_an_upload_that_expires_while_its_columns_are_chosen_is_not_started(folder):
    an_import(folder, "uploaded", DAY)
    record = the_import()
    preview = imports.preview_of(record)  # the column step was shown just before the job ran
    assert remove_unneeded_uploads() == 1

    with pytest.raises(ContactsError, match="This upload has expired"):
        imports.start_import(db.session, record, preview.default_columns(), preview.headers)
    assert the_import().status == "uploaded"
