#!/usr/bin/env python3
"""Runs a command and samples the CPU time of each of its threads (Linux, /proc).

Prints, every interval, the cores the process kept busy and each thread's share (user + system
time, threads below 0.05 of a core left out), then the wall time, the CPU time and the idle
core-seconds (cores x wall - CPU) per stretch of five seconds. On a noisy shared machine the
idle core-seconds of one stretch tell a change that fills an idle core apart where wall times
cannot (they vary by more than the change); note that CPU stolen by the hypervisor counts as
idle here, since the process did not run.

    scripts/cpu_by_thread.py [--every 0.5] [--from 20] -- govmedia audit --store S --out R ...

Thread ids are printed by their last three digits, then the thread's name (`polars-0`, a
tokio worker; the audit's own threads are `govmedia`); a thread's id tells it apart from the
others of the same run only.
"""

import argparse
import os
import resource
import subprocess
import sys
import time


def stat_ticks(path):
    """CPU clock ticks (user, system) in a /proc `stat` file; None when it is gone."""
    named = stat_named_ticks(path)
    return None if named is None else named[1:]


def stat_named_ticks(path):
    """The name and CPU clock ticks (name, user, system) in a /proc `stat` file; None when it
    is gone."""
    try:
        with open(path) as stat:
            head, tail = stat.read().rsplit(")", 1)
    except OSError:
        return None
    fields = tail.split()
    return head.split("(", 1)[-1], int(fields[11]), int(fields[12])


def thread_times(pid):
    """The name and CPU clock ticks (name, user, system) of each thread of `pid`, by thread id."""
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return {}
    times = {tid: stat_named_ticks(f"/proc/{pid}/task/{tid}/stat") for tid in tids}
    # A thread that ended between the listing and the read has no figures.
    return {tid: ticks for tid, ticks in times.items() if ticks is not None}


def process_ticks(pid):
    """CPU clock ticks (user + system) of `pid`, its ended threads included; None once gone."""
    ticks = stat_ticks(f"/proc/{pid}/stat")
    return None if ticks is None else sum(ticks)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--every", type=float, default=0.5, help="seconds between samples")
    parser.add_argument("--from", dest="start", type=float, default=0.0,
                        help="print the samples from this many seconds on (all are summed)")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command to run")
    ticks = os.sysconf("SC_CLK_TCK")
    cores = os.cpu_count() or 1
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    began = last_at = time.time()
    last, last_total = {}, 0
    idle_by_stretch = {}
    while process.poll() is None:
        time.sleep(args.every)
        now = time.time()
        total = process_ticks(process.pid)
        sample = thread_times(process.pid)
        if total is None or not sample:
            break
        interval = now - last_at
        # The process's own total: a thread that ended since the last sample is no longer listed.
        busy = (total - last_total) / ticks / interval
        last_total = total
        shares = []
        for tid, (name, user, system) in sorted(sample.items(), key=lambda t: int(t[0])):
            _, was_user, was_system = last.get(tid, (name, 0, 0))
            user_share = (user - was_user) / ticks / interval
            system_share = (system - was_system) / ticks / interval
            if user_share + system_share > 0.05:
                shares.append(f"{tid[-3:]} {name[:9]}:{user_share:.1f}+{system_share:.1f}")
        at = now - began
        stretch = int(at // 5) * 5
        idle_by_stretch[stretch] = idle_by_stretch.get(stretch, 0.0) + max(0.0, cores - busy) * interval
        if at >= args.start:
            print(f"{at:6.1f} s  busy {busy:4.2f}  | " + " ".join(shares), flush=True)
        last, last_at = sample, now
    code = process.wait()
    wall = time.time() - began
    # The children's usage covers every thread of the command, those that ended early too.
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = children.ru_utime + children.ru_stime
    print(f"wall {wall:.1f} s, CPU {cpu:.1f} s (user {children.ru_utime:.1f}, system "
          f"{children.ru_stime:.1f}), idle {max(0.0, cores * wall - cpu):.1f} core-s of {cores} cores")
    print("idle core-s per 5 s: " + " ".join(
        f"{stretch}:{idle:.1f}" for stretch, idle in sorted(idle_by_stretch.items())))
    sys.exit(code)


if __name__ == "__main__":
    main()
