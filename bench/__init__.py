"""The served benchmark (`make bench`, `make bench-quick`): the console under gunicorn and wrk
beside its anchors, the writes, the intake and one notification worker. See `bench.run`."""
