import pytest

from instagram.providers import CachedProvider, get_provider
from instagram.providers.base import ProfileNotFound, UpstreamError, UpstreamTimeout
from instagram.providers.demo import DemoProvider, catalogue
from instagram.providers.graph import GraphProvider
from instagram.usernames import is_valid_username, normalize_username

from .fake_graph_server import FakeGraphServer, Handler


@pytest.fixture(scope="module")
def graph_server():
    with FakeGraphServer() as server:
        yield server


def graph(server, timeout=5.0):
    return GraphProvider(base_url=server.url, access_token="test-token", business_account_id="1789", timeout=timeout)


class TestDemo:
    def test_catalogue_has_the_named_profiles(self):
        names = set(catalogue())
        assert len(names) >= 30
        assert {"alice.travels", "bob_fitness", "chef.carla", "dev_dan", "eco_emma"} <= names
        assert all(is_valid_username(name) for name in names)

    def test_profile_and_posts(self):
        profile = DemoProvider().get_profile("chef.carla")
        posts = DemoProvider().get_posts("chef.carla", limit=5)
        assert profile.full_name == "Carla Rossi" and profile.followers_count > 0
        assert len(posts) == 5
        assert [p.timestamp for p in posts] == sorted((p.timestamp for p in posts), reverse=True)

    def test_unknown_is_not_found(self):
        with pytest.raises(ProfileNotFound):
            DemoProvider().get_profile("nobody_here")


class TestGraph:
    def test_found(self, graph_server):
        profile = graph(graph_server).get_profile("graph_user")
        posts = graph(graph_server).get_posts("graph_user", limit=10)
        assert (profile.username, profile.followers_count, profile.media_count) == ("graph_user", 1200, 2)
        assert [p.id for p in posts] == ["2", "1"]
        assert posts[0].hashtags == ("two",)
        path, query = Handler.requests[-1]
        assert path == "/v21.0/1789"
        assert "media.limit(10)" in query["fields"][0]

    @pytest.mark.parametrize(
        "username, error",
        [("ghost", ProfileNotFound), ("gone", ProfileNotFound), ("explode", UpstreamError), ("garbled", UpstreamError)],
    )
    def test_failures(self, graph_server, username, error):
        with pytest.raises(error):
            graph(graph_server).get_profile(username)

    def test_timeout(self, graph_server):
        with pytest.raises(UpstreamTimeout):
            graph(graph_server, timeout=0.2).get_profile("sleepy")

    def test_connection_refused_is_upstream_error(self):
        provider = GraphProvider(base_url="http://127.0.0.1:9", access_token="t", business_account_id="1", timeout=1)
        with pytest.raises(UpstreamError):
            provider.get_profile("graph_user")

    def test_get_provider_follows_settings(self, settings, graph_server):
        settings.INSTAGRAM_PROVIDER = "graph"
        settings.INSTAGRAM_GRAPH_BASE_URL = graph_server.url
        settings.INSTAGRAM_ACCESS_TOKEN = "test-token"
        settings.INSTAGRAM_BUSINESS_ACCOUNT_ID = "1789"
        assert get_provider().get_profile("graph_user").full_name == "Graph User"


class CountingProvider(DemoProvider):
    def __init__(self):
        self.calls = 0

    def get_profile(self, username):
        self.calls += 1
        return super().get_profile(username)


def test_cache_serves_repeats_and_never_caches_failures():
    from django.core.cache.backends.locmem import LocMemCache

    inner = CountingProvider()
    cached = CachedProvider(inner, backend=LocMemCache("t", {}), ttl=60)
    first, second = cached.get_profile("dev_dan"), cached.get_profile("dev_dan")
    assert first == second and inner.calls == 1
    for _ in range(2):
        with pytest.raises(ProfileNotFound):
            cached.get_profile("nobody_here")
    assert inner.calls == 3
    assert [p.id for p in cached.get_posts("dev_dan")] == [p.id for p in cached.get_posts("dev_dan")]


@pytest.mark.parametrize("name", ["a", "dev_dan", "alice.travels", "a" * 30, "x.y_z.1"])
def test_valid_usernames(name):
    assert is_valid_username(name)


@pytest.mark.parametrize("name", ["", "a" * 31, ".a", "a.", "a..b", "ab-cd", "a b", "é", "a/b"])
def test_invalid_usernames(name):
    assert not is_valid_username(name)


def test_normalize():
    assert normalize_username(" @Dev_Dan ") == "dev_dan"
