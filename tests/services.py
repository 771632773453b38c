"""Real servers for the test suite: a private redis-server and a throwaway PostgreSQL on loopback."""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pg_binary(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} is missing: run `make test`, which installs it.")
    return found


class ThrowawayPostgres:
    """initdb into a temporary folder and start on a free loopback port; everything goes at stop()."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="broadcaster-pg-"))
        self.port = free_port()
        self.process_user = None
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            self.process_user = "postgres"
            pw = pwd.getpwnam("postgres")
            os.chown(self.folder, pw.pw_uid, pw.pw_gid)

    def _run(self, *args: str) -> None:
        command = list(args)
        if self.process_user:
            command = ["runuser", "-u", self.process_user, "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> str:
        data = self.folder / "data"
        self._run(_pg_binary("initdb"), "-D", str(data), "-A", "trust", "--no-sync", "-U", "postgres", "-E", "UTF8")
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._run(_pg_binary("pg_ctl"), "-D", str(data), "-w", "-l", str(self.folder / "log"), "-o", options, "start")
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE broadcaster_test")
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/broadcaster_test"

    def stop(self) -> None:
        try:
            self._run(_pg_binary("pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
