"""Rules §16 (issue 19): the shipped deployment files are valid: HAProxy's configuration (`haproxy
-c`, Debian's package, with a throw-away certificate where the real one goes) checks /readyz and
buffers requests; gunicorn's configuration loads and carries the multiprocess hook."""

from __future__ import annotations

import gc
import runpy
import subprocess
from pathlib import Path

from django.conf import settings

DEPLOY = Path(settings.BASE_DIR) / "deploy"


def test_the_haproxy_configuration_is_valid_and_checks_readyz(tmp_path):
    pem = tmp_path / "console.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=console.example.com", "-keyout", str(pem), "-out", str(pem)),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    text = (DEPLOY / "haproxy.cfg").read_text()
    assert "uri /readyz" in text and "option http-buffer-request" in text
    config = tmp_path / "haproxy.cfg"
    config.write_text(text.replace("/etc/haproxy/certs/console.pem", str(pem)))
    result = subprocess.run(
        ["haproxy", "-c", "-f", str(config)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_gunicorn_configuration_loads_with_the_multiprocess_hook(monkeypatch, tmp_path):
    monkeypatch.setenv("SAE_BIND", "127.0.0.1:9999")
    monkeypatch.setenv("SAE_WEB_WORKERS", "3")
    config = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    assert (config["bind"], config["workers"], config["worker_class"]) == (
        ["127.0.0.1:9999"],
        3,
        "sync",
    )
    assert config["timeout"] == 30
    # A dead worker's live gauge files go (prometheus-client's mark_process_dead).
    metrics_dir = tmp_path / "metrics"
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(metrics_dir))
    config["on_starting"](None)
    assert metrics_dir.is_dir()
    (metrics_dir / "gauge_livesum_4242.db").write_bytes(b"")
    (metrics_dir / "counter_4242.db").write_bytes(b"")

    class Worker:
        pid = 4242

    config["child_exit"](None, Worker())
    assert sorted(p.name for p in metrics_dir.iterdir()) == ["counter_4242.db"]


def test_a_gunicorn_worker_freezes_what_its_start_up_made():
    """core/heap.py: the objects alive once the console is loaded are left out of every later
    garbage collection."""
    config = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    before = gc.get_freeze_count()
    try:
        config["post_worker_init"](None)
        assert gc.get_freeze_count() > before + 10_000
    finally:
        gc.unfreeze()


def test_the_systemd_units_start_gunicorn_and_the_worker_with_a_shared_metrics_dir():
    web = (DEPLOY / "sae-console-web.service").read_text()
    worker = (DEPLOY / "sae-console-worker.service").read_text()
    assert "gunicorn -c deploy/gunicorn.conf.py sae_console.wsgi" in web
    assert "manage.py notify_worker" in worker
    for unit in (web, worker):
        assert "Environment=PROMETHEUS_MULTIPROC_DIR=/run/sae-console/metrics" in unit
        assert "RuntimeDirectoryPreserve=yes" in unit


def test_the_cluster_tests_haproxy_configuration_is_valid(tmp_path):
    from cluster import haproxy

    config = tmp_path / "haproxy.cfg"
    config.write_text(
        haproxy.config(
            stats_socket=tmp_path / "haproxy.sock",
            port=8080,
            servers={"web1": "10.231.0.11", "web2": "10.231.0.12"},
            maxconn=2,
        )
    )
    result = subprocess.run(
        ["haproxy", "-c", "-f", str(config)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "maxconn 2" in config.read_text()
