"""The Celery application: tasks are found in each app's tasks.py."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import task_postrun, task_prerun

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
