#!/usr/bin/env python3
"""Prints the benchmark table. usage: report.py RESULTS.tsv IDLE.tsv MEMORY.tsv [AFTER.tsv]

With several rounds, requests/s, latency and CPU are medians and errors the sum over the
rounds; peak RSS is the first round's, because a later round starts from whatever the earlier
scenarios left resident (allocators keep freed memory) and would not show this scenario's own
peak. Every figure is followed by its ratio to the direct connection (xdir) and to nghttpx (xngx).
For requests/s higher is better; for latency, CPU and RSS lower is better.
"""
import math
import os
import statistics
import sys

ORDER = ["direct", "meshnode", "nghttpx", "haproxy"]
TOOLS = {("wrk", "h1"): "HTTP/1.1, wrk", ("h2load", "h1"): "HTTP/1.1, h2load --h1",
         ("h2load", "h2"): "HTTP/2 h2c, h2load"}


def num(text):
    try:
        value = float(text)
        return None if math.isnan(value) else value
    except ValueError:
        return None


def ratio(value, base):
    if value is None or base is None or base == 0:
        return "-"
    return "%.2f" % (value / base)


def fmt(value, pattern):
    return "-" if value is None else pattern % value


def read_tsv(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


def aggregate(rounds):
    def median(name):
        values = [r[name] for r in rounds if r[name] is not None]
        return statistics.median(values) if values else None

    errors = [r["errors"] for r in rounds]
    if all(e.isdigit() for e in errors):
        errors = str(sum(int(e) for e in errors))
    else:
        errors = ",".join(e for e in errors if not e.isdigit() or e != "0")
    return dict(rps=median("rps"), p50=median("p50"), p99=median("p99"), cpu=median("cpu"),
                peak=rounds[0]["peak"], errors=errors)


def main():
    results, idle, memory = (read_tsv(p) for p in sys.argv[1:4])
    after = read_tsv(sys.argv[4]) if len(sys.argv) > 4 else []
    scenarios = []
    runs = {}
    results.sort(key=lambda r: int(r[12]))  # by round, so that rounds[0] is the first
    for target, tool, proto, conns, path, rps, p50, p99, cpu, peak, errors, _, _ in results:
        key = (tool, proto, int(conns), path)
        if key not in scenarios:
            scenarios.append(key)
        runs.setdefault(key + (target,), []).append(
            dict(rps=num(rps), p50=num(p50), p99=num(p99), cpu=num(cpu), peak=num(peak),
                 errors=errors))
    rows = {k: aggregate(v) for k, v in runs.items()}
    header = ("%-9s %8s %5s %5s  %7s %5s %5s  %7s %5s %5s  %8s %5s  %8s %5s  %s" %
              ("target", "req/s", "xdir", "xngx", "p50 ms", "xdir", "xngx", "p99 ms", "xdir",
               "xngx", "cpu s/1k", "xngx", "peak MiB", "xngx", "errors"))
    for key in sorted(scenarios, key=lambda k: (k[3], list(TOOLS).index(k[:2]), k[2])):
        tool, proto, conns, path = key
        body = "64 KiB body" if path == "/64k" else "17 B body"
        print(f"\n{TOOLS[(tool, proto)]}, {conns} connections, {body}")
        print(header)
        direct = rows.get(key + ("direct",), {})
        ngx = rows.get(key + ("nghttpx",), {})
        for target in ORDER:
            r = rows.get(key + (target,))
            if not r:
                continue
            ms = lambda v: None if v is None else v / 1000.0
            print("%-9s %8s %5s %5s  %7s %5s %5s  %7s %5s %5s  %8s %5s  %8s %5s  %s" % (
                target, fmt(r["rps"], "%.0f"), ratio(r["rps"], direct.get("rps")),
                ratio(r["rps"], ngx.get("rps")),
                fmt(ms(r["p50"]), "%.3f"), ratio(r["p50"], direct.get("p50")),
                ratio(r["p50"], ngx.get("p50")),
                fmt(ms(r["p99"]), "%.3f"), ratio(r["p99"], direct.get("p99")),
                ratio(r["p99"], ngx.get("p99")),
                fmt(r["cpu"], "%.4f"), ratio(r["cpu"], ngx.get("cpu")),
                fmt(None if r["peak"] is None else r["peak"] / 1024, "%.1f"),
                ratio(r["peak"], ngx.get("peak")), r["errors"]))
    idle_kb = {t: num(v) for t, v in idle}
    after_kb = {t: num(rss) for t, rss in after}
    peak_kb = {}
    for r in results:
        if num(r[9]) is not None:
            peak_kb[r[0]] = max(peak_kb.get(r[0], 0), num(r[9]))
    mib = lambda v: fmt(None if v is None else v / 1024, "%.1f")
    print("\nRSS (MiB, whole process tree): idle 1 s after start; resident after all runs;"
          " peak over all runs")
    for target in ORDER[1:]:
        if target in idle_kb:
            v = idle_kb[target]
            print("  %-9s idle %6s  xngx %4s   after runs %6s   peak %6s" % (
                target, mib(v), ratio(v, idle_kb.get("nghttpx")), mib(after_kb.get(target)),
                mib(peak_kb.get(target))))
    if memory:
        print("\nmemory check: VmRSS (MiB) of a fresh proxy, phases in order")
        for target in ORDER[1:]:
            phases = [(p, num(v)) for t, p, v in memory if t == target]
            for phase, v in phases:
                print("  %-9s %-40s %8s" % (target, phase,
                                            fmt(None if v is None else v / 1024, "%.1f")))
            held = [(int(p.split()[0]), v) for p, v in phases if p.endswith("held") and v]
            if len(held) >= 2:
                (n0, v0), (n1, v1) = held[0], held[-1]
                print("  %-9s %-40s %8.1f" % (target, "KiB per extra idle connection",
                                              (v1 - v0) / (n1 - n0)))


if __name__ == "__main__":
    main()
