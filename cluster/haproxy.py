"""HAProxy for the cluster test: its configuration (the shape of deploy/haproxy.cfg, without
TLS, with the health checks and failover tuned as there) and its servers' state read from the
stats socket."""

from __future__ import annotations

import socket
from pathlib import Path


def config(*, stats_socket: Path, port: int, servers: dict[str, str], maxconn: int) -> str:
    """`servers`: name -> address of each gunicorn node (port 8000)."""
    lines = "\n".join(f"    server {name} {address}:8000" for name, address in servers.items())
    return f"""global
    maxconn 1024
    log stdout format raw local0 info
    stats socket {stats_socket} mode 600 level admin
defaults
    mode http
    log global
    option httplog
    timeout connect 1s
    timeout client 30s
    timeout server 35s
    timeout http-request 10s
    timeout queue 30s
    # A node whose two sync workers are busy answers its check late: not a reason to drop it.
    # A dead node refuses the connection at once, whatever this says.
    timeout check 5s
    retries 3
    option redispatch 1
frontend console
    bind 0.0.0.0:{port}
    option http-buffer-request
    default_backend gunicorn
backend gunicorn
    balance roundrobin
    option httpchk
    http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host lb-probe
    http-check expect status 200
    default-server check inter 500ms fall 2 rise 2 maxconn {maxconn}
    # A refused connection marks the node down at once (no wait for the next check), so the
    # retry goes to the other node. (No `on-marked-down shutdown-sessions`: it would also cut
    # the request being redispatched.)
    default-server observe layer4 error-limit 1 on-error mark-down
{lines}
"""


def server_status(stats_socket: Path, node: str) -> str:
    """`UP`, `DOWN` (with HAProxy's details), or "" when the socket does not answer."""
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(2)
            s.connect(str(stats_socket))
            s.sendall(b"show stat\n")
            data = b""
            while chunk := s.recv(65536):
                data += chunk
    except OSError:
        return ""
    lines = data.decode().splitlines()
    header = lines[0].lstrip("# ").split(",")
    for line in lines[1:]:
        row = dict(zip(header, line.split(","), strict=False))
        if row.get("pxname") == "gunicorn" and row.get("svname") == node:
            return row.get("status", "")
    return ""
