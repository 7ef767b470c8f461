"""`make run`: SQLite, eager Celery, demo provider, DEBUG on unless told otherwise."""

from .base import *  # noqa: F401,F403
from .base import env_bool, env_origins

DEBUG = env_bool("DEBUG", True)

# The common local frontend dev servers (Vite, Create React App / Next.js, Vue CLI).
CORS_ALLOWED_ORIGINS = env_origins(
    "CORS_ALLOWED_ORIGINS",
    "http://localhost:5173,http://127.0.0.1:5173,http://localhost:3000,http://127.0.0.1:3000,http://localhost:8080",
)
