"""Network namespaces for the cluster: one bridge in the root namespace (10.231.0.1/24) and a
veth pair per node, its inner end in the node's namespace. Only names and addresses made here
are touched; `teardown()` removes exactly them, and is safe to run twice."""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import subprocess
import sys

BRIDGE = "saecl0"
HOST_ADDRESS = "10.231.0.1"
PREFIX = 24
# node name -> its address; namespaces are "saecl-<name>".
NODES = {
    "lb": "10.231.0.2",
    "web1": "10.231.0.11",
    "web2": "10.231.0.12",
    "wk1": "10.231.0.21",
    "wk2": "10.231.0.22",
}


def namespace(node: str) -> str:
    return f"saecl-{node}"


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], check=check, capture_output=True, text=True, timeout=30)


def setup() -> None:
    teardown()
    _ip("link", "add", BRIDGE, "type", "bridge")
    _ip("addr", "add", f"{HOST_ADDRESS}/{PREFIX}", "dev", BRIDGE)
    _ip("link", "set", BRIDGE, "up")
    for n, (node, address) in enumerate(NODES.items()):
        ns = namespace(node)
        outer, inner = f"saecl{n}h", f"saecl{n}n"
        _ip("netns", "add", ns)
        _ip("link", "add", outer, "type", "veth", "peer", "name", inner)
        _ip("link", "set", inner, "netns", ns)
        _ip("link", "set", outer, "master", BRIDGE)
        _ip("link", "set", outer, "up")
        _ip("-n", ns, "addr", "add", f"{address}/{PREFIX}", "dev", inner)
        _ip("-n", ns, "link", "set", inner, "up")
        _ip("-n", ns, "link", "set", "lo", "up")
        _ip("-n", ns, "route", "add", "default", "via", HOST_ADDRESS)


def pids(node: str) -> list[int]:
    result = _ip("netns", "pids", namespace(node), check=False)
    return [int(p) for p in result.stdout.split()]


def teardown() -> None:
    """Stop whatever still runs in the namespaces and remove the namespaces and links made by
    setup(), whatever state they are in (also after the driver itself was killed)."""
    for node in NODES:
        for pid in pids(node):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    for node in NODES:
        _ip("netns", "del", namespace(node), check=False)  # its veth ends go with it
    for n in range(len(NODES)):
        _ip("link", "del", f"saecl{n}h", check=False)
    _ip("link", "del", BRIDGE, check=False)


def exec_prefix(node: str) -> list[str]:
    return ["ip", "netns", "exec", namespace(node)]


LOCK = "/run/sae-cluster-test.lock"


def hold_lock():
    """The run's lock (kept open for the whole run), or None while another run holds it."""
    handle = open(LOCK, "w")  # noqa: SIM115 (held until the process ends)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


# The Makefile's trap (python -m cluster.net teardown): after a run that could not clean up
# (killed outright). Never while another run holds the lock.
if __name__ == "__main__" and sys.argv[1:] == ["teardown"] and hold_lock() is not None:
    teardown()
