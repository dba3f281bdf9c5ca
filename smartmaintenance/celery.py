"""
The Celery app. tenant-schemas-celery sends the current schema with every
task and switches the worker's connection to it before the task runs. Tasks
are tenant tasks unless declared platform tasks (smartmaintenance.tasks).
"""

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smartmaintenance.settings")

app = CeleryApp("smartmaintenance", task_cls="smartmaintenance.tasks:TenantTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
