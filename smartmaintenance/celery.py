"""
The Celery app. tenant-schemas-celery sends the current schema with every
task and switches the worker's connection to it before the task runs; a task
sent outside any tenant runs in the public schema.
"""

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smartmaintenance.settings")

app = CeleryApp("smartmaintenance")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
