"""ASGI entry point: the product is served by uvicorn (IPP clients send chunked bodies)."""

import os
import warnings

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "printmgmt.settings")

# WhiteNoise hands static files to Django as synchronous iterators; under ASGI Django copies
# them with a warning per file. Harmless for our small CSS; a front proxy serves static in
# production (see README).
warnings.filterwarnings("ignore", message="StreamingHttpResponse must consume synchronous")

application = get_asgi_application()
