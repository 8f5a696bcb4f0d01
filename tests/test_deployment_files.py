"""The deployment files are valid: docker-compose.yml passes `docker-compose config`."""

import shutil
import subprocess
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent


def test_docker_compose_file_validates(tmp_path):
    shutil.copy(PROJECT_DIR / "docker-compose.yml", tmp_path / "docker-compose.yml")
    shutil.copy(PROJECT_DIR / ".env.example", tmp_path / ".env")

    result = subprocess.run(
        ["docker-compose", "config"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    for service in ("db", "redis", "web", "worker", "beat"):
        assert f"  {service}:" in result.stdout
    assert result.stdout.count("healthcheck:") >= 4
