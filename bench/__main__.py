"""`python -m bench [NAME ...]`: run the named benchmarks (all by default) and print figures."""

from __future__ import annotations

import argparse
import asyncio
import sys

from bench import authz_overhead, demo_load, enrollment_load, portal_load

BENCHMARKS = {
    "demo-load": demo_load.main,
    "authz-overhead": authz_overhead.main,
    "portal-load": portal_load.main,
    "enrollment-files": enrollment_load.main,
}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("names", nargs="*", metavar="NAME", help=", ".join(BENCHMARKS))
    arguments = parser.parse_args()
    unknown = set(arguments.names) - set(BENCHMARKS)
    if unknown:
        parser.error(
            f"unknown benchmark {', '.join(sorted(unknown))}; known: {', '.join(BENCHMARKS)}"
        )
    for name in arguments.names or BENCHMARKS:
        print(f"== {name}")
        asyncio.run(BENCHMARKS[name]())
    return 0


if __name__ == "__main__":
    sys.exit(main())
