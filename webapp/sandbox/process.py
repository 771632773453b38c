"""Start the sandbox as a child process and learn its address: for tests, benchmarks and scripts
that need a real one. Only the standard library, so callers need nothing else."""
from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BANNER = "Sandbox listening on "


class SandboxChild:
    """`python -m webapp.sandbox run --port 0 …`; `base_url` is known once it listens."""

    def __init__(self, *args: str, startup_timeout: float = 20.0) -> None:
        # A file, not a pipe: nobody has to keep reading it for the child to go on.
        self._output = tempfile.NamedTemporaryFile(prefix="sandbox-", suffix=".log", delete=False)
        self.log_path = Path(self._output.name)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "webapp.sandbox", "run", "--host", "127.0.0.1", "--port", "0", *args],
            cwd=ROOT, stdout=self._output, stderr=subprocess.STDOUT,
        )
        self.base_url = self._wait_for_banner(startup_timeout)

    def _wait_for_banner(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log().splitlines():
                if line.startswith(BANNER):
                    return line[len(BANNER):].strip()
            if self.process.poll() is not None:
                raise RuntimeError(f"the sandbox exited at start:\n{self.log()}")
            time.sleep(0.05)
        output = self.log()  # before stop() removes the file
        self.stop()
        raise RuntimeError(f"the sandbox did not start within {timeout} s:\n{output}")

    def log(self) -> str:
        return self.log_path.read_text()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._output.close()
        self.log_path.unlink(missing_ok=True)
