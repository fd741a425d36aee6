#!/usr/bin/env bash
# `npm run bench:instructions [-- [--receipts] [--redis-server] warm-up count]`: smppd's
# instructions per message through the memory store and through the Redis store, counted by
# valgrind's callgrind, closed loop as in `npm run bench` (b) and (f), or with --receipts as in (c)
# and the Redis store with receipts (every message then costs its submit and its receipt): the
# simulator, a private redis-server and the load generator as processes, smppd under callgrind
# (~50 times slower, so it bounds the loop). With --redis-server, redis-server runs under callgrind
# instead, smppd as usual on the Redis store: Redis's instructions per message.
#
# Why: on the 2-core development VM one closed-loop run of (f) moves by 10-20% and the machine's
# speed from day to day by 2x, while instructions do not depend on how fast the machine is that
# minute. The share (memory / Redis) is what (f) would be if smppd's thread alone bounded both.
# Counters are zeroed after the warm-up (callgrind_control --dump) and read after the count.
# Runs repeat to within ~2-8% for smppd's main thread and redis-server. The other threads of smppd
# are mostly V8's optimising compiler (callgrind of them): under callgrind the warm-up is not long
# enough for it to be done, so "all" counts some of that one-off work. Needs valgrind and redis-server.
set -euo pipefail
cd "$(dirname "$0")/.."
RECEIPTS=()
SERVER=no
while [ "${1:-}" = --receipts ] || [ "${1:-}" = --redis-server ]; do
  if [ "$1" = --receipts ]; then RECEIPTS=(--receipts); else SERVER=yes; fi
  shift
done
WARM=${1:-20000}
COUNT=${2:-40000}
NODE=node_modules/.bin/node
for tool in valgrind callgrind_control redis-server redis-cli; do
  command -v "$tool" >/dev/null || { echo "bench:instructions needs $tool" >&2; exit 1; }
done
DIR=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$DIR"' EXIT

freeport() { "$NODE" -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }

# The instructions in callgrind file $1, per message.
per_message() {
  local ir
  ir=$(grep -m1 -E '^(summary|totals):' "$1" | awk '{print $2}')
  echo $((ir / COUNT))
}

# measure STORE: prints "STORE all-threads main-thread" instructions per message of smppd, or
# with --redis-server "STORE redis-server" of redis-server
measure() {
  local store=$1 sim redis proxy admin counted
  sim=$(freeport); proxy=$(freeport); admin=$(freeport)
  local yaml="store: {backend: memory, ttl: 1h, max_entries: 5000000}"
  if [ "$store" = redis ]; then
    redis=$(freeport)
    local server=(redis-server --port "$redis" --save '' --appendonly no)
    if [ "$SERVER" = yes ]; then
      valgrind --tool=callgrind --callgrind-out-file="$DIR/cg-server.%p" "${server[@]}" >"$DIR/redis-$store.log" 2>&1 &
      counted=$!
    else
      "${server[@]}" >"$DIR/redis-$store.log" 2>&1 &
    fi
    for _ in $(seq 1 120); do redis-cli -p "$redis" ping >/dev/null 2>&1 && break; sleep 0.5; done
    # command_timeout: under callgrind a batch's round trip can outlast the default 2 s, and the
    # messages it fails (ESME_RSYSERR) take other paths than the ones this counts.
    yaml="store: {backend: redis, ttl: 1h, redis: {url: 'redis://127.0.0.1:$redis', key_prefix: 'smppd-bench:', command_timeout: 60s}}"
  fi
  "$NODE" dist/e2e/sim/main.js --port "$sim" --dlr-delay 50ms --ids hex --receipts text --window 100 --max-messages 1000 \
    >"$DIR/sim-$store.log" 2>&1 &
  # The same config as `npm run bench` (bench/run.ts, proxyConfig).
  cat >"$DIR/$store.yaml" <<YAML
listeners: [{name: bench, address: '127.0.0.1:$proxy', limits: {max_connections: 20000, idle_timeout: 0s, request_timeout: 30s, window: 1000}}]
clients: [{system_id: acme, password: secret, max_binds: 0, throughput: 0}]
clusters: [{name: sim, endpoints: [{address: '127.0.0.1:$sim', system_id: smppd, password: secret, binds: 4, window: 100}], bind_type: transceiver, message_id: auto}]
routes: [{name: all, cluster: sim}]
$yaml
admin: {address: '127.0.0.1:$admin'}
log: {level: warn}
YAML
  local smppd=("$NODE" --max-semi-space-size=12 dist/proxy/main.js --config "$DIR/$store.yaml")
  if [ "$SERVER" = yes ]; then
    "${smppd[@]}" >"$DIR/smppd-$store.log" 2>&1 &
  else
    valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$DIR/cg-$store.%p" "${smppd[@]}" \
      >"$DIR/smppd-$store.log" 2>&1 &
    counted=$!
  fi
  local pid=$!
  for _ in $(seq 1 180); do
    "$NODE" -e "fetch('http://127.0.0.1:$admin/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))" && break
    sleep 1
  done
  local bench=(dist/e2e/bench/main.js --port "$proxy" --binds 4 --window 100 "${RECEIPTS[@]}")
  "$NODE" "${bench[@]}" --count "$WARM" >"$DIR/warm-$store.txt"
  callgrind_control --dump "$counted" >/dev/null 2>&1
  "$NODE" "${bench[@]}" --count "$COUNT" >"$DIR/run-$store.txt"
  callgrind_control --dump "$counted" >/dev/null 2>&1
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  # The second dump holds what was counted since the first (smppd: one file per thread, -01 the main one).
  if [ "$SERVER" = yes ]; then
    echo "$store $(per_message "$(ls "$DIR"/cg-server.*.2)")"
  else
    local all=0 main=0 n file
    for file in "$DIR"/cg-"$store".*.2-*; do
      n=$(per_message "$file")
      all=$((all + n))
      case $file in *-01) main=$n ;; esac
    done
    echo "$store $all $main"
  fi
  kill $(jobs -p) 2>/dev/null || true
  wait 2>/dev/null || true
}

if [ "$SERVER" = yes ]; then
  read -r _ server < <(measure redis)
  echo "redis-server's instructions per message${RECEIPTS:+ with its receipt}, $COUNT messages after $WARM (callgrind): $server"
  exit 0
fi
echo "smppd's instructions per message${RECEIPTS:+ with its receipt}, $COUNT messages after $WARM (callgrind):"
read -r _ mem_all mem_main < <(measure memory)
read -r _ red_all red_main < <(measure redis)
printf '  %-14s %9s %9s\n' store 'all' 'main'
printf '  %-14s %9d %9d\n' memory "$mem_all" "$mem_main" redis "$red_all" "$red_main"
printf '  memory/redis  %8d%% %8d%%   (what (f) would be, as a share of (b), if smppd alone bounded both)\n' \
  $((100 * mem_all / red_all)) $((100 * mem_main / red_main))
