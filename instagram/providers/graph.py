"""The Instagram Graph API's business discovery endpoint, over httpx."""

import httpx

from .base import InstagramProvider, Post, Profile, ProfileNotFound, UpstreamError, UpstreamTimeout
from .demo import post_from

PROFILE_FIELDS = "username,name,biography,followers_count,follows_count,media_count,profile_picture_url"
MEDIA_FIELDS = "id,caption,media_type,like_count,comments_count,timestamp,permalink"
NOT_FOUND_SUBCODE = 2207013  # "The user with username X cannot be found."


class GraphProvider(InstagramProvider):
    name = "graph"

    def __init__(self, *, base_url: str, access_token: str, business_account_id: str, timeout: float = 5.0):
        self.base_url = base_url.rstrip("/")
        self.access_token = access_token
        self.business_account_id = business_account_id
        self.timeout = timeout

    def _discover(self, username: str, media_limit: int) -> dict:
        fields = f"business_discovery.username({username}){{{PROFILE_FIELDS},media.limit({media_limit}){{{MEDIA_FIELDS}}}}}"
        try:
            response = httpx.get(
                f"{self.base_url}/{self.business_account_id}",
                params={"fields": fields, "access_token": self.access_token},
                timeout=self.timeout,
            )
        except httpx.TimeoutException as error:
            raise UpstreamTimeout(str(error)) from error
        except httpx.HTTPError as error:
            raise UpstreamError(str(error)) from error
        if response.status_code == 404 or (response.status_code == 400 and self._is_unknown_user(response)):
            raise ProfileNotFound(username)
        if response.status_code != 200:
            raise UpstreamError(f"upstream answered {response.status_code}")
        try:
            return response.json()["business_discovery"]
        except (ValueError, KeyError, TypeError) as error:
            raise UpstreamError("upstream answered something that is not a profile") from error

    @staticmethod
    def _is_unknown_user(response: httpx.Response) -> bool:
        try:
            error = response.json().get("error", {})
        except ValueError:
            return False
        return error.get("error_subcode") == NOT_FOUND_SUBCODE or "cannot be found" in str(error.get("message", ""))

    def get_profile(self, username: str) -> Profile:
        data = self._discover(username, media_limit=1)
        try:
            return Profile(
                username=data["username"],
                full_name=data.get("name") or "",
                biography=data.get("biography") or "",
                category=None,
                is_verified=bool(data.get("is_verified", False)),
                followers_count=int(data.get("followers_count") or 0),
                follows_count=int(data.get("follows_count") or 0),
                media_count=int(data.get("media_count") or 0),
                profile_picture_url=data.get("profile_picture_url") or "",
            )
        except (KeyError, TypeError, ValueError) as error:
            raise UpstreamError("upstream profile is malformed") from error

    def get_posts(self, username: str, limit: int = 50) -> list[Post]:
        data = self._discover(username, media_limit=limit)
        try:
            posts = [post_from(item) for item in data.get("media", {}).get("data", [])]
        except (KeyError, TypeError, ValueError) as error:
            raise UpstreamError("upstream media is malformed") from error
        return sorted(posts, key=lambda post: post.timestamp, reverse=True)
