"""The Celery application: tasks are found in each app's tasks.py."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "printmgmt.settings")

app = Celery("printmgmt")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Celery's Django fixup closes every database connection before and after each task unless
# this is set: each task then opened a new SQLite connection (its PRAGMAs and function
# registrations, on the way to the printer), and a prefork child even closed its whole
# PostgreSQL pool. With it, the fixup does so only every this many tasks, and tasks treat
# connections as Django treats requests (below).
app.conf.CELERY_DB_REUSE_MAX = 1000


@task_prerun.connect
@task_postrun.connect
def close_old_database_connections(**_: Any) -> None:
    """Drop connections that are broken or older than CONN_MAX_AGE, as around a request
    (CONN_HEALTH_CHECKS then checks a kept one before its first use in the next task)."""
    from django.db import close_old_connections

    close_old_connections()


@worker_process_init.connect
def leave_the_workers_process_group(**_: Any) -> None:
    """Put each pool child in a process group of its own, so a SIGTERM to the worker's group
    (`kill -- -PGID`, a service manager stopping `make run`) reaches only the worker.

    The children ignore SIGINT (Ctrl-C) but died of a SIGTERM: a task being sent was cut off,
    and a child killed while it held the pool's queue lock left the worker waiting for that
    lock at exit, forever. Now the worker stops warmly, as on Ctrl-C: it takes no new task,
    lets the running ones finish, then ends its children."""
    os.setpgid(0, 0)
