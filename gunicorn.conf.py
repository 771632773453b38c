"""gunicorn's settings for `make run` and deployments (gunicorn reads this file from the working directory)."""


def post_worker_init(worker):
    from webapp.collector import spare_loaded_objects

    spare_loaded_objects()  # the loaded app stays out of full garbage collections (webapp/collector.py)
