#!/usr/bin/env bash
# run.sh -- the whole benchmark of issue 3, in one run: store throughput for
# 1 KiB and 100 KiB messages over 1, 8 and 64 sessions against the ceiling
# (smtp-source into smtp-sink, measured just before each server run), memory
# per idle connection with 1,000 and 10,000 held, and one 100 MiB message.
# Prints every RESULT line as it comes, then a markdown block for RESULTS.md.
#
#   ./run.sh                      # the relay host, built with: dotnet build -c Release src/RelayHost
#   SERVER_CMD='... {PORT} ... {SPOOL}' ./run.sh
#   QUICK=1 ./run.sh              # a tenth of the messages, 1,000 idle connections only
#
# Variables: SERVER_CMD [the relay host; ENGINE=1: bench/engine-server], WORKDIR [a new directory under
# /var/tmp], QUICK [0]. Every run's spool is kept until the end and then
# deleted together (see README.md: mass deletes slow later file creation).
# Exits 1 if any measurement failed (its row says so), 2 on a set-up error.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

SERVER_CMD=${SERVER_CMD:-$RELAY_SERVER_CMD}
QUICK=${QUICK:-0}
need_tool "$SMTP_SOURCE"; need_tool "$SMTP_SINK"
first=${SERVER_CMD%% *}
[[ -x $first ]] || command -v "$first" > /dev/null || die "server not found: $first (dotnet build -c Release src/RelayHost, or bench/engine-server for ENGINE=1)"

root=$(mktemp -d "${WORKDIR:-/var/tmp}/relay-bench.XXXXXX")
trap 'rm -rf "$root"' EXIT
trap 'exit 130' INT TERM
export SERVER_CMD WORKDIR=$root KEEP=1

# field "RESULT ... key=value ..." key -> value
field() { local k; for k in $1; do [[ $k == "$2="* ]] && { echo "${k#*=}"; return; }; done; echo "-"; }
mib() { awk -v k="$1" 'BEGIN { if (k ~ /^[0-9]+$/) printf "%.1f", k / 1024; else print "-" }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.0f%%", 100 * a / b; else print "-" }'; }

failed=0
measure() {   # measure SCRIPT VAR=VALUE... -> prints the RESULT line (or "FAILED ...")
    local script=$1 out rc; shift
    out=$(env "$@" "$here/$script" 2> "$root/last.err"); rc=$?
    out=$(grep '^RESULT' <<< "$out" | tail -n 1)
    if (( rc != 0 )) || [[ -z $out ]]; then
        failed=1
        echo "FAILED $script $* rc=$rc $(tail -c 200 "$root/last.err" | tr '\n' ' ')"
    else
        echo "$out"
    fi
}

store_rows=() idle_rows=() big_row=
for size in 1024 102400; do
    for sessions in 1 8 64; do
        case $size/$sessions in
            1024/1) n=2000 ;; 1024/8) n=10000 ;; 1024/64) n=20000 ;;
            102400/1) n=300 ;; 102400/8) n=1000 ;; *) n=2000 ;;
        esac
        (( QUICK )) && n=$((n / 10))
        c=$(measure store.sh CEILING=1 MESSAGES=$n SESSIONS=$sessions SIZE=$size); echo "$c"
        r=$(measure store.sh MESSAGES=$n SESSIONS=$sessions SIZE=$size); echo "$r"
        label="$((size / 1024)) KiB"
        store_rows+=("| $label | $sessions | $n | $(field "$c" msgs_per_s) | $(field "$r" msgs_per_s) | $(ratio "$(field "$r" msgs_per_s)" "$(field "$c" msgs_per_s)") | $(mib "$(field "$r" peak_rss_kib)") | $(field "$r" server_cpu_s) |")
    done
done
counts="1000 10000"; (( QUICK )) && counts=1000
for n in $counts; do
    r=$(measure idle.sh N=$n); echo "$r"
    idle_rows+=("| $n | $(field "$r" greeted) | $(mib "$(field "$r" rss_before_kib)") | $(mib "$(field "$r" rss_held_kib)") | $(field "$r" per_conn_kib) | $(field "$r" new_client_greeted_while_held) |")
done
big_size=104857600; (( QUICK )) && big_size=10485760
r=$(measure big.sh SIZE=$big_size); echo "$r"
big_row="| $((big_size / 1048576)) MiB | $(field "$r" secs) | $(field "$r" mib_per_s) | $(mib "$(field "$r" rss_before_kib)") | $(mib "$(field "$r" peak_rss_kib)") | $(mib "$(field "$r" rss_growth_kib)") |"

commit=$(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$REPO_DIR" diff --quiet HEAD 2>/dev/null || commit="$commit (with uncommitted changes)"
fs=$(df -T "$root" | awk 'NR == 2 { print $2 }')
quick_note=; (( QUICK )) && quick_note=" (QUICK run: a tenth of the load)"
cat <<MD

## $(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit

Machine: $(nproc) CPUs, $(uname -r), spool on $fs ($(awk '{ print "load average " $1 }' /proc/loadavg) at the end).
Server: \`$(PORT='{PORT}' SPOOL='{SPOOL}' expand "$SERVER_CMD" | sed "s|$REPO_DIR/||")\`$quick_note

Store throughput (durable: each 250 after the message is on disk), ceiling = smtp-source into smtp-sink in the same run:

| size | sessions | messages | ceiling msg/s | relay msg/s | relay / ceiling | relay peak RSS MiB | relay CPU s |
| --- | --- | --- | --- | --- | --- | --- | --- |
$(printf '%s\n' "${store_rows[@]}")

Idle connections:

| held | greeted | RSS before MiB | RSS held MiB | KiB per connection | new client greeted while held |
| --- | --- | --- | --- | --- | --- |
$(printf '%s\n' "${idle_rows[@]}")

One large message:

| size | seconds to 250 | MiB/s | RSS before MiB | peak RSS MiB | growth MiB |
| --- | --- | --- | --- | --- | --- |
$big_row
MD
exit "$failed"
