"""ASGI entry point: the product is served by uvicorn (IPP clients send chunked bodies)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "printmgmt.settings")

application = get_asgi_application()
