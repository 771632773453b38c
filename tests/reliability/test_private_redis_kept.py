"""`make run`'s private redis-server, killed while the app runs, is started again on its socket (webapp/launcher.py
hands the supervisor a private_redis.Keeper): the processes reconnect to it and carry on."""
from __future__ import annotations

import redis

from webapp import private_redis


def test_the_private_redis_killed_under_make_run_is_started_again_on_its_socket(tmp_path):
    url, process = private_redis.start(tmp_path)
    keeper, said = private_redis.Keeper(tmp_path, process), []
    client = redis.Redis.from_url(url)
    client.set("campaign", "state")
    try:
        keeper.tend(lambda name, line: said.append((name, line)))
        assert said == []  # running: left alone

        process.kill()
        process.wait()
        keeper.tend(lambda name, line: said.append((name, line)))
        assert said == [("redis", "was killed by signal 9; started again (empty: the app carries on)")]
        assert client.ping() and client.get("campaign") is None  # the same socket, the state gone
    finally:
        keeper.stop()
