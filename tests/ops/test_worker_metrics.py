"""Rules §16 (issue 19): a `notify_worker` on a machine with no web server serves its own
/metrics (`--metrics-bind`), under the same bearer token; bad options end with one error line."""

from __future__ import annotations

import urllib.request

import pytest

from core import metrics, metrics_http
from tests.commands import manage
from tests.loopback import free_port
from tests.ops.support import TOKEN, get, parse, value


@pytest.mark.parametrize("bind", ["127.0.0.1:9464", "[::1]:9464", "0.0.0.0:1"])
def test_bind_addresses_are_host_and_port(bind):
    host, port = metrics_http.parse_bind(bind)
    assert (host, port) == (bind.rpartition(":")[0].strip("[]"), int(bind.rpartition(":")[2]))


@pytest.mark.parametrize(
    "bind", ["9464", ":9464", "localhost:", "localhost:http", "h:0", "h:65536"]
)
def test_a_bad_bind_address_is_refused(bind):
    with pytest.raises(ValueError, match="host:port"):
        metrics_http.parse_bind(bind)


def test_the_worker_endpoint_answers_only_to_the_token():
    port = free_port()
    server = metrics_http.serve(f"127.0.0.1:{port}", TOKEN)
    try:
        url = f"http://127.0.0.1:{port}/metrics"
        before = value(
            parse(get(url, Authorization=f"Bearer {TOKEN}")[1].decode()),
            "sae_deliveries_total",
            channel="wecom",
            outcome="sent",
        )
        metrics.record_delivery(channel="wecom", outcome="sent", seconds=0.2)
        status, body = get(url, Authorization=f"Bearer {TOKEN}")
        assert status == 200
        samples = parse(body.decode())
        assert value(samples, "sae_deliveries_total", channel="wecom", outcome="sent") == before + 1
        # The database's gauges come from the web nodes, not from every worker as well.
        assert ("sae_deliveries_pending", ()) not in samples
        assert get(url)[0] == 401
        assert get(url, Authorization="Bearer wrong")[0] == 401
        assert get(f"http://127.0.0.1:{port}/other", Authorization=f"Bearer {TOKEN}")[0] == 404
        request = urllib.request.Request(
            url, data=b"x", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        assert refused.value.code == 405
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("args", "env_token", "error"),
    [
        (["--metrics-bind", "nonsense"], TOKEN, "error: --metrics-bind: expected host:port"),
        (["--metrics-bind", "127.0.0.1:9464"], "", "error: --metrics-bind needs SAE_METRICS_TOKEN"),
    ],
)
def test_bad_metrics_options_end_with_one_error_line(args, env_token, error, monkeypatch):
    monkeypatch.setenv("SAE_METRICS_TOKEN", env_token)
    result = manage("notify_worker", *args)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith(error), result.stderr
