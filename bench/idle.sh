#!/usr/bin/env bash
# shellcheck disable=SC2317  # cleanup() runs from the EXIT trap
# idle.sh -- memory per idle connection: starts a fresh server, opens N SMTP
# connections with hold-connections.py (python3), waits for every 220
# greeting, and reports the server's RSS before and while holding them, per
# connection, its open descriptors, whether a further client is still greeted,
# and its RSS after they closed.
#
#   N=10000 ./idle.sh
#   SERVER_CMD='other-server --port {PORT} --spool {SPOOL}' N=1000 ./idle.sh
#
# Variables (defaults in brackets): SERVER_CMD [the relay host], N [1000,
# at most 50000], HOLD [5] seconds held, TIMEOUT [120] seconds to open them
# all, PYTHON [/usr/bin/python3], WORKDIR, KEEP [0].
# Prints one line beginning "RESULT idle"; exits 1 if not every connection was
# greeted, 2 on a set-up error.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

SERVER_CMD=${SERVER_CMD:-$RELAY_SERVER_CMD}
N=${N:-1000}
HOLD=${HOLD:-5}
TIMEOUT=${TIMEOUT:-120}
PYTHON=${PYTHON:-/usr/bin/python3}
KEEP=${KEEP:-0}

(( N > 0 && N <= 50000 )) || die "N must be 1..50000"
(( HOLD > 0 && HOLD <= 600 && TIMEOUT > 0 && TIMEOUT <= 600 )) || die "HOLD and TIMEOUT must be 1..600"
[[ -x $PYTHON ]] || die "missing $PYTHON"
raise_nofile $((N + 1024))   # inherited by the server and the holder

work= holder=
cleanup() {
    [[ -n $holder ]] && stop_pid "$holder" 5
    end_run
}
trap cleanup EXIT
trap 'exit 130' INT TERM

new_run idle
launch_server
sleep 1   # let start-up garbage settle before the baseline
rss0=$(proc_kib "$PID" VmRSS)
fd0=$(fd_count "$PID")
peak_begin "$PID"

"$PYTHON" "$here/hold-connections.py" "$PORT" "$N" "$HOLD" "$TIMEOUT" > "$work/holder.out" 2>&1 &
holder=$!
for ((i = 0; i < (TIMEOUT + 5) * 10; i++)); do
    grep -q '^READY' "$work/holder.out" 2>/dev/null && break
    kill -0 "$holder" 2>/dev/null || break
    sleep 0.1
done
ready=$(grep '^READY' "$work/holder.out")
[[ -n $ready ]] || die "the holder never got ready: $(tail -c 300 "$work/holder.out")"
sleep 1
rss1=$(proc_kib "$PID" VmRSS)
fd1=$(fd_count "$PID")
# One more client while they are held; in a child shell, since a failed exec redirection ends a script.
extra=no
line=$(timeout 6 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && read -r -t 5 line <&3 && printf "%s" "$line"' _ "$PORT" 2>/dev/null)
[[ $line == 220* ]] && extra=yes
read -r peak method < <(peak_end "$PID")
wait "$holder"; holder_rc=$?; holder=
sleep 2
rss2=$(proc_kib "$PID" VmRSS)

greeted=${ready##*greeted=}; greeted=${greeted%% *}
open_secs=${ready##*open_secs=}
per=$(awk -v a="$rss0" -v b="$rss1" -v n="$greeted" 'BEGIN { if (n > 0) printf "%.2f", (b - a) / n; else print "nan" }')
echo "RESULT idle n=$N greeted=$greeted open_secs=$open_secs rss_before_kib=$rss0 rss_held_kib=$rss1" \
    "per_conn_kib=$per peak_rss_kib=$peak peak_method=$method rss_after_close_kib=$rss2" \
    "server_fds_before=$fd0 server_fds_held=$fd1 new_client_greeted_while_held=$extra"
(( holder_rc == 0 && greeted == N )) || { echo "FAIL: $greeted of $N connections greeted" >&2; exit 1; }
exit 0
