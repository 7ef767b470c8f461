"""gunicorn settings: `gunicorn -c python:credits_platform.gunicorn credits_platform.wsgi`.

gunicorn refuses request lines over 4094 bytes by default with an HTML page, before the app can
answer in JSON; at its maximum (8190) the app's own bounds (REQUEST_MAX_QUERY_BYTES, 4096 by
default, and REQUEST_MAX_HEADER_BYTES) answer first, as `{"detail", "code"}`.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))  # above every deadline inside (provider, gate, database)
graceful_timeout = 10
limit_request_line = 8190
limit_request_field_size = 8190
