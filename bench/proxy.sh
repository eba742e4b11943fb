#!/usr/bin/env bash
# proxy.sh -- proxy throughput end to end: Postfix's smtp-source sends MESSAGES
# messages over SESSIONS connections (one message per connection, -d) to a
# relay server that forwards when a submitting client disconnects (E-MailRelay's
# --as-proxy: ForwardOnDisconnect) to smtp-sink. The rate is messages delivered
# at the sink per second, from the first message sent to the last one delivered,
# beside the store-mode rate (store.sh: the same load into a store-only server)
# measured in the same run. Acceptance: proxy >= 50% of store mode.
#
#   ./proxy.sh                    # the engine (bench/engine-server, dotnet build -c Release bench/engine-server)
#   HOST=1 ./proxy.sh             # the relay host (Start-RelayServer -ForwardTo ... -ForwardOnDisconnect)
#
# Variables (defaults in brackets):
#   MESSAGES [10000]  SESSIONS [64]  SIZE [1024]  WARMUP [200]  TIMEOUT [300]
#   CONNECTIONS [4]   parallel forwarding connections to the next hop
#   PROXY_CMD         server command with {PORT}, {SPOOL} and {SINK_PORT} placeholders
#   STORE [1]         0: skip the store-mode measurement
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
HOST=${HOST:-0}
KEEP=${KEEP:-0}
if (( HOST )); then
    PROXY_CMD=${PROXY_CMD:-"$RELAY_BIN Start-RelayServer -Port {PORT} -SpoolPath {SPOOL} -MaxConnections 20000 -ForwardTo 127.0.0.1:{SINK_PORT} -ForwardOnDisconnect -ThrottleLimit $CONNECTIONS -Wait"}
    store_env=(ENGINE=0)
else
    PROXY_CMD=${PROXY_CMD:-"$BENCH_DIR/engine-server/bin/Release/net10.0/EngineServer {PORT} {SPOOL} --forward-to 127.0.0.1:{SINK_PORT} --forward-on-disconnect --connections $CONNECTIONS"}
    store_env=(ENGINE=1)
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
store_rate=-
if (( STORE )); then
    store_out=$(env "${store_env[@]}" WORKDIR="$store_root" KEEP=1 MESSAGES="$MESSAGES" SESSIONS="$SESSIONS" SIZE="$SIZE" WARMUP="$WARMUP" "$here/store.sh")
    store_line=$(grep '^RESULT' <<< "$store_out" | tail -n 1)
    [[ -n $store_line ]] || { echo "FAIL: the store-mode run printed no result" >&2; exit 1; }
    note "$store_line"
    for kv in $store_line; do [[ $kv == msgs_per_s=* ]] && store_rate=${kv#*=}; done
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

s=$(secs "$t0" "$t1")
proxy_rate=$(rate "$delivered" "$s")
ratio=$(awk -v a="$proxy_rate" -v b="$store_rate" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.0f%%", 100 * a / b; else print "-" }')
echo "RESULT proxy messages=$MESSAGES sessions=$SESSIONS size=$SIZE connections=$CONNECTIONS secs=$s" \
    "msgs_per_s=$proxy_rate delivered=$delivered accept_secs=$(secs "$t0" "$t_sent") spool_left=$left source_rc=$rc" \
    "store_msgs_per_s=$store_rate proxy_vs_store=$ratio peak_rss_kib=$peak peak_method=$method server_cpu_s=$(ticks_to_secs $((cpu1 - cpu0)))"
if (( rc != 0 || delivered != MESSAGES )); then
    echo "FAIL: sent $MESSAGES, delivered $delivered, smtp-source exit $rc: $(tail -c 300 "$work/source.out" | tr '\n' ' ')" >&2
    tail -5 "$work/server.log" >&2
    exit 1
fi
exit 0
