#!/usr/bin/env bash
# big.sh -- one large message: starts a fresh server, has smtp-source send one
# message of SIZE payload bytes, and reports the time until the 250 reply, the
# server's RSS before and its peak while receiving (and the growth), and that
# the message landed whole (a committed envelope and a content file of at
# least SIZE bytes). smtp-source builds the message in its own memory.
#
#   ./big.sh                       # 100 MiB into the relay host
#   SIZE=10485760 SERVER_CMD='other-server --port {PORT} --spool {SPOOL}' ./big.sh
#
# Variables (defaults in brackets): SERVER_CMD [the relay host], SIZE
# [104857600], PATTERN [emailrelay.*.envelope], TIMEOUT [120], WORKDIR, KEEP [0].
# Prints one line beginning "RESULT big"; exits 1 if the message did not land
# whole, 2 on a set-up error.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

SERVER_CMD=${SERVER_CMD:-$RELAY_SERVER_CMD}
SIZE=${SIZE:-104857600}
PATTERN=${PATTERN:-$RELAY_PATTERN}
TIMEOUT=${TIMEOUT:-120}
KEEP=${KEEP:-0}

need_tool "$SMTP_SOURCE"
(( SIZE > 0 && SIZE <= 2147483647 )) || die "SIZE must be 1..2^31-1"
(( TIMEOUT > 0 && TIMEOUT <= 3600 )) || die "TIMEOUT must be 1..3600"

work=
trap end_run EXIT
trap 'exit 130' INT TERM

new_run big
launch_server
# One small message first, so start-up allocations are not counted as the big one's.
timeout 30 "$SMTP_SOURCE" -s 1 -m 1 -l 1024 "127.0.0.1:$PORT" > "$work/warmup.out" 2>&1 || die "warm-up failed"
before=$(count_files "$SPOOL" "$PATTERN")

sync
sleep 1
rss0=$(proc_kib "$PID" VmRSS)
cpu0=$(cpu_ticks "$PID")
peak_begin "$PID"
t0=$(now_ns)
timeout "$TIMEOUT" "$SMTP_SOURCE" -s 1 -m 1 -l "$SIZE" -f sender@example.com -t rcpt@example.com \
    "127.0.0.1:$PORT" > "$work/source.out" 2>&1
rc=$?
t1=$(now_ns)
read -r peak method < <(peak_end "$PID")
cpu1=$(cpu_ticks "$PID")
landed=$(( $(count_files "$SPOOL" "$PATTERN") - before ))
bytes=$(find "$SPOOL" -maxdepth 1 -type f -name '*.content' -printf '%s\n' 2>/dev/null | sort -n | tail -n 1)
bytes=${bytes:-0}

s=$(secs "$t0" "$t1")
echo "RESULT big size=$SIZE secs=$s mib_per_s=$(awk -v b="$SIZE" -v s="$s" 'BEGIN { printf "%.1f", b / 1048576 / s }')" \
    "landed=$landed landed_bytes=$bytes source_rc=$rc rss_before_kib=$rss0 peak_rss_kib=$peak" \
    "rss_growth_kib=$((peak - rss0)) peak_method=$method server_cpu_s=$(ticks_to_secs $((cpu1 - cpu0)))"
if (( rc != 0 || landed != 1 || bytes < SIZE )); then
    echo "FAIL: not accepted whole (exit $rc, landed $landed, $bytes bytes): $(tail -c 300 "$work/source.out" | tr '\n' ' ')" >&2
    exit 1
fi
exit 0
