"""The Reports page's tables, as cells: the same cells fill the HTML table and its CSV download."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from webapp.campaigns.trends import Report, Row
from webapp.spreadsheet import neutralise

COLUMNS = {"sent": "Sent", "delivered": "Delivered", "read": "Read", "replied": "Replied", "clicked": "Clicked",
           "failed": "Failed", "opted_out": "Opted out", "cost": "Cost"}
MESSAGES = ("sent", "delivered", "read", "replied", "clicked")
PROBLEMS = ("failed", "opted_out")


@dataclass(frozen=True)
class Table:
    name: str  # the CSV's name in its URL
    caption: str
    headers: list[str]
    rows: list[list[str]]


def tables(report: Report) -> dict[str, Table]:
    """Every table of the page, by name."""
    trend, range_ = report.trend, report.range
    period = {"day": "Day", "week": "Week", "month": "Month"}[range_.group]
    found = [
        _figures("messages", "Messages by " + range_.group, period, trend, MESSAGES),
        _figures("problems", "Failed and opted out by " + range_.group, period, trend, PROBLEMS),
        _figures("cost", "Cost by " + range_.group, period, trend, ("cost",)),
        _figures("templates", "By template", "Template", report.templates, (*COLUMNS,), rates=True),
        _figures("senders", "By sender", "Sender", report.senders, (*COLUMNS,), rates=True),
        Table("failures", "Failed by error", ["Code", "Error", "Failed"],
              [[str(row.key or ""), row.label, str(row.figures["failed"])] for row in report.failures]),
        Table("hours", "Best hours to send (the recipient's local time)",
              ["Hour", "Sent", "Read", "Read rate", "Replied", "Reply rate"],
              [[row.label, str(row.figures["sent"]), str(row.figures["read"]), _rate(row, "read"),
                str(row.figures["replied"]), _rate(row, "replied")] for row in report.hours]),
    ]
    return {table.name: table for table in found}


def _figures(name: str, caption: str, first: str, rows: list[Row], columns: tuple[str, ...],
             rates: bool = False) -> Table:
    headers = [first, *(COLUMNS[column] for column in columns)] + (["Read rate", "Reply rate"] if rates else [])
    cells = [[row.label, *(_cell(row.figures[column]) for column in columns)]
             + ([_rate(row, "read"), _rate(row, "replied")] if rates else []) for row in rows]
    return Table(name, caption, headers, cells)


def _cell(value) -> str:
    return str(value) if isinstance(value, int) else f"{value:.2f}"


def _rate(row: Row, part: str) -> str:
    rate = row.rate(part)
    return "" if rate is None else f"{rate * 100:.1f}%"


def as_csv(table: Table) -> str:
    """The table as a CSV a spreadsheet opens (no cell runs as a formula)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.headers)
    writer.writerows([neutralise(cell) for cell in row] for row in table.rows)
    return out.getvalue()
