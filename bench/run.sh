#!/usr/bin/env bash
# Benchmarks meshnode-proxy against a direct connection, nghttpx and haproxy in one run on
# loopback: HTTP/1.1 (wrk, h2load --h1) and HTTP/2 cleartext prior knowledge (h2load), then a
# memory check. Prints a table; docs/performance.md explains it. Never run from the tests.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: bench/run.sh [options]
  --proxy-bin PATH     meshnode-proxy to measure (default: build/proxy/meshnode-proxy)
  --workers N          worker threads/processes for every proxy and for nginx (default 1)
  --duration S         seconds per measurement (default 5)
  --rounds R           measure every scenario R times; the table shows medians (default 1)
  --connections "A B"  connection counts (default "10 100")
  --streams M          concurrent streams per HTTP/2 connection for h2load (default 10)
  --large              also measure a 64 KiB response body
  --proxies "A B"      proxies to measure (default "meshnode nghttpx haproxy")
  --proxy-cpus LIST    taskset CPU list for the proxies (default 0)
  --upstream-cpus LIST taskset CPU list for the upstream nginx (default: same as the proxies)
  --client-cpus LIST   taskset CPU list for wrk and h2load (default 1)
  --base-port P        first of the loopback ports used (default 24080; P..P+20 must be free)
  --hold "A B"         idle HTTP/2 connection counts for the memory check (default "100 1000")
  --no-memory          skip the memory check
  --keep               keep the work directory (logs, configs, raw results)
USAGE
}

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PROXY_BIN=$ROOT/build/proxy/meshnode-proxy
MALLOC_TUNABLES=$(sed -n 's/.*kProxyMallocTunables = "\(.*\)";/\1/p' \
  "$ROOT/agent/supervisor/proxy_environment.h")
WORKERS=1
DURATION=5
ROUNDS=1
CONNECTIONS="10 100"
STREAMS=10
LARGE=0
PROXIES="meshnode nghttpx haproxy"
PROXY_CPUS=0
UPSTREAM_CPUS=
CLIENT_CPUS=1
BASE_PORT=24080
HOLD="100 1000"
MEMORY=1
KEEP=0
while (($#)); do
  case "$1" in
    --proxy-bin) PROXY_BIN=$2; shift ;;
    --workers) WORKERS=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --connections) CONNECTIONS=$2; shift ;;
    --streams) STREAMS=$2; shift ;;
    --large) LARGE=1 ;;
    --proxies) PROXIES=$2; shift ;;
    --proxy-cpus) PROXY_CPUS=$2; shift ;;
    --upstream-cpus) UPSTREAM_CPUS=$2; shift ;;
    --client-cpus) CLIENT_CPUS=$2; shift ;;
    --base-port) BASE_PORT=$2; shift ;;
    --hold) HOLD=$2; shift ;;
    --no-memory) MEMORY=0 ;;
    --keep) KEEP=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bench/run.sh: unknown option $1" >&2; usage >&2; exit 64 ;;
  esac
  shift
done
UPSTREAM_CPUS=${UPSTREAM_CPUS:-$PROXY_CPUS}

[[ $EUID -eq 0 ]] || { echo "bench/run.sh: run as root (install-deps, clear_refs)" >&2; exit 1; }
"$ROOT/scripts/install-deps.sh" >/dev/null
[[ -n $MALLOC_TUNABLES ]] || {
  echo "bench/run.sh: no kProxyMallocTunables in agent/supervisor/proxy_environment.h" >&2
  exit 1
}
[[ -x $PROXY_BIN ]] || {
  echo "bench/run.sh: $PROXY_BIN is not executable; run scripts/build.sh release or pass --proxy-bin" >&2
  exit 1
}
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

UP_H1=$BASE_PORT        # nginx, HTTP/1.1
UP_H2=$((BASE_PORT + 1)) # nginx, HTTP/2 cleartext prior knowledge (direct h2 runs only)
declare -A PORT=([meshnode]=$((BASE_PORT + 10)) [nghttpx]=$((BASE_PORT + 11)) [haproxy]=$((BASE_PORT + 12)))
ADMIN_PORT=$((BASE_PORT + 19))
for p in $UP_H1 $UP_H2 "${PORT[@]}" $ADMIN_PORT; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    echo "bench/run.sh: port $p on 127.0.0.1 is in use; pick another --base-port" >&2
    exit 1
  fi
done

WORK=$(mktemp -d /tmp/mnbench.XXXXXX)
# A private copy under another name: on a shared machine a `pkill meshnode-proxy` run by
# someone else must not end the proxy under test halfway through.
cp "$PROXY_BIN" "$WORK/proxy-under-test"
RESULTS=$WORK/results.tsv
MEMORY_RESULTS=$WORK/memory.tsv
PIDS=()

cleanup() {
  local rc=$?
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  if ((KEEP)) || ((rc != 0)); then
    echo "work directory kept: $WORK" >&2
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "[bench $(date -u +%H:%M:%S)] $*" >&2; }

# start NAME CPUS CMD...: starts a process pinned to CPUS; its pid is in LAST_PID.
start() {
  local name=$1 cpus=$2
  shift 2
  taskset -c "$cpus" "$@" >"$WORK/$name.log" 2>&1 &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
}

# stop PID: ends a process this script started and waits for it.
stop() {
  local pid=$1
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  local kept=()
  for p in "${PIDS[@]}"; do [[ $p == "$pid" ]] || kept+=("$p"); done
  PIDS=("${kept[@]}")
}

wait_port() {
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "bench/run.sh: nothing listens on 127.0.0.1:$1; see $WORK/*.log" >&2
  return 1
}

# tree PID: the process and all its descendants (nghttpx runs a master and worker processes).
tree() {
  local pid=$1 child
  [[ -d /proc/$pid ]] || return 0
  echo "$pid"
  # shellcheck disable=SC2013 # children holds one line of space-separated pids
  for child in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do tree "$child"; done
}

# cpu_ticks PID: utime + stime of the process tree, in clock ticks.
cpu_ticks() {
  local total=0 pid stat
  for pid in $(tree "$1"); do
    stat=$(cat /proc/"$pid"/stat 2>/dev/null) || continue
    stat=${stat##*) }  # fields after the command name, which may hold spaces
    read -r -a f <<<"$stat"
    total=$((total + f[11] + f[12]))  # fields 14 and 15 of stat(5)
  done
  echo "$total"
}

# mem_kb PID FIELD: a /proc/<pid>/status field (VmRSS, VmHWM) summed over the process tree.
mem_kb() {
  local total=0 pid v
  for pid in $(tree "$1"); do
    v=$(awk -v k="$2:" '$1 == k { print $2 }' /proc/"$pid"/status 2>/dev/null)
    total=$((total + ${v:-0}))
  done
  echo "$total"
}

# reset_peak PID: restarts VmHWM from the current RSS (proc(5), clear_refs value 5).
reset_peak() {
  local pid
  for pid in $(tree "$1"); do echo 5 >/proc/"$pid"/clear_refs 2>/dev/null || true; done
}

# --- upstream: nginx with a small fixed body and a 64 KiB file
head -c 65536 /dev/zero | tr '\0' 'x' >"$WORK/64k"
cat >"$WORK/nginx.conf" <<CONF
worker_processes $WORKERS;
daemon off;
pid $WORK/nginx.pid;
error_log stderr warn;
events { worker_connections 5000; }
http {
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 1h;
  http2_max_requests 100000000;
  client_body_temp_path $WORK;
  proxy_temp_path $WORK;
  fastcgi_temp_path $WORK;
  uwsgi_temp_path $WORK;
  scgi_temp_path $WORK;
  default_type text/plain;
  server {
    listen 127.0.0.1:$UP_H1;
    listen 127.0.0.1:$UP_H2 http2;
    location = / { return 200 "hello from nginx\n"; }
    location = /64k { alias $WORK/64k; }
  }
}
CONF
start nginx "$UPSTREAM_CPUS" nginx -c "$WORK/nginx.conf"
NGINX_PID=$LAST_PID
wait_port "$UP_H1"
wait_port "$UP_H2"

# --- proxies: one listener each on loopback, HTTP/1.1 and h2c prior knowledge on the same
# port, HTTP/1.1 to nginx.
cat >"$WORK/snapshot.json" <<JSON
{"schema": 1, "version": "bench",
 "listeners": [{"name": "bench", "direction": "outbound", "address": "127.0.0.1",
                "port": ${PORT[meshnode]}, "use_original_dst": false, "unmatched": "refuse"}],
 "http_routes": [{"direction": "outbound", "port": ${PORT[meshnode]}, "virtual_hosts": [
   {"name": "upstream", "domains": ["*"], "routes": [{"name": "all", "clusters": [{"cluster": "upstream"}]}]}]}],
 "clusters": [{"name": "upstream", "protocol": "http1",
               "endpoints": [{"address": "127.0.0.1", "port": $UP_H1}]}]}
JSON
cat >"$WORK/haproxy.cfg" <<CONF
global
  nbthread $WORKERS
  maxconn 5000
defaults
  mode http
  timeout connect 5s
  timeout client 1h
  timeout server 1m
  timeout http-keep-alive 1h
frontend bench
  bind 127.0.0.1:${PORT[haproxy]}
  default_backend upstream
backend upstream
  server nginx 127.0.0.1:$UP_H1
CONF

start_proxy() {
  case "$1" in
    meshnode)
      # With the malloc tunables meshnode-agent gives the proxy it starts.
      start meshnode "$PROXY_CPUS" env "GLIBC_TUNABLES=$MALLOC_TUNABLES" \
        "$WORK/proxy-under-test" --snapshot "$WORK/snapshot.json" \
        --concurrency "$WORKERS" --admin-address 127.0.0.1 --admin-port "$ADMIN_PORT" \
        --log-level warning --drain-timeout-ms 0 ;;
    nghttpx)
      # The default of 8 upstream connections per backend would queue 100 HTTP/1.1 clients;
      # 1024 matches meshnode's cluster default.
      start nghttpx "$PROXY_CPUS" nghttpx --conf=/dev/null \
        --frontend="127.0.0.1,${PORT[nghttpx]};no-tls" --backend="127.0.0.1,$UP_H1" \
        --workers="$WORKERS" --backend-connections-per-host=1024 \
        --frontend-keep-alive-timeout=1h --errorlog-file="$WORK/nghttpx-error.log" ;;
    haproxy)
      start haproxy "$PROXY_CPUS" haproxy -db -f "$WORK/haproxy.cfg" ;;
  esac
  wait_port "${PORT[$1]}"
}

# --- one measurement: prints a result line
# measure TARGET PID TOOL PROTO CONNS BODY_PATH PORT ROUND
measure() {
  local target=$1 pid=$2 tool=$3 proto=$4 conns=$5 path=$6 port=$7 round=$8
  local url="http://127.0.0.1:$port$path" out="$WORK/$target-$tool-$proto-$conns${path//\//-}-$round"
  local ticks0=0 ticks1=0
  if [[ $pid != - ]]; then reset_peak "$pid"; ticks0=$(cpu_ticks "$pid"); fi
  if [[ $tool == wrk ]]; then
    taskset -c "$CLIENT_CPUS" wrk -t 1 -c "$conns" -d "${DURATION}s" --latency "$url" >"$out.txt" 2>&1 || true
  else
    local args=(-t 1 -c "$conns" -D "$DURATION" --log-file="$out.lat")
    if [[ $proto == h1 ]]; then args+=(--h1 -m 1); else args+=(-m "$STREAMS"); fi
    taskset -c "$CLIENT_CPUS" h2load "${args[@]}" "$url" >"$out.txt" 2>&1 || true
  fi
  local cpu=- peak=-
  if [[ $pid != - ]]; then
    ticks1=$(cpu_ticks "$pid")
    cpu=$((ticks1 - ticks0))
    peak=$(mem_kb "$pid" VmHWM)
  fi
  python3 "$ROOT/bench/parse.py" "$tool" "$proto" "$out.txt" "$out.lat" "$cpu" "$(getconf CLK_TCK)" |
    while read -r rps p50 p99 cpu1k errors requests; do
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$target" "$tool" "$proto" \
        "$conns" "$path" "$rps" "$p50" "$p99" "$cpu1k" "$peak" "$errors" "$requests" "$round"
    done >>"$RESULTS"
  rm -f "$out.lat"
  log "$(tail -n 1 "$RESULTS")"
}

paths=(/)
((LARGE)) && paths+=(/64k)
declare -A PID=([direct]=-)

# Every proxy runs for the whole comparison and the targets take turns on each scenario, so a
# change in background load on a shared machine hits all of them alike.
log "work directory $WORK; proxies on CPU $PROXY_CPUS, nginx on CPU $UPSTREAM_CPUS, clients on CPU $CLIENT_CPUS; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo -e "direct\t-" >"$WORK/idle.tsv"
for target in $PROXIES; do
  start_proxy "$target"
  PID[$target]=$LAST_PID
  sleep 1
  idle=$(mem_kb "$LAST_PID" VmRSS)
  echo -e "$target\t$idle" >>"$WORK/idle.tsv"
  log "$target: idle RSS $idle KiB"
done
port_of() {  # TARGET PROTO
  if [[ $1 == direct ]]; then
    [[ $2 == h1 ]] && echo "$UP_H1" || echo "$UP_H2"
  else
    echo "${PORT[$1]}"
  fi
}
for target in direct $PROXIES; do
  # Warm-up, not recorded: upstream connections, allocator pools.
  taskset -c "$CLIENT_CPUS" wrk -t 1 -c 10 -d 1s "http://127.0.0.1:$(port_of "$target" h1)/" >/dev/null 2>&1 || true
done
for round in $(seq "$ROUNDS"); do
  for path in "${paths[@]}"; do
    for conns in $CONNECTIONS; do
      for run in "wrk h1" "h2load h1" "h2load h2"; do
        read -r tool proto <<<"$run"
        for target in direct $PROXIES; do
          measure "$target" "${PID[$target]}" "$tool" "$proto" "$conns" "$path" \
            "$(port_of "$target" "$proto")" "$round"
          if [[ $target != direct ]] && ! kill -0 "${PID[$target]}" 2>/dev/null; then
            echo "bench/run.sh: $target exited during the run; see $WORK/$target.log" >&2
            exit 1
          fi
        done
      done
    done
  done
done
for target in $PROXIES; do
  echo -e "$target\t$(mem_kb "${PID[$target]}" VmRSS)" >>"$WORK/after.tsv"
  stop "${PID[$target]}"
done

# --- memory: RSS grows with connections held open, not with requests served
memory_check() {
  local target=$1 pid port n holder
  start_proxy "$target"
  pid=$LAST_PID
  port=${PORT[$target]}
  sleep 1
  echo -e "$target\tidle\t$(mem_kb "$pid" VmRSS)" >>"$MEMORY_RESULTS"
  taskset -c "$CLIENT_CPUS" h2load -t 1 -c 10 -m "$STREAMS" -n 10000 "http://127.0.0.1:$port/" >/dev/null 2>&1
  echo -e "$target\t10k requests on 10 h2 connections\t$(mem_kb "$pid" VmRSS)" >>"$MEMORY_RESULTS"
  for n in 310k 610k; do
    taskset -c "$CLIENT_CPUS" h2load -t 1 -c 10 -m "$STREAMS" -n 300000 "http://127.0.0.1:$port/" >/dev/null 2>&1
    echo -e "$target\t$n requests on 10 h2 connections\t$(mem_kb "$pid" VmRSS)" >>"$MEMORY_RESULTS"
  done
  for n in $HOLD; do
    start "hold-$target-$n" "$CLIENT_CPUS" python3 "$ROOT/bench/hold_h2.py" 127.0.0.1 "$port" "$n"
    holder=$LAST_PID
    for _ in $(seq 300); do
      grep -q '^held' "$WORK/hold-$target-$n.log" 2>/dev/null && break
      kill -0 "$holder" 2>/dev/null || break
      sleep 0.1
    done
    if grep -q '^held' "$WORK/hold-$target-$n.log"; then
      sleep 0.5
      echo -e "$target\t$n idle h2 connections held\t$(mem_kb "$pid" VmRSS)" >>"$MEMORY_RESULTS"
    else
      echo -e "$target\t$n idle h2 connections held\tfailed" >>"$MEMORY_RESULTS"
      log "holding $n connections to $target failed: $(tail -n 2 "$WORK/hold-$target-$n.log")"
    fi
    stop "$holder"
  done
  stop "$pid"
}
if ((MEMORY)); then
  for target in $PROXIES; do
    memory_check "$target"
    log "memory check of $target done"
  done
fi

stop "$NGINX_PID"
echo "meshnode-proxy: $PROXY_BIN ($(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)), GLIBC_TUNABLES=$MALLOC_TUNABLES"
echo "$(nproc) CPUs; proxies on CPU $PROXY_CPUS, nginx on CPU $UPSTREAM_CPUS, clients on CPU $CLIENT_CPUS;" \
  "$WORKERS worker(s) each; ${DURATION}s per run, $ROUNDS round(s); h2 with $STREAMS streams per connection;" \
  "load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
python3 "$ROOT/bench/report.py" "$RESULTS" "$WORK/idle.tsv" "$MEMORY_RESULTS" "$WORK/after.tsv"
