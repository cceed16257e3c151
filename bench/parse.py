#!/usr/bin/env python3
"""Reads one wrk or h2load run. usage: parse.py wrk|h2load h1|h2 OUTPUT LATENCY_LOG CPU_TICKS CLK_TCK

Prints: requests/s, p50 and p99 latency in microseconds, proxy CPU seconds per 1,000 requests
("-" without a proxy), errors (failed requests, socket errors, non-2xx) and requests done.
h2load prints no percentiles, so they come from its --log-file (one request a line, the
third column being the request's duration in microseconds).
"""
import re
import sys

UNITS = {"us": 1.0, "ms": 1e3, "s": 1e6, "m": 60e6}


def percentile(sorted_values, q):
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q * len(sorted_values)) - 1))
    return sorted_values[index]


def parse_wrk(text):
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    requests = int(re.search(r"(\d+) requests in", text).group(1))
    lat = {}
    for q, value, unit in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M):
        lat[q] = float(value) * UNITS[unit]
    errors = 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        errors += int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        errors += sum(int(x) for x in m.groups())
    return rps, lat.get("50", float("nan")), lat.get("99", float("nan")), errors, requests


def parse_h2load(text, latency_log):
    rps = float(re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", text).group(1))
    m = re.search(r"requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, "
                  r"(\d+) errored, (\d+) timeout", text)
    done = int(m.group(2))
    errors = int(m.group(4)) + int(m.group(5)) + int(m.group(6))
    s = re.search(r"status codes: \d+ 2xx, \d+ 3xx, (\d+) 4xx, (\d+) 5xx", text)
    if s:
        errors += int(s.group(1)) + int(s.group(2))
    values = []
    with open(latency_log) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3:
                values.append(int(parts[2]))
    values.sort()
    return rps, percentile(values, 0.50), percentile(values, 0.99), errors, done


def main():
    tool, proto, output, latency_log, ticks, clk_tck = sys.argv[1:7]
    try:
        text = open(output).read()
        if tool == "wrk":
            rps, p50, p99, errors, requests = parse_wrk(text)
        else:
            rps, p50, p99, errors, requests = parse_h2load(text, latency_log)
            # A proxy that fell back to another protocol would measure the wrong thing.
            wanted = "h2c" if proto == "h2" else "http/1.1"
            if f"Application protocol: {wanted}" not in text:
                errors = f"not-{wanted}"
    except (AttributeError, OSError, ValueError):
        print("0 nan nan - failed 0")
        return
    cpu = "-"
    if ticks != "-" and requests:
        cpu = "%.4f" % (int(ticks) / int(clk_tck) / (requests / 1000.0))
    print(f"{rps:.0f} {p50:.0f} {p99:.0f} {cpu} {errors} {requests}")


if __name__ == "__main__":
    main()
