"""Running the gateway as a mail admin would (issue 11): one gateway per data directory, …"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import RULES_DIR
from gateway_helpers import RunningGateway, free_port, gateway_settings, wait_for
from mailrouter.gateway import Gateway
from mailrouter.store.lock import DataDirInUse

MAILROUTER = str(Path(sys.executable).with_name("mailrouter"))


def test_a_second_gateway_on_one_data_directory_is_refused(tmp_path: Path) -> None:
    settings = gateway_settings(tmp_path / "var")
    with RunningGateway(settings), pytest.raises(DataDirInUse, match=rf"pid {os.getpid()} "):
        Gateway(settings)
    with RunningGateway(settings) as again:  # free once the first has stopped
        assert again.port


def test_serve_refuses_before_it_listens(tmp_path: Path) -> None:
    var, first_port, second_port = tmp_path / "var", free_port(), free_port()
    env = {**os.environ, "MAILROUTER_VAR_DIR": str(var), "MAILROUTER_RULES_DIR": str(RULES_DIR)}
    first = subprocess.Popen(
        [MAILROUTER, "serve"], env={**env, "MAILROUTER_SMTP__PORT": str(first_port)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert wait_for(lambda: _listening(first_port), timeout=30)
        second = subprocess.run(
            [MAILROUTER, "serve"], env={**env, "MAILROUTER_SMTP__PORT": str(second_port)},
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert second.returncode == 1
        assert f"is in use by another mailrouter (pid {first.pid} " in second.stderr
        assert not _listening(second_port)
    finally:
        first.terminate()
        first.wait(30)


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True
