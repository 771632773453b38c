"""The floors of docs/architecture.md hold, and would catch each arrow that once pointed up if it came back.

`make test` runs lint-imports on the tree as it is; these tests run it on a copy with one import put back.
"""
from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
CONTRACTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]

# (importer, imported, the contract that must refuse it): the arrows issue #12 found, in today's names.
ARROWS = [
    ("webapp.campaigns.dispatch", "webapp.settings.views", "floors"),  # workspace settings lived in the pages' area
    ("webapp.campaigns.forms", "webapp.settings.forms", "floors"),
    ("webapp.webhooks.inbound", "webapp.settings.views", "floors"),
    ("webapp.auth.views", "webapp.settings.views", "entry-points"),
    ("webapp.contacts.services", "webapp.webhooks.services", "webhooks-route"),  # opt-outs lived in webhooks
    ("webapp.campaigns.services", "jobs.campaigns", "floors"),  # a service enqueued by importing the job
    ("webapp.contacts.views", "jobs.imports", "entry-points"),
    ("webapp.campaigns.dispatch", "webapp.webhooks.parked", "webhooks-route"),  # the sender applied parked statuses
    ("webapp.campaigns.dispatch", "webapp.webhooks.models", "webhooks-route"),
    ("webapp.contacts.services", "webapp.campaigns.models", "contacts-below-campaigns"),
    ("webapp.api.reference", "webapp.api.views", "no-loops"),  # the reference page registered on the views' blueprint
    ("webapp.settings.senders", "webapp.settings.views", "no-loops"),
    ("webapp.settings.api_keys", "webapp.settings.views", "no-loops"),
    ("webapp.api.views", "webapp.settings.views", "settings-above-api-keys"),
    ("webapp.sandbox.graph", "webapp.campaigns.models", "sandbox-apart"),
    ("webapp.cloudapi", "webapp.senders.models", "floors"),  # a shared leaf that knew an area
]


def _lint(tree: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(tree), "COLUMNS": "1000"}  # one line per contract in the report
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--no-logo", str(tree / "pyproject.toml")], cwd=tree,
                          env=env, capture_output=True, text=True, timeout=120)


def _broken(output: str) -> set[str]:
    ids = {contract["name"]: contract["id"] for contract in CONTRACTS}
    verdicts = (re.match(r"(.*) (BROKEN|KEPT)( \(.*\))?$", line) for line in output.splitlines())
    return {ids[found[1]] for found in verdicts if found and found[2] == "BROKEN"}


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    copy = tmp_path_factory.mktemp("tree")
    for package in ("webapp", "jobs"):
        shutil.copytree(ROOT / package, copy / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    return copy


def test_every_contract_is_kept():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(CONTRACTS)} kept, 0 broken" in result.stdout


@pytest.mark.parametrize(("importer", "imported", "contract"), ARROWS, ids=[f"{a}->{b}" for a, b, _ in ARROWS])
def test_an_arrow_that_once_pointed_up_breaks_its_contract_if_it_comes_back(tree, importer, imported, contract):
    module = tree / Path(*importer.split(".")).with_suffix(".py")
    original = module.read_text()
    module.write_text(f"{original}\nimport {imported}  # noqa: E402,F401\n")
    try:
        result = _lint(tree)
    finally:
        module.write_text(original)
    assert result.returncode != 0
    assert contract in _broken(result.stdout), result.stdout


def test_every_module_stands_on_a_named_floor():
    """A new module is placed on a floor in pyproject.toml, where a reader of the floors finds it."""
    [floors] = [contract for contract in CONTRACTS if contract["id"] == "floors"]
    named = {name.strip().strip("()") for layer in floors["layers"] for name in layer.replace("|", ":").split(":")}
    modules = {".".join(path.relative_to(ROOT).with_suffix("").parts) for package in ("webapp", "jobs")
               for path in (ROOT / package).rglob("*.py")}
    modules = {name.removesuffix(".__init__") for name in modules}
    unplaced = {name for name in modules
                if name not in ("webapp", "jobs") and not any(name == n or name.startswith(f"{n}.") for n in named)
                and not any(n.startswith(f"{name}.") for n in named)}
    assert unplaced == set()


ENGINES = {  # modules whose commits are their rule; each says so in its docstring
    "webapp.campaigns.dispatch", "webapp.campaigns.launch", "webapp.contacts.import_run", "webapp.contacts.imports",
    "webapp.contacts.upload_cleanup", "webapp.webhooks.services", "webapp.webhooks.parked", "webapp.api.idempotency",
}


def test_services_never_commit_the_callers_do():
    """Views, API handlers, jobs and CLI commands own the transaction; a service that committed would end its
    caller's transaction half-way (docs/architecture.md). Only the engines listed above commit by design."""
    [floors] = [contract for contract in CONTRACTS if contract["id"] == "floors"]
    below_entry = {name.strip().strip("()") for layer in floors["layers"][2:] for name in layer.split(":")}
    committing = set()
    for name in below_entry:
        path = ROOT / Path(*name.split(".")).with_suffix(".py")
        calls = (node for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Call))
        if any(isinstance(call.func, ast.Attribute) and call.func.attr == "commit" for call in calls):
            committing.add(name)
    assert committing - ENGINES == set()
