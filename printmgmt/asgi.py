"""ASGI entry point: the product is served by uvicorn (IPP clients send chunked bodies).

/ipp/... goes to our IPP printer (apps/ippserver/asgi.py), which streams documents to the
spool instead of letting Django buffer them in memory; everything else goes to Django.
"""

import os
import warnings

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "printmgmt.settings")

# WhiteNoise hands static files to Django as synchronous iterators; under ASGI Django copies
# them with a warning per file. Harmless for our small CSS; a front proxy serves static in
# production (see README).
warnings.filterwarnings("ignore", message="StreamingHttpResponse must consume synchronous")

django_application = get_asgi_application()

# Imported after Django is set up: the IPP endpoint uses the ORM.
from apps.ippserver.asgi import routed  # noqa: E402

application = routed(django_application)
