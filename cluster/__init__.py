"""The scale-out proof (`make cluster-test`, issue 19): two web nodes behind HAProxy, two
notification workers and one PostgreSQL, in network namespaces on this machine, under a bounded
load while one web node and one worker are SIGKILLed and started again. See cluster/run.py."""
