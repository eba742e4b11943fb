#!/usr/bin/env bash
# forward-auth.sh -- forward throughput with XOAUTH2 against forwarding with AUTH PLAIN, in one run
# (issue 5: "within 10% of forwarding with AUTH PLAIN"). A spool of MESSAGES messages of SIZE bytes is
# forwarded by bench/forward-agent over CONNECTIONS connections into bench/auth-sink, a fast C# next hop
# that takes mail only after a login it checks and discards it:
#   A  AUTH PLAIN with the sink's account;
#   B  AUTH XOAUTH2 with tokens from RelayCore's refresh-token provider (the real provider path) against
#      the tests' HTTPS token endpoint (tests/RelayCore.Tests/OAuth/TokenEndpoint.cs, run by the sink on
#      loopback with a CA made at start), which issues JWT access tokens the sink then accepts.
# Both over plain SMTP on loopback (no STARTTLS; forward-agent turns TLS off explicitly for both), so the
# only difference is the login. Rounds alternate A B A B ... (ROUNDS pairs) against one sink; every round
# forwards its own copy of the same spool, after an untimed warm-up spool forwarded by the same process
# (JIT; for B also the provider's one token request, as a server pays it once an hour, not per message).
#
#   dotnet build -c Release bench/forward-agent bench/auth-sink bench/engine-server
#   MESSAGES=2000 ROUNDS=3 ./forward-auth.sh
#
# Variables (defaults in brackets):
#   MESSAGES [10000]  SIZE [1024]  CONNECTIONS [4]  ROUNDS [2]  WARMUP [500]  FILL_SESSIONS [32]
#   SERVER_CMD [the engine server]  the store-only server that fills the spool (smtp-source into it)
#   TIMEOUT [300]  upper bound in seconds for each forwarding run
#   WORKDIR, KEEP  as in store.sh
# Prints a "ROUND" line per run and one line beginning "RESULT forward-auth" with the median rate of each
# kind over its rounds, their ratio (XOAUTH2 / PLAIN), and the median forwarder CPU time per message of
# each; exits 1 if a run failed, a message was lost, a login was refused or the XOAUTH2 runs asked the
# endpoint more than once each.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

AGENT=${AGENT:-$BENCH_DIR/forward-agent/bin/Release/net10.0/ForwardAgent}
SINK=${SINK:-$BENCH_DIR/auth-sink/bin/Release/net10.0/AuthSink}
SERVER_CMD=${SERVER_CMD:-$RELAY_ENGINE_CMD}
MESSAGES=${MESSAGES:-10000}
SIZE=${SIZE:-1024}
CONNECTIONS=${CONNECTIONS:-4}
ROUNDS=${ROUNDS:-2}
WARMUP=${WARMUP:-500}
FILL_SESSIONS=${FILL_SESSIONS:-32}
TIMEOUT=${TIMEOUT:-300}
KEEP=${KEEP:-0}
SINK_USER_NAME=relay@example.com
SINK_PASSWORD=bench-password-1

need_tool "$SMTP_SOURCE"
need_tool "$AGENT"
need_tool "$SINK"
(( MESSAGES > 0 && MESSAGES <= 1000000 )) || die "MESSAGES must be 1..1000000"
(( CONNECTIONS > 0 && CONNECTIONS <= 256 )) || die "CONNECTIONS must be 1..256"
(( ROUNDS > 0 && ROUNDS <= 20 )) || die "ROUNDS must be 1..20"
(( WARMUP > 0 )) || die "WARMUP must be at least 1 (it takes the token request out of the timed run)"
(( TIMEOUT > 0 && TIMEOUT <= 3600 )) || die "TIMEOUT must be 1..3600"

work=
AUTH_SINK_PID=
trap '[[ -n $AUTH_SINK_PID ]] && stop_pid "$AUTH_SINK_PID"; end_run' EXIT
trap 'exit 130' INT TERM

new_run forward-auth
raise_nofile 4096

# fill_spool DIR COUNT -> COUNT messages of SIZE bytes stored by the store-only server into DIR (untimed)
fill_spool() {
    SPOOL=$1 PORT=$(pick_port) || exit 2
    mkdir -p "$SPOOL"
    launch_server
    timeout "$TIMEOUT" "$SMTP_SOURCE" -s "$FILL_SESSIONS" -m "$2" -l "$SIZE" -d \
        -f sender@example.com -t rcpt@example.com "127.0.0.1:$PORT" > "$work/fill.out" 2>&1 \
        || die "filling $1 failed: $(tail -c 200 "$work/fill.out")"
    stop_pid "$SERVER_PID"; SERVER_PID=
    (( $(count_files "$SPOOL" "$RELAY_PATTERN") == $2 )) || die "$1 holds $(count_files "$SPOOL" "$RELAY_PATTERN") ready messages, not $2"
}
fill_spool "$work/master" "$MESSAGES"
fill_spool "$work/master-warmup" "$WARMUP"

# ---- the next hop and its token endpoint ---------------------------------------
( exec "$SINK" "$SINK_USER_NAME" "$SINK_PASSWORD" "$work/token-ca.pem" ) > "$work/sink.out" 2> "$work/sink.err" < /dev/null &
AUTH_SINK_PID=$!
for ((i = 0; i < 200; i++)); do
    grep -q '^READY ' "$work/sink.out" 2>/dev/null && break
    kill -0 "$AUTH_SINK_PID" 2>/dev/null || die "auth-sink exited: $(cat "$work/sink.err")"
    sleep 0.05
done
ready=$(grep '^READY ' "$work/sink.out") || die "auth-sink did not start"
sink_port=$(sed -n 's/.* smtp=\([0-9]*\).*/\1/p' <<< "$ready")
xoauth2=$(sed -n 's/.* xoauth2=\([^ ]*\).*/\1/p' <<< "$ready")
note "auth-sink on 127.0.0.1:$sink_port, token endpoint ${xoauth2%%,*}"

# ---- A B A B ... -------------------------------------------------------------------
# field NAME -> the value of NAME=... in the last run's RESULT line
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<< "$result"; }
result=
declare -A rates=([plain]='' [xoauth2]='') cpus=([plain]='' [xoauth2]='')
failed=0
run=0
for ((round = 1; round <= ROUNDS; round++)); do
    for kind in plain xoauth2; do
        run=$((run + 1))
        spool=$work/run-$run warm=$work/run-$run-warmup
        cp -a "$work/master" "$spool"; cp -a "$work/master-warmup" "$warm"
        if [[ $kind == plain ]]; then login=(--auth-plain "$SINK_USER_NAME:$SINK_PASSWORD"); else login=(--xoauth2 "$xoauth2"); fi
        sync   # untimed: the copies' dirty pages are not written back inside the measurement
        timeout "$TIMEOUT" "$AGENT" "$spool" "127.0.0.1:$sink_port" "$CONNECTIONS" "$warm" "${login[@]}" \
            > "$work/run-$run.out" 2> "$work/run-$run.err" < /dev/null
        rc=$?
        result=$(grep '^RESULT forward-engine' "$work/run-$run.out")
        sent=$(field sent); msgs_per_s=$(field msgs_per_s); cpu_s=$(field cpu_s)
        left=$(( $(count_files "$spool" 'emailrelay.*.envelope*') + $(count_files "$spool" 'emailrelay.*.content') ))
        cpu_us=$(awk -v c="${cpu_s:-0}" -v n="$MESSAGES" 'BEGIN { printf "%.1f", c * 1e6 / n }')
        echo "ROUND $round $kind rc=$rc sent=${sent:-0} left_in_spool=$left msgs_per_s=${msgs_per_s:-0} cpu_s=${cpu_s:-0} cpu_us_per_msg=$cpu_us"
        if (( rc != 0 || ${sent:-0} != MESSAGES || left != 0 )); then
            echo "FAIL: $kind round $round: $(tail -c 300 "$work/run-$run.err" | tr '\n' ' ')" >&2
            failed=1
        fi
        rates[$kind]+=" ${msgs_per_s:-0}"; cpus[$kind]+=" $cpu_us"
        rm -rf "$spool" "$warm"
    done
done

stop_pid "$AUTH_SINK_PID"; AUTH_SINK_PID=
stats=$(grep '^STATISTICS ' "$work/sink.out")
stat() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<< "$stats"; }
expected=$(( 2 * ROUNDS * (MESSAGES + WARMUP) ))
# median VALUES -> the median of the space-separated values (robust to one round a busy machine spoiled)
median() { tr ' ' '\n' <<< "$1" | awk 'NF' | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) printf "%.1f", v[(NR + 1) / 2]; else printf "%.1f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
plain_rate=$(median "${rates[plain]}"); xoauth2_rate=$(median "${rates[xoauth2]}")
plain_cpu=$(median "${cpus[plain]}"); xoauth2_cpu=$(median "${cpus[xoauth2]}")
ratio=$(awk -v x="$xoauth2_rate" -v p="$plain_rate" 'BEGIN { if (p > 0) printf "%.3f", x / p; else print "nan" }')
cpu_ratio=$(awk -v x="$xoauth2_cpu" -v p="$plain_cpu" 'BEGIN { if (p > 0) printf "%.3f", x / p; else print "nan" }')

echo "RESULT forward-auth messages=$MESSAGES size=$SIZE connections=$CONNECTIONS rounds=$ROUNDS" \
    "plain_msgs_per_s=$plain_rate xoauth2_msgs_per_s=$xoauth2_rate ratio=$ratio" \
    "plain_cpu_us_per_msg=$plain_cpu xoauth2_cpu_us_per_msg=$xoauth2_cpu cpu_ratio=$cpu_ratio" \
    "sink_messages=$(stat messages) plain_logins=$(stat plain_logins) xoauth2_logins=$(stat xoauth2_logins)" \
    "refused_logins=$(stat refused_logins) token_requests=$(stat token_requests)"
if (( failed || $(stat messages) != expected || $(stat refused_logins) != 0 || $(stat token_requests) != ROUNDS )); then
    echo "FAIL: the sink took $(stat messages) of $expected messages, refused $(stat refused_logins) logins, had $(stat token_requests) token requests for $ROUNDS XOAUTH2 runs" >&2
    exit 1
fi
exit 0
