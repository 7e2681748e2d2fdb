"""ASGI entry point: the product is served by uvicorn (IPP clients send chunked bodies).

/ipp/... goes to our IPP printer (apps/ippserver/asgi.py), which streams documents to the
spool instead of letting Django buffer them in memory. Everything else is Django's portal,
which is synchronous code: it is served as WSGI on a fixed pool of `WEB_THREADS` threads per
process (a2wsgi). Django's own ASGI handler started a new thread for every request and passed
each request between the event loop and that thread at every synchronous middleware, which
cost more CPU than a simple page itself (bench/bench_portal.py). Request bodies are read on
the event loop before a thread takes the request (apps/core/buffered_body.py), so a slow
upload does not hold a thread.
"""

import os

from a2wsgi import WSGIMiddleware
from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "printmgmt.settings")

# django-stubs types the handler as taking Django requests, not the WSGI environ it takes.
portal_application = WSGIMiddleware(
    get_wsgi_application(),  # type: ignore[arg-type]
    workers=settings.WEB_THREADS,
)

# Imported after Django is set up: the IPP endpoint and the portal's services use the ORM.
from django.urls import reverse  # noqa: E402

from apps.core.buffered_body import BodyLimits, buffered_bodies  # noqa: E402
from apps.ippserver.asgi import routed  # noqa: E402
from apps.portal.services import max_upload_request_bytes  # noqa: E402

body_limits = BodyLimits(
    upload_path=reverse("portal:upload"),
    upload_limit=max_upload_request_bytes,
    spool_dir=settings.FILE_UPLOAD_TEMP_DIR,
)
# a2wsgi declares its own (narrower) ASGI message types.
application = routed(buffered_bodies(portal_application, body_limits))  # type: ignore[arg-type]
