"""gunicorn's settings for `make run` and deployments (gunicorn reads this file from the working directory)."""
from webapp.log_redaction import install

install()  # secrets in query strings (hub.verify_token…) never reach the access or error log


def post_worker_init(worker):
    from webapp.collector import spare_loaded_objects

    spare_loaded_objects()  # the loaded app stays out of full garbage collections (webapp/collector.py)
