"""URL rules whose builders are compiled when first used, not when the app is made.

Werkzeug compiles two URL-building functions for every rule as it is added (Python source through `ast` and
`compile`): 95 % of `create_app`'s 150 ms with our 140 routes, paid by every process start and by each test's
app, for the builders of routes most processes never `url_for`. A rule here compiles each builder on its first
call, once; matching and building are Werkzeug's own.
"""
from __future__ import annotations

from werkzeug.routing import Rule


class LazyRule(Rule):
    def _compile_builder(self, append_unknown: bool = True):
        compile_now = super()._compile_builder
        compiled = None

        def build(rule, *args, **kwargs):
            nonlocal compiled
            if compiled is None:
                compiled = compile_now(append_unknown)
            return compiled(rule, *args, **kwargs)

        return build
