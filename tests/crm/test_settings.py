"""Settings load on SQLite and PostgreSQL; production refuses an unsafe start."""

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

PROBE = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.DATABASES['default']['ENGINE']); print(s.CELERY_BROKER_URL.split(':')[0]); "
    "print(s.CACHES['default']['BACKEND'])"
)


def run_python(env_overrides: dict, *args: str) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"}
        and k != "DJANGO_ALLOW_ASYNC_UNSAFE"  # set by the browser tests in this process
    }
    env["DJANGO_SETTINGS_MODULE"] = "crm.settings"
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_embedded_defaults_are_sqlite_and_filesystem_broker():
    result = run_python({"DEBUG": "1"}, "-c", PROBE)
    assert result.returncode == 0, result.stderr
    engine, broker, cache = result.stdout.split("\n")[:3]
    assert engine == "django.db.backends.sqlite3"
    assert broker == "filesystem"
    assert cache.endswith("FileBasedCache")  # shared by web, worker and beat


def test_the_embedded_cache_is_shared_between_processes(tmp_path):
    """A value one process stores (a worker bumping a data version) is read by another (the
    web process): the local-memory cache would keep it to itself."""
    write = (
        "from django.core.cache import cache; "
        "cache.set('shared-probe', 41); cache.incr('shared-probe')"
    )
    read = "from django.core.cache import cache; print(cache.get('shared-probe'))"
    env = {"DEBUG": "1", "VAR_DIR": str(tmp_path)}
    setup = "import django; django.setup(); "
    assert run_python(env, "-c", setup + write).returncode == 0
    result = run_python(env, "-c", setup + read)
    assert result.stdout.strip() == "42", result.stderr


def test_database_and_redis_urls_switch_to_postgresql_and_redis():
    result = run_python(
        {
            "DEBUG": "1",
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/x",
            "REDIS_URL": "redis://127.0.0.1:6379/3",
        },
        "-c",
        PROBE,
    )
    assert result.returncode == 0, result.stderr
    engine, broker, cache = result.stdout.split("\n")[:3]
    assert engine == "django.db.backends.postgresql"
    assert broker == "redis"
    assert cache.endswith("RedisCache")


def test_settings_connect_to_postgresql(db, postgres_required):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        assert "PostgreSQL" in cursor.fetchone()[0]


def test_production_refuses_to_start_without_secret_key():
    result = run_python({"DEBUG": "0"}, "manage.py", "check")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.parametrize("flag", ["", "0", "false"])
def test_debug_is_off_unless_asked(flag):
    result = run_python(
        {"DEBUG": flag, "SECRET_KEY": "k" * 60},
        "-c",
        "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_check_deploy_is_clean_under_production_env():
    result = run_python(
        {"DEBUG": "0", "SECRET_KEY": "x7-" + "q9Lm2" * 12, "ALLOWED_HOSTS": "crm.example.com"},
        "manage.py",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_compiled_translations_exist_for_a_fresh_machine():
    mo = ROOT / "locale" / "ru" / "LC_MESSAGES" / "django.mo"
    po = ROOT / "locale" / "ru" / "LC_MESSAGES" / "django.po"
    assert mo.exists(), "compile with `make messages` and commit locale/ru/LC_MESSAGES/django.mo"
    assert mo.stat().st_size > 1000
    assert po.exists()


def test_wsgi_refuses_without_secret_key_even_when_manage_py_defaults_to_debug():
    result = run_python({}, "-c", "import crm.wsgi")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
    assert run_python({}, "manage.py", "check").returncode == 0  # a developer's checkout


def test_redis_and_smtp_outages_fail_fast_and_the_cache_degrades():
    probe = (
        "import django; django.setup(); from django.conf import settings as s; "
        "c = s.CACHES['default']; print(c['BACKEND'], c['OPTIONS']['IGNORE_EXCEPTIONS']); "
        "print(s.CELERY_BROKER_CONNECTION_TIMEOUT, "
        "s.CELERY_TASK_PUBLISH_RETRY_POLICY['max_retries'], "
        "s.CELERY_BROKER_TRANSPORT_OPTIONS['socket_connect_timeout']); print(s.EMAIL_TIMEOUT)"
    )
    result = run_python(
        {"DEBUG": "1", "REDIS_URL": "redis://127.0.0.1:6379/8", "EMAIL_HOST": "mail.example"},
        "-c",
        probe,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:3] == ["django_redis.cache.RedisCache True", "1 1 1", "15"]
