"""gunicorn's settings for `make run` and deployments (gunicorn reads this file from the working directory)."""
import gc


def post_worker_init(worker):
    # Leave the loaded app (Flask, SQLAlchemy, templates: some 100,000 objects) out of Python's full garbage
    # collections: each one stopped every thread of the worker for tens of milliseconds, the slowest 1 % of
    # webhook answers (docs/benchmarks.md).
    gc.collect()
    gc.freeze()
