"""The Instagram Graph API's business discovery endpoint, over httpx.

One deadline per provider instance (one per request, see `get_provider`): the profile and the
posts a view needs share it, and it bounds everything (connecting, a server that trickles its
headers or body a byte at a time, a body that never ends). httpx's own timeouts are per read, so
the call runs in a worker thread the request waits on for no longer than what is left.
"""

import threading
import time

import httpx

from .base import InstagramProvider, Post, Profile, ProfileNotFound, ProviderError, UpstreamError, UpstreamTimeout
from .graph_payload import discovery_of, posts_of, profile_of

PROFILE_FIELDS = "username,name,biography,followers_count,follows_count,media_count,profile_picture_url"
MEDIA_FIELDS = "id,caption,media_type,like_count,comments_count,timestamp,permalink"
NOT_FOUND_SUBCODE = 2207013  # "The user with username X cannot be found."


class _Answer:
    status: int = 0
    body: bytes = b""
    error: BaseException | None = None


class GraphProvider(InstagramProvider):
    name = "graph"

    def __init__(
        self, *, base_url: str, access_token: str, business_account_id: str, timeout: float = 5.0,
        max_bytes: int = 2 * 1024 * 1024,
    ):
        self.base_url = base_url.rstrip("/")
        self.access_token = access_token
        self.business_account_id = business_account_id
        self.timeout = timeout
        self.max_bytes = max_bytes
        self._deadline: float | None = None

    def _remaining(self) -> float:
        if self._deadline is None:
            self._deadline = time.monotonic() + self.timeout
        return self._deadline - time.monotonic()

    def _read(self, url: str, params: dict, answer: _Answer) -> None:
        """In the worker thread: the status and the whole body, unless it is too big or too late."""
        try:
            with httpx.stream("GET", url, params=params, timeout=max(self._remaining(), 0.001)) as response:
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > self.max_bytes:
                        raise UpstreamError(f"upstream answer is over {self.max_bytes} bytes")
                    if self._remaining() <= 0:
                        raise UpstreamTimeout("upstream body still arriving at the deadline")
                answer.status, answer.body = response.status_code, bytes(body)
        except httpx.TimeoutException as error:
            answer.error = UpstreamTimeout(str(error))
        except httpx.HTTPError as error:
            answer.error = UpstreamError(str(error))
        except ProviderError as error:
            answer.error = error

    def _get(self, url: str, params: dict) -> _Answer:
        remaining = self._remaining()
        if remaining <= 0:
            raise UpstreamTimeout("deadline passed before the call")
        answer = _Answer()
        worker = threading.Thread(target=self._read, args=(url, params, answer), daemon=True)
        worker.start()
        worker.join(remaining)
        if worker.is_alive():  # it stops by itself at its next chunk or read timeout
            raise UpstreamTimeout(f"no complete answer within {self.timeout} s")
        if answer.error is not None:
            raise answer.error
        return answer

    def _discover(self, username: str, media_limit: int) -> dict:
        fields = f"business_discovery.username({username}){{{PROFILE_FIELDS},media.limit({media_limit}){{{MEDIA_FIELDS}}}}}"
        answer = self._get(
            f"{self.base_url}/{self.business_account_id}", {"fields": fields, "access_token": self.access_token}
        )
        document = self._json(answer.body) if answer.status in (200, 400) else None
        if answer.status == 404 or (answer.status == 400 and self._is_unknown_user(document)):
            raise ProfileNotFound(username)
        if answer.status != 200:
            raise UpstreamError(f"upstream answered {answer.status}")
        if document is None:
            raise UpstreamError("upstream answered something that is not JSON")
        return discovery_of(document)

    @staticmethod
    def _json(body: bytes):
        from common.parsers import loads_bounded

        try:
            return loads_bounded(body, max_depth=16)
        except (ValueError, UnicodeDecodeError):
            return None

    @staticmethod
    def _is_unknown_user(document) -> bool:
        error = document.get("error") if isinstance(document, dict) else None
        if not isinstance(error, dict):
            return False
        return error.get("error_subcode") == NOT_FOUND_SUBCODE or "cannot be found" in str(error.get("message", ""))

    def get_profile(self, username: str) -> Profile:
        return profile_of(self._discover(username, media_limit=1))

    def get_posts(self, username: str, limit: int = 50) -> list[Post]:
        return posts_of(self._discover(username, media_limit=limit), limit)

