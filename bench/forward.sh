#!/usr/bin/env bash
# forward.sh -- forward throughput: how fast a spool of MESSAGES messages of SIZE
# bytes is forwarded into Postfix's smtp-sink over CONNECTIONS parallel
# connections, beside the ceiling (smtp-source straight into smtp-sink over as
# many connections) measured in the same run, and whether every message arrived
# and left the spool.
#
#   ./forward.sh                         # bench/forward-agent (RelayCore's ForwardingAgent)
#   FORWARD_CMD='relay Invoke-RelayForward -SpoolPath {SPOOL} -To 127.0.0.1:{SINK_PORT} -ThrottleLimit {CONNECTIONS}' ./forward.sh
#
# The spool is filled first, untimed, by smtp-source into a store-only server
# (SERVER_CMD, default the engine server: dotnet build -c Release bench/engine-server),
# so the messages are what a real client leaves (Received: header, CRLF).
#
# Variables (defaults in brackets):
#   FORWARD_CMD [bench/forward-agent]  placeholders {SPOOL} {SINK_PORT} {CONNECTIONS} {WARMUP_SPOOL}
#                                      (a spool of WARMUP messages to forward first, uncounted)
#   SERVER_CMD [the engine server]     the store-only server that fills the spool
#   MESSAGES [10000]  SIZE [1024]  CONNECTIONS [8]  FILL_SESSIONS [32]
#   WARMUP [500]      messages in the warm-up spool (JIT), and sent first uncounted by the ceiling
#   TIMEOUT [300]     upper bound in seconds for each load
#   WORKDIR, KEEP     as in store.sh
# Prints one line beginning "RESULT forward"; exits 1 if a message was lost,
# left in the spool or a load failed, 2 on a set-up error.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

FORWARD_CMD=${FORWARD_CMD:-"$BENCH_DIR/forward-agent/bin/Release/net10.0/ForwardAgent {SPOOL} 127.0.0.1:{SINK_PORT} {CONNECTIONS} {WARMUP_SPOOL}"}
SERVER_CMD=${SERVER_CMD:-$RELAY_ENGINE_CMD}
MESSAGES=${MESSAGES:-10000}
SIZE=${SIZE:-1024}
CONNECTIONS=${CONNECTIONS:-8}
WARMUP=${WARMUP:-500}
FILL_SESSIONS=${FILL_SESSIONS:-32}
TIMEOUT=${TIMEOUT:-300}
KEEP=${KEEP:-0}

need_tool "$SMTP_SOURCE"
need_tool "$SMTP_SINK"
(( MESSAGES > 0 && MESSAGES <= 1000000 )) || die "MESSAGES must be 1..1000000"
(( CONNECTIONS > 0 && CONNECTIONS <= 256 )) || die "CONNECTIONS must be 1..256"
(( TIMEOUT > 0 && TIMEOUT <= 3600 )) || die "TIMEOUT must be 1..3600"

work=
CEILING_SINK_PID=
trap '[[ -n $CEILING_SINK_PID ]] && stop_pid "$CEILING_SINK_PID"; end_run' EXIT
trap 'exit 130' INT TERM

new_run forward
raise_nofile 4096

# ---- fill the spool (untimed) ------------------------------------------------
launch_server
timeout "$TIMEOUT" "$SMTP_SOURCE" -s "$FILL_SESSIONS" -m "$MESSAGES" -l "$SIZE" -d \
    -f sender@example.com -t rcpt@example.com "127.0.0.1:$PORT" > "$work/fill.out" 2>&1 \
    || die "filling the spool failed: $(tail -c 200 "$work/fill.out")"
stop_pid "$SERVER_PID"; SERVER_PID=
filled=$(count_files "$SPOOL" "$RELAY_PATTERN")
(( filled == MESSAGES )) || die "the spool holds $filled ready messages, not $MESSAGES"
WARMUP_SPOOL=$work/warmup-spool; mkdir -p "$WARMUP_SPOOL"
if (( WARMUP > 0 )); then
    main_spool=$SPOOL; SPOOL=$WARMUP_SPOOL; PORT=$(pick_port) || exit 2
    launch_server
    timeout "$TIMEOUT" "$SMTP_SOURCE" -s "$FILL_SESSIONS" -m "$WARMUP" -l "$SIZE" -d \
        -f sender@example.com -t rcpt@example.com "127.0.0.1:$PORT" > "$work/fill-warmup.out" 2>&1 \
        || die "filling the warm-up spool failed: $(tail -c 200 "$work/fill-warmup.out")"
    stop_pid "$SERVER_PID"; SERVER_PID=
    SPOOL=$main_spool
fi

# ---- the ceiling: smtp-source into smtp-sink --------------------------------
CEILING_PORT=$(pick_port) || exit 2
start_sink "$CEILING_PORT" "$work/ceiling-sink.out"; CEILING_SINK_PID=$SINK_PID; SINK_PID=
wait_listening "$CEILING_PORT" 10 || die "smtp-sink did not listen on $CEILING_PORT"
if (( WARMUP > 0 )); then
    timeout 60 "$SMTP_SOURCE" -s "$CONNECTIONS" -m "$WARMUP" -l "$SIZE" -d -f sender@example.com -t rcpt@example.com \
        "127.0.0.1:$CEILING_PORT" > "$work/ceiling-warmup.out" 2>&1 || die "ceiling warm-up failed"
    wait_sink_count "$work/ceiling-sink.out" "$WARMUP" 5
fi
t0=$(now_ns)
timeout "$TIMEOUT" "$SMTP_SOURCE" -s "$CONNECTIONS" -m "$MESSAGES" -l "$SIZE" -d \
    -f sender@example.com -t rcpt@example.com "127.0.0.1:$CEILING_PORT" > "$work/ceiling.out" 2>&1
ceiling_rc=$?
t1=$(now_ns)
wait_sink_count "$work/ceiling-sink.out" $((WARMUP + MESSAGES)) 5
ceiling_secs=$(secs "$t0" "$t1")
ceiling_rate=$(rate $(( $(sink_count "$work/ceiling-sink.out") - WARMUP )) "$ceiling_secs")
stop_pid "$CEILING_SINK_PID"; CEILING_SINK_PID=

# ---- forwarding: the spool into smtp-sink -------------------------------------
SINK_PORT=$(pick_port) || exit 2
start_sink "$SINK_PORT" "$work/sink.out"
wait_listening "$SINK_PORT" 10 || die "smtp-sink did not listen on $SINK_PORT"
cmd=$(expand "$FORWARD_CMD"); cmd=${cmd//\{CONNECTIONS\}/$CONNECTIONS}; cmd=${cmd//\{WARMUP_SPOOL\}/$WARMUP_SPOOL}
note "forward: $cmd"
sync   # untimed: the fill's dirty pages are not written back inside the measurement
t0=$(now_ns)
( eval "exec $cmd" ) > "$work/forward.out" 2> "$work/forward.err" < /dev/null &
FORWARD_PID=$!
# A watchdog instead of timeout(1), so that FORWARD_PID is the forwarder itself (its RSS and CPU).
( exec > /dev/null 2>&1; sleep "$TIMEOUT" & sleeper=$!; trap 'kill "$sleeper"; exit 0' TERM; wait "$sleeper"; kill -KILL "$FORWARD_PID" ) &
WATCHDOG_PID=$!
# Its whole life is the measurement: the kernel's high-water mark is its peak RSS; the last
# readings before it exits are its peak and CPU time.
peak=-1 cpu=0
while kill -0 "$FORWARD_PID" 2>/dev/null; do
    hwm=$(proc_kib "$FORWARD_PID" VmHWM); (( hwm > peak )) && peak=$hwm
    ticks=$(cpu_ticks "$FORWARD_PID"); (( ticks > cpu )) && cpu=$ticks
    sleep 0.05
done
wait "$FORWARD_PID"
forward_rc=$?
t1=$(now_ns)
kill "$WATCHDOG_PID" 2>/dev/null; wait "$WATCHDOG_PID" 2>/dev/null
# The sink counts the warm-up spool's messages too, when the command forwarded it.
warmed=$(( WARMUP - $(count_files "$WARMUP_SPOOL" 'emailrelay.*.content') ))
wait_sink_count "$work/sink.out" $((warmed + MESSAGES)) 5
arrived=$(( $(sink_count "$work/sink.out") - warmed ))
left=$(( $(count_files "$SPOOL" 'emailrelay.*.envelope*') + $(count_files "$SPOOL" 'emailrelay.*.content') ))
wall_secs=$(secs "$t0" "$t1")
wall_rate=$(rate "$arrived" "$wall_secs")
# The forwarding itself, start-up excluded, when the command reports it.
engine_rate=$(awk '/^RESULT forward-engine/ { for (i = 1; i <= NF; i++) if ($i ~ /^msgs_per_s=/) { sub(/^msgs_per_s=/, "", $i); print $i } }' "$work/forward.out")
engine_rate=${engine_rate:-$wall_rate}
ratio=$(awk -v f="$engine_rate" -v c="$ceiling_rate" 'BEGIN { if (c > 0) printf "%.2f", f / c; else print "nan" }')
wall_ratio=$(awk -v f="$wall_rate" -v c="$ceiling_rate" 'BEGIN { if (c > 0) printf "%.2f", f / c; else print "nan" }')

echo "RESULT forward messages=$MESSAGES size=$SIZE connections=$CONNECTIONS" \
    "ceiling_msgs_per_s=$ceiling_rate forward_msgs_per_s=$engine_rate ratio=$ratio" \
    "wall_secs=$wall_secs wall_msgs_per_s=$wall_rate wall_ratio=$wall_ratio" \
    "arrived=$arrived left_in_spool=$left forward_rc=$forward_rc ceiling_rc=$ceiling_rc forward_peak_rss_kib=$peak forward_cpu_s=$(ticks_to_secs "$cpu")"
if (( forward_rc != 0 || ceiling_rc != 0 || arrived != MESSAGES || left != 0 )); then
    echo "FAIL: $arrived of $MESSAGES arrived, $left files left, forward exit $forward_rc: $(tail -c 300 "$work/forward.err" | tr '\n' ' ')" >&2
    exit 1
fi
exit 0
