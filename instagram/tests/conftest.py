from .gate_fixtures import provider  # noqa: F401 - the scripted provider fixture for this package's tests
