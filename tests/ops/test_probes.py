"""Rules §16 (issue 19): the health probes. /healthz answers without the database; /readyz answers
when the database does and no migration is pending (503 with the reason otherwise); both answer
any Host over plain HTTP, to anyone, with nothing but "ok" or the reason."""

from __future__ import annotations

import pytest
from django.db import OperationalError, connection
from django.db.migrations.recorder import MigrationRecorder
from django.test import override_settings

from sae_console import probes

pytestmark = pytest.mark.django_db

# What a load balancer sends: the node's address as Host, plain HTTP, production's redirect on.
PROBE = {"HTTP_HOST": "10.77.0.11:8000"}
PRODUCTION = override_settings(SECURE_SSL_REDIRECT=True, ALLOWED_HOSTS=["console.example.com"])


@pytest.fixture(autouse=True)
def fresh_process(monkeypatch):
    """Each test starts as a new process would: migrations not yet checked."""
    monkeypatch.setattr(probes, "_migrations_checked", False)


@PRODUCTION
def test_healthz_answers_ok_without_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz", **PROBE)
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert response["Content-Type"].startswith("text/plain")
    assert "Set-Cookie" not in response.headers


@PRODUCTION
def test_readyz_answers_ok_to_a_probe_by_address_over_plain_http(client):
    """Not redirected to HTTPS, not refused for its Host: HAProxy and Kubernetes probe a node
    by its address."""
    response = client.get("/readyz", **PROBE)
    assert response.status_code == 200
    assert response.content == b"ok\n"
    # An HTTP/1.0 probe without any Host header (HAProxy's default check) is answered too.
    response = client.get("/readyz", HTTP_HOST="")
    assert response.status_code == 200


def test_the_probes_carry_no_data_and_are_not_cached(client):
    for path in ("/healthz", "/readyz"):
        response = client.get(path)
        assert response["Cache-Control"] == "no-store"
        assert len(response.content) < 40


def test_readyz_is_503_with_the_reason_while_a_migration_is_pending(client):
    recorder = MigrationRecorder(connection)
    latest = recorder.migration_qs.filter(app="arms_sync").order_by("-id").first()
    latest.delete()  # as if the code were deployed before `migrate` ran
    response = client.get("/readyz", **PROBE)
    assert response.status_code == 503
    assert response.content == b"not ready: migrations pending\n"
    assert response["Retry-After"]
    recorder.record_applied(latest.app, latest.name)
    assert client.get("/readyz", **PROBE).status_code == 200


def test_readyz_checks_migrations_once_per_process_then_only_the_database(
    client, django_assert_num_queries
):
    assert client.get("/readyz").status_code == 200
    with django_assert_num_queries(1):  # SELECT 1, nothing else
        assert client.get("/readyz").status_code == 200


def test_readyz_is_503_when_the_database_does_not_answer(client, monkeypatch, caplog):
    def refuse(*args, **kwargs):
        raise OperationalError("connection refused: secret-host:5432")

    monkeypatch.setattr(connection, "cursor", refuse)
    response = client.get("/readyz", **PROBE)
    assert response.status_code == 503
    assert response.content == b"not ready: database unavailable\n"
    assert b"secret-host" not in response.content


def test_the_probes_answer_get_and_head_only(client):
    assert client.head("/healthz").status_code == 200
    response = client.post("/healthz")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
