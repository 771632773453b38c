"""Every compat API's blueprint, registered by create_app: one module per API, each under /compat/<name>/."""
from __future__ import annotations

from flask import Flask

from webapp.compat import crm, django, kapso, wacrm, wask

APIS = (wask.api, crm.api, wacrm.api, django.api, kapso.api)


def register(app: Flask) -> None:
    for compat in APIS:
        app.register_blueprint(compat.bp)
