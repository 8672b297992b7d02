"""Every task the code queues or the beat schedules is one a worker knows.

``crm.queue.enqueue(task, …)`` stores the task's *name* in the outbox; a name no worker has
registered is published and then dropped by the worker ("unregistered task"), so a typo or a
tasks module autodiscovery does not import fails silently in production. This test reads the
product apps' source (AST: the code is not run) for every ``enqueue(…)`` call, resolves the
task it names, adds the beat schedule (``CELERY_BEAT_SCHEDULE`` and the database schedule the
data migrations write), and checks each name against the tasks a fresh process registers after
Celery's autodiscovery — what a worker has, not what this test process happened to import.

A call whose task cannot be read from the source — a parameter, an f-string, a computed
value — is flagged too: its name could be anything.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from celery import Task
from django.apps import apps
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
QUEUE_MODULE = "crm.queue"
ENQUEUERS = ("enqueue", "enqueue_chunks")  # the functions of crm.queue that take a task first


@dataclass(frozen=True)
class Call:
    """One ``enqueue`` call: where, and the task's name (or where to find the task object)."""

    where: str
    name: str | None = None  # a literal, or a module constant bound to one
    ref: tuple[str, str] | None = None  # (module, attribute) of a task object
    problem: str | None = None


def _module_of(node: ast.ImportFrom, package: str) -> str:
    if node.level == 0:
        return node.module or ""
    base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
    return f"{base}.{node.module}" if node.module else base


def scan(source: str, module: str, path: str = "<source>") -> list[Call]:
    """The ``crm.queue.enqueue`` calls of one module's source, with their task resolved as far
    as the source allows."""
    tree = ast.parse(source)
    package = module.rsplit(".", 1)[0] if "." in module else module
    constants: dict[str, str] = {}  # NAME = "literal" at module level
    modules: dict[str, str] = {}  # local name → imported module
    imported: dict[str, tuple[str, str]] = {}  # local name → (module, attribute)
    local_functions: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            if isinstance(node.value.value, str):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        constants[target.id] = node.value.value
        elif isinstance(node, ast.FunctionDef):
            local_functions.add(node.name)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    modules[alias.asname] = alias.name
                else:
                    modules[alias.name.split(".")[0]] = alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            source_module = _module_of(node, package)
            for alias in node.names:
                local = alias.asname or alias.name
                candidate = f"{source_module}.{alias.name}"
                if importlib.util.find_spec(source_module) and _is_module(candidate):
                    modules[local] = candidate
                else:
                    imported[local] = (source_module, alias.name)

    def dotted(node: ast.expr) -> str | None:
        if isinstance(node, ast.Name):
            return modules.get(node.id, node.id)
        if isinstance(node, ast.Attribute):
            base = dotted(node.value)
            return f"{base}.{node.attr}" if base else None
        return None

    def is_enqueue(func: ast.expr) -> bool:
        if isinstance(func, ast.Name):
            return imported.get(func.id) in {(QUEUE_MODULE, n) for n in ENQUEUERS} or (
                module == QUEUE_MODULE and func.id in ENQUEUERS
            )
        return isinstance(func, ast.Attribute) and dotted(func) in {
            f"{QUEUE_MODULE}.{n}" for n in ENQUEUERS
        }

    calls = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and is_enqueue(node.func)):
            continue
        where = f"{path}:{node.lineno}"
        if not node.args:
            calls.append(Call(where, problem="enqueue() without a task"))
            continue
        task = node.args[0]
        if isinstance(task, ast.Constant) and isinstance(task.value, str):
            calls.append(Call(where, name=task.value))
        elif isinstance(task, ast.Name) and task.id in constants:
            calls.append(Call(where, name=constants[task.id]))
        elif isinstance(task, ast.Name) and task.id in imported:
            calls.append(Call(where, ref=imported[task.id]))
        elif isinstance(task, ast.Name) and task.id in local_functions:
            calls.append(Call(where, ref=(module, task.id)))
        elif isinstance(task, ast.Attribute) and isinstance(task.value, ast.Name):
            owner = modules.get(task.value.id)
            if owner is None:
                calls.append(Call(where, problem=f"the task is not literal: {ast.unparse(task)}"))
            else:
                calls.append(Call(where, ref=(owner, task.attr)))
        else:
            calls.append(Call(where, problem=f"the task is not literal: {ast.unparse(task)}"))
    return sorted(calls, key=lambda c: int(c.where.rsplit(":", 1)[1]))


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def resolve(call: Call) -> str | None:
    """The registered name a call queues (a task object's ``.name``), None when unknown."""
    if call.name is not None:
        return call.name
    if call.ref is not None:
        try:
            task = getattr(importlib.import_module(call.ref[0]), call.ref[1], None)
        except ImportError:
            return None
        return task.name if isinstance(task, Task) else None
    return None


def product_modules() -> list[tuple[str, Path]]:
    """(dotted name, file) of every module of the project's own apps."""
    found = []
    for config in apps.get_app_configs():
        app_path = Path(config.path).resolve()
        if ROOT not in app_path.parents or ".venv" in app_path.parts:
            continue
        for file in sorted(app_path.rglob("*.py")):
            relative = file.relative_to(ROOT).with_suffix("")
            parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
            if ".".join(parts) != QUEUE_MODULE:  # the queue forwards its callers' tasks
                found.append((".".join(parts), file))
    return found


def problems_of(calls: list[Call], registered: set[str]) -> list[str]:
    """What is wrong: a task that cannot be read from the source, or one no worker knows."""
    problems = []
    for call in calls:
        if call.problem:
            problems.append(f"{call.where}: {call.problem}")
            continue
        name = resolve(call)
        if name is None:
            problems.append(f"{call.where}: {'.'.join(call.ref or ())} is not a Celery task")
        elif name not in registered:
            problems.append(f"{call.where}: task {name!r} is not registered")
    return problems


def registered_by_a_worker() -> set[str]:
    """The task names a fresh process registers after autodiscovery, as a worker does."""
    code = (
        "import json, django\n"
        "django.setup()\n"
        "from crm.celery import app\n"
        "app.loader.import_default_modules()\n"
        "print(json.dumps(sorted(app.tasks)))\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "crm.settings_test"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


# --- the scanner on small sources -------------------------------------------------------------
SOURCE = """
from crm.queue import enqueue
from crm import queue
from feedback import emails
from feedback.emails import send_assignment_email

RUN = "segmentation.execute_run"


def service(job, name):
    enqueue("clients.import_job_run", job.pk)
    enqueue(RUN, job.pk)
    queue.enqueue(emails.send_escalation_emails, [1])
    enqueue(send_assignment_email, 1)
    enqueue("clients.no_such_task", job.pk)
    enqueue(name, job.pk)
    enqueue(f"clients.{name}", job.pk)
    other.enqueue("not the outbox")
"""
REGISTERED = {
    "clients.import_job_run",
    "segmentation.execute_run",
    "feedback.send_escalation_emails",
    "feedback.send_assignment_email",
}


def test_the_scanner_reads_literals_constants_and_task_objects():
    calls = scan(SOURCE, "someapp.services")
    assert [resolve(c) for c in calls[:5]] == [
        "clients.import_job_run",
        "segmentation.execute_run",
        "feedback.send_escalation_emails",
        "feedback.send_assignment_email",
        "clients.no_such_task",
    ]
    assert len(calls) == 7  # ``other.enqueue`` is not the outbox's


def test_the_scanner_fails_on_a_bogus_name_and_on_a_name_it_cannot_read():
    problems = problems_of(scan(SOURCE, "someapp.services", "someapp/services.py"), REGISTERED)
    assert problems == [
        "someapp/services.py:15: task 'clients.no_such_task' is not registered",
        "someapp/services.py:16: the task is not literal: name",
        "someapp/services.py:17: the task is not literal: f'clients.{name}'",
    ]


def test_an_aliased_enqueue_and_a_plain_function_are_caught():
    source = (
        "from crm.queue import enqueue as later\n"
        "def helper():\n"
        "    pass\n"
        "def service():\n"
        "    later(helper)\n"
        "    later()\n"
    )
    problems = problems_of(scan(source, "someapp.services", "s.py"), REGISTERED)
    assert problems == [
        "s.py:5: someapp.services.helper is not a Celery task",
        "s.py:6: enqueue() without a task",
    ]


# --- the project ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def registered() -> set[str]:
    return registered_by_a_worker()


def test_every_enqueued_task_is_registered_with_the_worker(registered):
    calls = []
    for module, file in product_modules():
        calls += scan(file.read_text(), module, str(file.relative_to(ROOT)))
    assert problems_of(calls, registered) == []
    # the scan saw the services that queue work (a scanner that finds nothing proves nothing)
    names = {resolve(c) for c in calls}
    assert {
        "clients.import_job_run",
        "segmentation.execute_run",
        "feedback.send_assignment_email",
        "feedback.send_client_resolution_email",
        "feedback.send_escalation_emails",
    } <= names


@pytest.mark.django_db
def test_every_beat_entry_names_a_registered_task(registered):
    from django_celery_beat.models import PeriodicTask

    scheduled = {entry["task"] for entry in getattr(settings, "CELERY_BEAT_SCHEDULE", {}).values()}
    scheduled |= set(PeriodicTask.objects.values_list("task", flat=True))
    assert scheduled >= {
        "crm.outbox_drain",
        "crm.seed_work_calendar",
        "feedback.escalate_sla_breaches",
        "segmentation.recompute",
    }
    assert sorted(scheduled - registered) == []


def test_the_scanner_reads_chunked_queueing_too():
    source = """
from crm.queue import enqueue_chunks

def service(ids):
    enqueue_chunks("clients.no_such_task", ids, 100)
"""
    problems = problems_of(scan(source, "someapp.services", "someapp/services.py"), REGISTERED)
    assert len(problems) == 1 and "clients.no_such_task" in problems[0]
