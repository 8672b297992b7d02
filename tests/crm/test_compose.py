"""docker-compose.yml is valid and runs the production shape."""

import os
import shutil
import subprocess

from tests.conftest import ROOT, need


def compose(*args: str, **env: str) -> subprocess.CompletedProcess:
    binary = shutil.which("docker-compose")
    need(binary is not None, "REQUIRE_SERVICES", "docker-compose is not installed")
    return subprocess.run(
        [binary, "-f", str(ROOT / "docker-compose.yml"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )


def test_compose_file_is_valid_with_the_production_services():
    assert compose("config", "-q", SECRET_KEY="k" * 50).returncode == 0
    services = compose("config", "--services", SECRET_KEY="k" * 50).stdout.split()
    assert set(services) == {"postgres", "redis", "web", "worker", "beat", "mail"}


def test_compose_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    binary = shutil.which("docker-compose")
    need(binary is not None, "REQUIRE_SERVICES", "docker-compose is not installed")
    result = subprocess.run(
        [binary, "-f", str(ROOT / "docker-compose.yml"), "config"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
