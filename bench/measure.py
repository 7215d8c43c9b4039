#!/usr/bin/env python3
"""Run a command, report wall time, CPU seconds (user+sys) and peak RSS.

usage: measure.py LABEL EVENTS [--stdin FILE] -- CMD ARGS...
Prints one line: LABEL  events/s  wall  cpu  peak-RSS. Exits with the
command's status when it fails.
"""
import os
import resource
import subprocess
import sys
import time


def main():
    args = sys.argv[1:]
    if "--" not in args or len(args) < 3:
        sys.exit(__doc__)
    sep = args.index("--")
    label, events = args[0], int(args[1])
    opts, cmd = args[2:sep], args[sep + 1:]
    stdin = open(opts[opts.index("--stdin") + 1], "rb") if "--stdin" in opts else subprocess.DEVNULL
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    proc = subprocess.run(cmd, stdin=stdin, stdout=subprocess.DEVNULL)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"{label}: command exited {proc.returncode}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    rss_mib = after.ru_maxrss / 1024.0
    print(f"| {label} | {events:,} | {events / wall:,.0f} | {wall:.2f} | {cpu:.2f} | {rss_mib:.1f} |")


if __name__ == "__main__":
    main()
