"""
ASGI entry point. Tenant code is synchronous: django-tenants keeps the schema
on the thread's connection, which async views can lose (see docs/).
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smartmaintenance.settings")

application = get_asgi_application()
