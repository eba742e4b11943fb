#!/usr/bin/env bash
# proxy.sh -- proxy throughput end to end: Postfix's smtp-source sends MESSAGES
# messages over SESSIONS connections (one message per connection, -d) to a
# relay server that forwards when a submitting client disconnects (E-MailRelay's
# --as-proxy: ForwardOnDisconnect) to smtp-sink. The rate is messages delivered
# at the sink per second, from the first message sent to the last one delivered,
# beside the store-mode rate (store.sh: the same load into a store-only server)
# and the ceiling (store.sh CEILING=1: smtp-source into smtp-sink), both measured
# just before in the same run. Acceptance: proxy >= 50% of store mode.
#
#   ./proxy.sh                    # the relay host (Start-RelayServer -ForwardTo ... -ForwardOnDisconnect)
#   ENGINE=1 ./proxy.sh           # the engine alone (bench/engine-server: --forward-to ... --forward-on-disconnect)
#
# Variables (defaults in brackets):
#   MESSAGES [10000]  SESSIONS [64]  SIZE [1024]  WARMUP [200]  TIMEOUT [300]
#   CONNECTIONS [4]   parallel forwarding connections to the next hop
#   PROXY_CMD         server command with {PORT}, {SPOOL} and {SINK_PORT} placeholders
#   STORE [1]         0: skip the store-mode and ceiling (smtp-source into smtp-sink) measurements
#   WORKDIR, KEEP     as store.sh
# Prints one line beginning "RESULT proxy"; exits 1 if a message was not
# delivered (or the store run failed), 2 on a set-up error.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

MESSAGES=${MESSAGES:-10000}
SESSIONS=${SESSIONS:-64}
SIZE=${SIZE:-1024}
WARMUP=${WARMUP:-200}
TIMEOUT=${TIMEOUT:-300}
CONNECTIONS=${CONNECTIONS:-4}
STORE=${STORE:-1}
KEEP=${KEEP:-0}
# store.sh reads ENGINE too, so both rates come from the same server.
if (( ${ENGINE:-0} )); then
    PROXY_CMD=${PROXY_CMD:-"$RELAY_ENGINE_CMD --forward-to 127.0.0.1:{SINK_PORT} --forward-on-disconnect --connections $CONNECTIONS"}
else
    PROXY_CMD=${PROXY_CMD:-"$RELAY_BIN Start-RelayServer -Port {PORT} -SpoolPath {SPOOL} -MaxConnections 20000 -ForwardTo 127.0.0.1:{SINK_PORT} -ForwardOnDisconnect -ThrottleLimit $CONNECTIONS -Wait"}
fi

need_tool "$SMTP_SOURCE"; need_tool "$SMTP_SINK"
(( MESSAGES > 0 && MESSAGES <= 1000000 )) || die "MESSAGES must be 1..1000000"
(( SESSIONS > 0 && SESSIONS <= 1000 )) || die "SESSIONS must be 1..1000"
(( TIMEOUT > 0 && TIMEOUT <= 3600 )) || die "TIMEOUT must be 1..3600"

# The store run's spool is kept until the end: deleting its files just before the proxy run would
# slow the proxy run's file creation (see README.md, ext4's recently_deleted()).
[[ -n ${WORKDIR:-} ]] && mkdir -p "$WORKDIR"
store_root=$(mktemp -d "${WORKDIR:-${TMPDIR:-/tmp}}/relay-proxy-store.XXXXXX") || die "cannot create a work folder"
work=
trap 'end_run; [[ $KEEP == 1 ]] || rm -rf "$store_root"' EXIT
trap 'exit 130' INT TERM
store_rate=- ceiling_rate=-
measure_store() {   # measure_store VAR=VALUE... -> the msgs_per_s of one store.sh run with the same load
    local out line kv rate=-
    out=$(env "$@" WORKDIR="$store_root" KEEP=1 MESSAGES="$MESSAGES" SESSIONS="$SESSIONS" SIZE="$SIZE" WARMUP="$WARMUP" "$here/store.sh")
    line=$(grep '^RESULT' <<< "$out" | tail -n 1)
    [[ -n $line ]] || { echo "FAIL: store.sh $* printed no result" >&2; exit 1; }
    note "$line"
    for kv in $line; do [[ $kv == msgs_per_s=* ]] && rate=${kv#*=}; done
    echo "$rate"
}
if (( STORE )); then
    ceiling_rate=$(measure_store CEILING=1) || exit 1
    store_rate=$(measure_store CEILING=0) || exit 1
fi

new_run proxy
raise_nofile $((SESSIONS + 1024))
SINK_PORT=$(pick_port)
[[ $SINK_PORT != "$PORT" ]] || SINK_PORT=$(pick_port)
start_sink "$SINK_PORT" "$work/sink.out"
wait_listening "$SINK_PORT" 10 || die "smtp-sink did not listen on $SINK_PORT"
SERVER_CMD=$PROXY_CMD
launch_server

source_to_server() {   # source_to_server COUNT OUTFILE SECONDS
    timeout "$3" "$SMTP_SOURCE" -s "$SESSIONS" -m "$1" -l "$SIZE" -d -f sender@example.com -t rcpt@example.com \
        "127.0.0.1:$PORT" > "$2" 2>&1
}
if (( WARMUP > 0 )); then
    source_to_server "$WARMUP" "$work/warmup.out" 60 || die "warm-up failed: $(tail -c 200 "$work/warmup.out")"
    wait_sink_count "$work/sink.out" "$WARMUP" 60 || die "the warm-up messages never reached smtp-sink"
fi

before=$(sink_count "$work/sink.out")
sync
cpu0=$(cpu_ticks "$PID")
peak_begin "$PID"
t0=$(now_ns)
source_to_server "$MESSAGES" "$work/source.out" "$TIMEOUT"
rc=$?
t_sent=$(now_ns)
wait_sink_count "$work/sink.out" $((before + MESSAGES)) "$TIMEOUT"
t1=$(now_ns)
read -r peak method < <(peak_end "$PID")
cpu1=$(cpu_ticks "$PID")
delivered=$(( $(sink_count "$work/sink.out") - before ))
left=$(count_files "$SPOOL" 'emailrelay.*.envelope*')
# The engine prints its counters when it stops: how many forwarding passes the disconnects coalesced into.
# (The relay host does not: "-".)
stop_pid "$SERVER_PID"; SERVER_PID=
runs=$(sed -n 's/^STATISTICS .*forwarding_runs=\([0-9]*\).*/\1/p' "$work/server.log" | tail -n 1)

s=$(secs "$t0" "$t1")
proxy_rate=$(rate "$delivered" "$s")
ratio=$(awk -v a="$proxy_rate" -v b="$store_rate" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.0f%%", 100 * a / b; else print "-" }')
echo "RESULT proxy messages=$MESSAGES sessions=$SESSIONS size=$SIZE connections=$CONNECTIONS secs=$s" \
    "msgs_per_s=$proxy_rate delivered=$delivered accept_secs=$(secs "$t0" "$t_sent") spool_left=$left forwarding_runs=${runs:--} source_rc=$rc" \
    "store_msgs_per_s=$store_rate proxy_vs_store=$ratio ceiling_msgs_per_s=$ceiling_rate peak_rss_kib=$peak peak_method=$method server_cpu_s=$(ticks_to_secs $((cpu1 - cpu0)))"
if (( rc != 0 || delivered != MESSAGES )); then
    echo "FAIL: sent $MESSAGES, delivered $delivered, smtp-source exit $rc: $(tail -c 300 "$work/source.out" | tr '\n' ' ')" >&2
    tail -5 "$work/server.log" >&2
    exit 1
fi
exit 0
