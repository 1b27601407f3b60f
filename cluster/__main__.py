"""python -m cluster [--size small|full] [--database NAME] [--output DIR]"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import traceback
from pathlib import Path

from cluster import net, report, run, verdict


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cluster", description=run.__doc__.split("\n")[0]
    )
    parser.add_argument("--size", choices=sorted(run.SIZES), default="full")
    parser.add_argument(
        "--database", default="sae_cluster", help="built fresh (default sae_cluster)"
    )
    parser.add_argument("--output", type=Path, default=Path("docs/cluster"))
    args = parser.parse_args()
    if not args.database.replace("_", "").isalnum():
        print(f"error: bad database name {args.database!r}", file=sys.stderr)
        return 2

    # One run at a time: the namespace names and addresses are fixed, and a second run's
    # teardown would pull the first one's nodes away.
    lock = net.hold_lock()
    if lock is None:
        print("error: another cluster test is running", file=sys.stderr)
        return 1

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    work = Path(tempfile.mkdtemp(prefix="sae-cluster-"))
    cluster = run.Cluster(
        run.SIZES[args.size], database=args.database, output=args.output, keep=work
    )
    run.log(f"logs in {work}")
    try:
        figures = cluster.run()
    except run.Failed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Exception:
        traceback.print_exc()
        return 1
    finally:
        cluster.stop_all()
        if cluster.sink is not None:
            cluster.sink.stop()
        net.teardown()
        run.log("stopped everything; namespaces deleted")
    problems = verdict.checks(figures)
    report.write(args.output, figures, problems)
    run.log(f"wrote {args.output}/latest.json and latest.md")
    print((args.output / "latest.md").read_text())
    for problem in problems:
        print(f"FAIL: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
