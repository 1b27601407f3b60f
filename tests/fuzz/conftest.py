"""The fuzz suite's profiles and fixtures (rules §13).

`SAE_FUZZ_PROFILE=ci` (the default, what `make test` and CI run) tries a bounded, fixed set
of examples (derandomized, so a CI run is reproducible); `SAE_FUZZ_PROFILE=long` (`make
fuzz`) tries ten times as many, randomly, and keeps failures in hypothesis's database to
replay them first next time.
"""

from __future__ import annotations

import os
import socket

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.core.management import call_command
from django.utils import translation
from hypothesis import HealthCheck, settings

from ram_directory.models import Policy, RamUser
from tests.fuzz import stats
from tests.fuzz.crawl import Crawl, crawl
from tests.fuzz.site import APP_LABELS
from tests.fuzz.world import World, build_world

PROFILE = os.environ.get("SAE_FUZZ_PROFILE", "ci")
_COMMON = {
    "deadline": None,
    "suppress_health_check": [
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.filter_too_much,
        HealthCheck.nested_given,
    ],
    "print_blob": True,
}
settings.register_profile("fuzz-ci", derandomize=True, database=None, **_COMMON)
settings.register_profile("fuzz-long", **_COMMON)
if PROFILE not in ("ci", "long"):
    raise pytest.UsageError(f"SAE_FUZZ_PROFILE must be ci or long, not {PROFILE!r}")
SCALE = {"ci": 1, "long": 10}[PROFILE]


def fuzz_settings(examples: int) -> settings:
    """Hypothesis settings for one attack: `examples` tries in CI, ten times as many long."""
    return settings(settings.get_profile(f"fuzz-{PROFILE}"), max_examples=examples * SCALE)


_real_getaddrinfo = socket.getaddrinfo
_LOOPBACK = {"localhost", "127.0.0.1", "::1", "testserver"}


def _no_network(host, *args, **kwargs):
    if host in _LOOPBACK:
        return _real_getaddrinfo(host, *args, **kwargs)
    raise socket.gaierror(socket.EAI_NONAME, f"the fuzz suite reaches no network ({host})")


@pytest.fixture(scope="package", autouse=True)
def no_network():
    """A hostile value that happens to be a valid robot URL must not reach the Internet."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket, "getaddrinfo", _no_network)
        yield


@pytest.fixture(autouse=True)
def _default_language_afterwards():
    # LocaleMiddleware leaves the request's language active in this thread.
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture(scope="package")
def world(django_db_setup, django_db_blocker, no_network) -> World:
    """The world, committed once for the fuzz suite (every attack runs in a savepoint rolled
    back afterwards, so each starts from it), and emptied again at the end as a transactional
    test leaves the database."""
    with django_db_blocker.unblock():
        built = build_world()
    yield built
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture(scope="package")
def crawled(world: World, django_db_blocker) -> Crawl:
    """What every role reaches (tests.fuzz.crawl), once for the suite."""
    with django_db_blocker.unblock():
        return crawl(world.clients)


@pytest.fixture(scope="package")
def pools(world: World, django_db_blocker) -> dict[str, list[str]]:
    """Values for URL parameters: primary keys of every app table, RAM user IDs and names,
    policy names (of both accounts)."""
    with django_db_blocker.unblock():
        ints: set[str] = set()
        for model in apps.get_models():
            if model._meta.app_label in APP_LABELS and model._meta.pk.get_internal_type() in (
                "AutoField",
                "BigAutoField",
            ):
                ints.update(str(pk) for pk in model._base_manager.values_list("pk", flat=True))
        texts = {
            *RamUser.objects.values_list("user_id", flat=True),
            *RamUser.objects.values_list("user_name", flat=True),
            *Policy.objects.values_list("name", flat=True),
        }
    return {"int": sorted(ints, key=int), "str": sorted(texts)}


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    lines = stats.summary()
    if lines:
        terminalreporter.section("fuzz suite (rules §13)")
        for line in lines:
            terminalreporter.write_line(line)
