"""The benchmark's own database: created afresh for every run, never one the tests use."""

from __future__ import annotations

import dj_database_url
import psycopg
from psycopg import sql

# The names a run may drop and create: sae_bench* (make bench, make bench-quick), and sae_perf_*
# for a run from a second clone beside them (e.g. BENCH_QUICK_PG_URL=.../sae_perf_bq), so two
# clones never drop each other's database. Never a test database, never the console's own.
PREFIXES = ("sae_bench", "sae_perf_")


def recreate(url: str) -> None:
    """Drop and create the database `url` names (its name must start with one of PREFIXES)."""
    config = dj_database_url.parse(url)
    name = config["NAME"]
    if not name.startswith(PREFIXES):
        allowed = " or ".join(f"{prefix}*" for prefix in PREFIXES)
        raise SystemExit(f"error: the benchmark database must be named {allowed}, not {name!r}")
    dsn = {
        "host": config.get("HOST") or "127.0.0.1",
        "port": config.get("PORT") or 5432,
        "user": config.get("USER") or "postgres",
        "dbname": "postgres",
    }
    if config.get("PASSWORD"):
        dsn["password"] = config["PASSWORD"]
    with psycopg.connect(**dsn, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
