import pytest

from notifications.endpoints import endpoint_create

from .receiver import Receiver


@pytest.fixture
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def private_targets(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True


@pytest.fixture
def endpoint(receiver, private_targets):
    return endpoint_create(url=receiver.url)
