#!/usr/bin/env bash
# store.sh -- store throughput: how fast the server accepts (250 after DATA)
# and spools MESSAGES messages that Postfix's smtp-source sends over SESSIONS
# parallel connections, whether every one landed, and the server's peak RSS.
# A fresh server and an empty spool are started for each measurement.
#
#   ./store.sh                                  # the built relay host
#   SERVER_CMD='other-server --port {PORT} --spool {SPOOL}' ./store.sh
#   CEILING=1 ./store.sh                        # smtp-source into smtp-sink
#
# Variables (defaults in brackets):
#   SERVER_CMD [the relay host]  command with {PORT} and {SPOOL} placeholders;
#                                it must stay in the foreground and stop on SIGTERM
#   PATTERN [emailrelay.*.envelope]  file name of one landed (committed) message
#   MESSAGES [10000]  SESSIONS [1]  SIZE [1024] (payload bytes, smtp-source -l)
#   WARMUP [200]      messages sent first and not counted (JIT, page cache)
#   TIMEOUT [180]     upper bound in seconds for the load generator
#   CEILING [0]       1: no server; measure smtp-source into smtp-sink
#   WORKDIR           where the spool and the server log go [mktemp -d]
#   KEEP [0]          1: keep the work directory
# Prints one line beginning "RESULT store"; exits 1 if messages were lost or
# smtp-source failed, 2 on a usage or set-up error.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

SERVER_CMD=${SERVER_CMD:-$RELAY_SERVER_CMD}
PATTERN=${PATTERN:-$RELAY_PATTERN}
MESSAGES=${MESSAGES:-10000}
SESSIONS=${SESSIONS:-1}
SIZE=${SIZE:-1024}
WARMUP=${WARMUP:-200}
TIMEOUT=${TIMEOUT:-180}
CEILING=${CEILING:-0}
KEEP=${KEEP:-0}

need_tool "$SMTP_SOURCE"
(( MESSAGES > 0 && MESSAGES <= 1000000 )) || die "MESSAGES must be 1..1000000"
(( SESSIONS > 0 && SESSIONS <= 1000 )) || die "SESSIONS must be 1..1000"
(( WARMUP >= 0 && WARMUP <= 100000 )) || die "WARMUP must be 0..100000"
(( TIMEOUT > 0 && TIMEOUT <= 3600 )) || die "TIMEOUT must be 1..3600"

work=
trap end_run EXIT
trap 'exit 130' INT TERM

new_run store
raise_nofile $((SESSIONS + 1024))

if (( CEILING == 1 )); then
    need_tool "$SMTP_SINK"
    start_sink "$PORT" "$work/sink.out"
    wait_listening "$PORT" 10 || die "smtp-sink did not listen on $PORT"
    PID=$SINK_PID
    count() { sink_count "$work/sink.out"; }
else
    launch_server
    count() { count_files "$SPOOL" "$PATTERN"; }
fi
if (( WARMUP > 0 )); then
    timeout 60 "$SMTP_SOURCE" -s "$SESSIONS" -m "$WARMUP" -l "$SIZE" -d -f sender@example.com -t rcpt@example.com \
        "127.0.0.1:$PORT" > "$work/warmup.out" 2>&1 || die "warm-up failed: $(tail -c 200 "$work/warmup.out")"
    (( CEILING == 1 )) && wait_sink_count "$work/sink.out" "$WARMUP" 5
fi

before=$(count)
sync   # untimed: earlier runs' dirty pages are not written back inside this one
rss0=$(proc_kib "$PID" VmRSS)
cpu0=$(cpu_ticks "$PID")
peak_begin "$PID"
t0=$(now_ns)
timeout "$TIMEOUT" "$SMTP_SOURCE" -s "$SESSIONS" -m "$MESSAGES" -l "$SIZE" -d \
    -f sender@example.com -t rcpt@example.com "127.0.0.1:$PORT" > "$work/source.out" 2>&1
rc=$?
t1=$(now_ns)
read -r peak method < <(peak_end "$PID")
cpu1=$(cpu_ticks "$PID")
(( CEILING == 1 )) && wait_sink_count "$work/sink.out" $((before + MESSAGES)) 2
landed=$(( $(count) - before ))

s=$(secs "$t0" "$t1")
mode=server; (( CEILING == 1 )) && mode=ceiling
echo "RESULT store mode=$mode messages=$MESSAGES sessions=$SESSIONS size=$SIZE secs=$s" \
    "msgs_per_s=$(rate "$landed" "$s") landed=$landed source_rc=$rc rss_before_kib=$rss0" \
    "peak_rss_kib=$peak peak_method=$method server_cpu_s=$(ticks_to_secs $((cpu1 - cpu0)))"
if (( rc != 0 || landed != MESSAGES )); then
    echo "FAIL: sent $MESSAGES, landed $landed, smtp-source exit $rc: $(tail -c 300 "$work/source.out" | tr '\n' ' ')" >&2
    exit 1
fi
exit 0
