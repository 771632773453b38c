"""`flask contacts import FILE --list NAME`: the upload's import, run here and now, for admins and scripts."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from webapp.contacts import imports
from webapp.contacts.errors import ContactsError
from webapp.contacts.tabular import FileRejected
from webapp.extensions import db
from webapp.workspace.models import WorkspaceSettings

SHOWN_REJECTIONS = 20

LABELS = (("rows", "rows read"), ("added", "added to the list"), ("updated", "existing contacts updated"),
          ("already_in_list", "already in the list"), ("duplicates", "duplicates within the file"),
          ("invalid", "invalid"))


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path))
@click.option("--list", "list_name", required=True, help="The list to import into; created if it does not exist.")
@click.option("--country", help="Country of numbers written without a country code (default: Settings).")
@click.option("--phone-column", help="The phone column, by header or number (default: guessed from the file).")
@click.option("--update/--keep", "update_existing", default=True, show_default=True,
              help="Update the name and attributes of contacts that already exist, or keep them as they are.")
@click.option("--rejections", "rejections_path", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Write every rejected row to this CSV file: the file's columns, then line and reason.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@with_appcontext
def import_command(file: Path, list_name: str, country: str | None, phone_column: str | None,
                   update_existing: bool, rejections_path: Path | None, as_json: bool) -> None:
    """Import FILE (CSV, TSV, text or .xlsx) into a list and print the report.

    Exits 0 when the import is done, 1 when the file is rejected as a whole or the import fails,
    and 2 for a bad option.
    """
    try:
        record = imports.import_file(
            db.session, file, list_name=list_name, country=country or WorkspaceSettings.get().default_country,
            phone_column=phone_column, update_existing=update_existing)
    except FileRejected as error:
        db.session.rollback()
        _say({"status": "rejected", "file": file.name, "error": str(error)}, as_json)
        sys.exit(1)
    except ContactsError as error:
        db.session.rollback()
        raise click.UsageError(error.message) from None
    report = imports.report(db.session, record)
    if rejections_path is not None:
        with rejections_path.open("w", encoding="utf-8", newline="") as out:
            out.writelines(imports.rejections_csv(db.session, record.id))
    _say(report, as_json, record.id)
    sys.exit(0 if report["status"] == "done" else 1)


def _say(report: dict, as_json: bool, import_id: int | None = None) -> None:
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False))
        return
    if report["status"] == "rejected":
        click.echo(f"{report['file']} was not imported: {report['error']}", err=True)
        return
    if report["status"] == "failed":
        click.echo(f"The import of {report['file']} into “{report['list']}” failed: {report['error']}", err=True)
        return
    click.echo(f"Imported {report['file']} into “{report['list']}” (import {report['import_id']}).")
    width = max(len(label) for _, label in LABELS)
    for key, label in LABELS:
        click.echo(f"  {label:<{width}}  {report[key]:>10,}")
    shown = list(imports.rejections(db.session, import_id, limit=SHOWN_REJECTIONS)) if import_id else []
    if shown:
        click.echo("Rejected rows:")
        for rejection in shown:
            click.echo(f"  row {rejection.line}: {rejection.value!r}: {rejection.reason}")
        if report["rejected"] > len(shown):
            click.echo(f"  … and {report['rejected'] - len(shown):,} more (--rejections FILE writes them all).")
