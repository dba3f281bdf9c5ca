"""Production settings pass Django's deployment checklist."""

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

PROJECT_DIR = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "DEBUG": "False",
    "SECRET_KEY": "k3y-for-the-deploy-check-only-9f2c1e7b5a4d8c6e0b3a1f9d7c5e3b1a",
    "BASE_DOMAIN": "smartmaintenance.example.com",
}


def run_manage(*args, env_overrides, env_removals=()):
    env = {**os.environ, **env_overrides}
    # Set by the browser tests for their own thread (tests/browser/conftest.py),
    # never by a deployment, which Django's check rightly refuses.
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    for name in env_removals:
        env.pop(name, None)
    # The subprocess must reach the same server as the tests, without
    # starting anything new: hand it the test database's location.
    database = settings.DATABASES["default"]
    env.setdefault(
        "DATABASE_URL",
        f"postgres://{database['USER']}@%2F{database['HOST'].lstrip('/').replace('/', '%2F')}"
        f"/{database['NAME']}",
    )
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = run_manage("check", "--deploy", "--fail-level", "DEBUG", env_overrides=PRODUCTION_ENV)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_with_development_settings():
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING", env_overrides={"DEBUG": "True"}
    )

    assert result.returncode != 0
    assert "security.W018" in result.stderr  # DEBUG must be off in production


def test_production_refuses_to_start_without_a_secret_key():
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != "SECRET_KEY"}
    result = run_manage("check", env_overrides=env, env_removals=["SECRET_KEY"])

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
