"""The ops tests use the notification tests' robot sink."""

from tests.notify.conftest import _robot_sink_server, robot_sink  # noqa: F401
