"""Shared fixtures: the three personas, service requirements, a real Celery worker, a browser.

Tests that need a service (Redis, PostgreSQL) or a browser skip on a developer's bare machine,
but FAIL when REQUIRE_SERVICES=1 / REQUIRE_BROWSER=1 are set (CI sets both).
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client as DjangoClient
from kombu import pools as kombu_pools

from crm.celery import app as celery_app
from tests.factories import ManagerFactory, UserFactory

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def _required(flag: str) -> bool:
    return os.environ.get(flag, "").lower() in {"1", "true", "yes"}


def need(condition: bool, flag: str, reason: str) -> None:
    """Skip on a bare machine, fail in CI when a required service/browser is missing."""
    if condition:
        return
    if _required(flag):
        pytest.fail(f"{reason} ({flag}=1 makes this a failure, not a skip)")
    pytest.skip(reason)


@pytest.fixture
def manager(db):
    return ManagerFactory(username="boss", first_name="Мария", last_name="Петрова")


@pytest.fixture
def owner(db, manager):
    """The account manager who owns the clients under test."""
    return UserFactory(username="owner", head=manager)


@pytest.fixture
def outsider(db, manager):
    """Another account manager: must see none of owner's records."""
    return UserFactory(username="outsider", head=manager)


def client_for(user, language: str | None = None) -> DjangoClient:
    """A test client of its own per persona, so two personas can act in one test; with
    ``language`` the pages come in that language whatever the default."""
    http = DjangoClient()
    http.force_login(user)
    if language:
        http.cookies["django_language"] = language
    return http


@pytest.fixture
def manager_client(manager):
    return client_for(manager)


@pytest.fixture
def owner_client(owner):
    return client_for(owner)


@pytest.fixture
def outsider_client(outsider):
    return client_for(outsider)


# --- a real Celery worker -------------------------------------------------------------------
def _database_url_for_worker() -> str:
    cfg = connection.settings_dict
    if connection.vendor == "postgresql":
        user = cfg.get("USER") or "postgres"
        auth = f"{user}:{cfg['PASSWORD']}@" if cfg.get("PASSWORD") else f"{user}@"
        host = f"{cfg.get('HOST') or '127.0.0.1'}:{cfg.get('PORT') or 5432}"
        return f"postgres://{auth}{host}/{cfg['NAME']}"
    name = str(cfg["NAME"])
    if "memory" in name or name == "":
        return ""  # the worker cannot share an in-memory database; it gets its own file
    return f"sqlite:///{name}"


def _forget_result_backend() -> None:
    """The app caches its result backend and broker pools; make it read the settings again.

    kombu keys its global pools by broker URL only, so two filesystem brokers in different
    folders would share one pool: reset them too.
    """
    celery_app._backend_cache = None
    celery_app._local.__dict__.pop("backend", None)
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    kombu_pools.reset()


def celery_worker_env(var_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a `celery worker` subprocess working on the test database (call it
    with database access: it reads the connection settings)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "crm.settings",
            "DEBUG": "1",
            "SECRET_KEY": "integration-test-key",
            "VAR_DIR": str(var_dir),
        }
    )
    db_url = _database_url_for_worker()
    if db_url:
        env["DATABASE_URL"] = db_url
    else:
        env.pop("DATABASE_URL", None)
    env.update(extra)
    return env


def celery_worker_argv(name: str, *extra: str) -> list[str]:
    """The `celery worker` command line; ``extra`` adds options (pool, queues, concurrency)."""
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "crm",
        "worker",
        *extra,
        "--loglevel=INFO",
        f"--hostname={name}-{os.getpid()}@%h",
        "--without-heartbeat",
        "--without-mingle",
        "--without-gossip",
    ]


def start_celery_worker(
    argv: list[str], env: dict[str, str], log_path: Path, *, new_session: bool = False
) -> subprocess.Popen:
    """Start the worker, its output going to ``log_path``, and wait until it is ready.

    ``new_session`` puts it in a process group of its own (the main process and its pool
    children), so a test can kill the whole worker with ``os.killpg``.
    """
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=new_session,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if "ready." in log_path.read_text():
            return proc
        time.sleep(0.2)
    if new_session:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    else:
        proc.kill()
    proc.wait()
    pytest.fail("Celery worker did not start:\n" + log_path.read_text()[-3000:])


@pytest.fixture(scope="session")
def _celery_worker_session(django_db_setup, django_db_blocker, tmp_path_factory):
    """A real `celery worker` subprocess on the configured broker (default queue only).

    With REDIS_URL: Redis broker + result backend. Without: kombu's filesystem broker in a
    temporary folder and a file result backend, so a worker runs for real with no server.
    """
    tmp = tmp_path_factory.mktemp("celery")
    with django_db_blocker.unblock():
        env = celery_worker_env(tmp)
    conf = celery_app.conf
    saved = {
        k: conf[k]
        for k in ("broker_url", "result_backend", "broker_transport_options", "task_always_eager")
    }
    if settings.REDIS_URL:
        result_backend = settings.REDIS_URL
    else:
        result_dir = tmp / "results"
        result_dir.mkdir()
        result_backend = f"file://{result_dir}"
        folder = tmp / "broker"
        (folder / "queue").mkdir(parents=True)
        (folder / "processed").mkdir()
        (folder / "control").mkdir()
        conf.broker_url = "filesystem://"
        conf.broker_transport_options = {
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "processed_folder": str(folder / "processed"),
            "control_folder": str(folder / "control"),
        }
    env["CELERY_RESULT_BACKEND"] = result_backend
    conf.result_backend = result_backend
    _forget_result_backend()
    log_path = tmp / "worker.log"
    proc = start_celery_worker(celery_worker_argv("test", "--pool=solo"), env, log_path)
    yield {"process": proc, "log": log_path, "env": env}
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    for key, value in saved.items():
        conf[key] = value
    _forget_result_backend()


@pytest.fixture
def celery_worker_process(_celery_worker_session):
    """The real worker, with eager execution off for this test only (other tests stay eager)."""
    celery_app.conf.task_always_eager = False
    try:
        yield _celery_worker_session
    finally:
        celery_app.conf.task_always_eager = True


def closed_port() -> int:
    """A local TCP port nothing listens on: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServicesDown:
    """Redis is down for the code under test: the broker, the result backend and the Django
    cache on a closed port, with real (not eager) publishing. ``back()`` restores them."""

    KEYS = (
        "broker_url",
        "broker_write_url",  # pinned by tests that monkeypatched it: it must go down too
        "result_backend",
        "broker_transport_options",
        "task_always_eager",
    )

    def __init__(self, settings):
        self.url = f"redis://127.0.0.1:{closed_port()}/0"
        self._settings = settings
        self._caches = settings.CACHES
        settings.CACHES = {
            "default": {
                "BACKEND": "django_redis.cache.RedisCache",
                "LOCATION": self.url,
                "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 1},
            }
        }
        conf = celery_app.conf
        self._saved = {key: conf[key] for key in self.KEYS}
        conf.update(
            broker_url=self.url,
            broker_write_url=self.url,
            result_backend=self.url,
            broker_transport_options={"socket_connect_timeout": 1},
            task_always_eager=False,
        )
        _forget_result_backend()
        self.down = True

    def back(self) -> None:
        if self.down:
            celery_app.conf.update(self._saved)
            self._settings.CACHES = self._caches
            _forget_result_backend()
            self.down = False


@pytest.fixture
def services_down(settings):
    state = ServicesDown(settings)
    yield state
    state.back()


@pytest.fixture
def redis_required():
    need(bool(settings.REDIS_URL), "REQUIRE_SERVICES", "REDIS_URL is not set")


@pytest.fixture
def postgres_required():
    need(connection.vendor == "postgresql", "REQUIRE_SERVICES", "DATABASE_URL is not PostgreSQL")


# --- a browser ------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def browser():
    need(Path(CHROMIUM).exists(), "REQUIRE_BROWSER", f"{CHROMIUM} is not installed")
    # Playwright's sync API runs an event loop in this thread; the Django test code that
    # shares the thread touches the database only between browser steps.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
            ],
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="ru-RU")
    pg = context.new_page()
    pg.set_default_timeout(15000)
    # every browser test also checks that the Content-Security-Policy blocked nothing
    csp_violations: list[str] = []
    pg.on(
        "console",
        lambda msg: (
            csp_violations.append(msg.text) if "Content Security Policy" in msg.text else None
        ),
    )
    yield pg
    ARTIFACTS.mkdir(exist_ok=True)
    name = request.node.name.replace("/", "_")
    if not Path(ARTIFACTS / f"{name}-final.png").exists():
        pg.screenshot(path=str(ARTIFACTS / f"{name}-final.png"), full_page=True)
    context.close()
    assert not csp_violations, f"blocked by the Content-Security-Policy: {csp_violations}"


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def console_errors(page) -> list[str]:
    """The console errors of ``page`` from now on (the list fills as the page runs), a
    missing favicon aside."""
    errors: list[str] = []
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and "favicon" not in (msg.location or {}).get("url", "")
            else None
        ),
    )
    return errors


def login(page, live_server, username: str, password: str = "secret-pass-123") -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("#login-submit")
    page.wait_for_url(f"{live_server.url}/")


# --- a real SMTP server on localhost --------------------------------------------------------
@pytest.fixture
def smtp_server(settings):
    """``smtp_server(handler)`` starts an aiosmtpd server with that handler on a free port and
    points Django's SMTP backend at it; every server started is stopped after the test."""
    from aiosmtpd.controller import Controller

    controllers = []

    def start(handler):
        controller = Controller(handler, hostname="127.0.0.1", port=closed_port())
        controller.start()
        controllers.append(controller)
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
        settings.EMAIL_USE_TLS, settings.EMAIL_TIMEOUT = False, 5
        return handler

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def retries_run_eagerly():
    """Eager tasks keep their exceptions in the result, so an eager retry chain runs to its
    end (success or the last retry) as a worker would run it, only without the countdowns."""
    saved = celery_app.conf.task_eager_propagates
    celery_app.conf.task_eager_propagates = False
    yield
    celery_app.conf.task_eager_propagates = saved


@pytest.fixture(autouse=True)
def _fresh_answer_pages():
    """The answer page keeps blank forms per questionnaire version in the process; a test's
    database is new, so its questionnaire ids and times may repeat another test's."""
    from surveys.views import forget_pages

    forget_pages()
    yield
