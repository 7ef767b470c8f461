"""`make run`: SQLite, eager Celery, demo provider, DEBUG on unless told otherwise."""

from .base import *  # noqa: F401,F403
from .base import env_bool

DEBUG = env_bool("DEBUG", True)
