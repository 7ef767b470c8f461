"""A scripted provider for gate tests: behaviour chosen by username, no network, optional delay."""

import threading
import time
from dataclasses import dataclass, field

import pytest

from instagram.providers.base import Profile, ProfileNotFound, UpstreamError, UpstreamTimeout


@dataclass
class ScriptedProvider:
    delay: float = 0.0
    calls: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _act(self, username):
        with self.lock:
            self.calls.append(username)
        if self.delay and username.startswith("sleepy"):
            time.sleep(self.delay)
        if username.startswith("missing"):
            raise ProfileNotFound(username)
        if username.startswith("broken"):
            raise UpstreamError("upstream said 500")
        if username.startswith("slow"):
            raise UpstreamTimeout("timed out")
        if username.startswith("crash"):
            raise RuntimeError("a bug in the provider")

    def get_profile(self, username):
        self._act(username)
        return Profile(
            username=username, full_name="Test", biography="", category=None, is_verified=False,
            followers_count=1000, follows_count=10, media_count=0,
        )

    def get_posts(self, username, limit=50):
        self._act(username)
        return []


@pytest.fixture
def provider(monkeypatch):
    scripted = ScriptedProvider()
    monkeypatch.setattr("instagram.views.get_provider", lambda: scripted)
    return scripted
