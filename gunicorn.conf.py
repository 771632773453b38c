"""gunicorn's settings for `make run` and deployments (gunicorn reads this file from the working directory)."""
from webapp.log_redaction import install

install()  # secrets in query strings (hub.verify_token…) never reach the access or error log

# gunicorn_h1c's HTTP parser (C, a pyproject dependency), never the Python one: parsing a phone browser's request
# through a proxy takes 55 µs instead of 129, a tenth of the click redirect's CPU, which needs every bit of two
# cores to answer 2,000 a second (docs/benchmarks.md, issue #18). "fast" rather than gunicorn's default "auto", and imported here: a missing parser stops gunicorn at start
# with this message, instead of serving on the slower parser unnoticed ("auto") or failing every request ("fast"
# looks for it at the first request).
try:
    import gunicorn_h1c  # noqa: F401
except ImportError as error:
    raise SystemExit("gunicorn_h1c, gunicorn's C HTTP parser, is not installed: `pip install -e .` in the "
                     "project's environment installs it (it needs a C compiler where no wheel fits)") from error
http_parser = "fast"


def post_worker_init(worker):
    from webapp.collector import spare_loaded_objects

    spare_loaded_objects()  # the loaded app stays out of full garbage collections (webapp/collector.py)
