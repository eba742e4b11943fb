# shellcheck shell=bash disable=SC2034
# Shared helpers for Relay's benchmark scripts in this folder. Sourced, not run.
# Adapted from the project's reference harness (bench/lib.sh of the Relay
# planning repository, "SMTP relay benchmarks"): /proc readings, peak-RSS
# reset and sampling, listening checks via /proc/net/tcp, start/stop by PID,
# smtp-sink's counter. Added here: free-port picking, the relay defaults, and the
# start and end every measurement shares (new_run, launch_server, end_run).
# (SC2034: SERVER_PID, SINK_PID and the like are read by the sourcing scripts.)
# ---- tools -------------------------------------------------------------------
SMTP_SOURCE=${SMTP_SOURCE:-$(command -v smtp-source || echo /usr/sbin/smtp-source)}
SMTP_SINK=${SMTP_SINK:-$(command -v smtp-sink || echo /usr/sbin/smtp-sink)}
TIME_BIN=${TIME_BIN:-/usr/bin/time}
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)

die() { echo "ERROR: $*" >&2; exit 2; }
note() { echo "# $*" >&2; }

need_tool() { [[ -x $1 ]] || die "missing tool: $1 (Debian: apt-get install postfix / time)"; }

# ---- time and arithmetic -----------------------------------------------------
now_ns() { date +%s%N; }
# secs T0_NS T1_NS -> seconds with millisecond precision
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }
# rate COUNT SECONDS -> COUNT/SECONDS with one decimal
rate() { awk -v n="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.1f", n / s; else print "inf" }'; }

# ---- /proc readings of a server process ---------------------------------------
# proc_kib PID FIELD -> value in KiB of a /proc/PID/status field (VmRSS, VmHWM), or -1
proc_kib() {
    local pid=$1 want=$2: k v u
    [[ -n $pid && -r /proc/$pid/status ]] || { echo -1; return; }
    while read -r k v u; do
        [[ $k == "$want" ]] && { echo "$v"; return; }
    done < "/proc/$pid/status"
    echo -1
}
# cpu_ticks PID [sys] -> utime+stime (or with "sys": stime only) of the process
# in clock ticks, or 0
cpu_ticks() {
    local pid=$1 what=${2:-all} s
    [[ -n $pid && -r /proc/$pid/stat ]] || { echo 0; return; }
    s=$(< "/proc/$pid/stat")
    s=${s##*) }                       # drop "pid (comm) ", comm may hold spaces
    # shellcheck disable=SC2086  # split on purpose
    set -- $s                         # $1 = state (field 3); utime = 14, stime = 15
    if [[ $what == sys ]]; then echo "${13}"; else echo $(( ${12} + ${13} )); fi
}
ticks_to_secs() { awk -v t="$1" -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", t / hz }'; }
fd_count() { local pid=$1; [[ -d /proc/$pid/fd ]] || { echo -1; return; }; local a=("/proc/$pid/fd/"*); echo ${#a[@]}; }

# Peak RSS of PID over a measured interval. Preferred: reset the kernel's
# high-water mark (write 5 to /proc/PID/clear_refs, Linux >= 4.0, needs to own
# the process or be root) and read VmHWM afterwards. Fallback: sample VmRSS
# every RSS_SAMPLE_S seconds in the background (can miss short spikes).
RSS_SAMPLE_S=${RSS_SAMPLE_S:-0.1}
_SAMPLER_PID='' _SAMPLER_FILE='' _HWM_RESET=0
peak_begin() {
    local pid=$1
    _HWM_RESET=0 _SAMPLER_PID='' _SAMPLER_FILE=''
    [[ -n $pid && -d /proc/$pid ]] || return 0
    if { echo 5 > "/proc/$pid/clear_refs"; } 2>/dev/null; then _HWM_RESET=1; fi
    _SAMPLER_FILE=$(mktemp)
    (
        max=0 i=0
        while (( i < 36000 )) && [[ -r /proc/$pid/status ]]; do   # bounded: 1 h at 0.1 s
            v=$(proc_kib "$pid" VmRSS)
            if (( v > max )); then max=$v; echo "$max" > "$_SAMPLER_FILE"; fi
            i=$((i + 1)); sleep "$RSS_SAMPLE_S"
        done
    ) &
    _SAMPLER_PID=$!
}
# peak_end PID -> prints "PEAK_KIB METHOD" (METHOD is hwm-reset or sampled)
peak_end() {
    local pid=$1 sampled=-1 hwm
    if [[ -n $_SAMPLER_PID ]]; then kill "$_SAMPLER_PID" 2>/dev/null; wait "$_SAMPLER_PID" 2>/dev/null; fi
    [[ -n $_SAMPLER_FILE && -s $_SAMPLER_FILE ]] && sampled=$(< "$_SAMPLER_FILE")
    [[ -n $_SAMPLER_FILE ]] && rm -f "$_SAMPLER_FILE"
    _SAMPLER_PID='' _SAMPLER_FILE=''
    if (( _HWM_RESET )); then
        hwm=$(proc_kib "$pid" VmHWM)
        (( sampled > hwm )) && hwm=$sampled
        echo "$hwm hwm-reset"
    else
        echo "$sampled sampled"
    fi
}

# ---- ports -------------------------------------------------------------------
# is_listening PORT -> true if some socket LISTENs on TCP port PORT (IPv4 or IPv6).
# Reads /proc/net/tcp{,6} so that no probe connection is made to the server.
is_listening() {
    local hex
    hex=$(printf '%04X' "$1")
    awk -v p=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 } END { exit !f }' \
        /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
# wait_listening PORT SECONDS -> waits (bounded) until PORT listens
wait_listening() {
    local port=$1 limit=${2:-20} i=0
    while ! is_listening "$port"; do
        i=$((i + 1)); (( i > limit * 20 )) && return 1
        sleep 0.05
    done
}

# ---- spool -------------------------------------------------------------------
# count_files DIR PATTERN -> number of regular files directly in DIR matching PATTERN
count_files() { find "$1" -maxdepth 1 -type f -name "$2" 2>/dev/null | wc -l; }

# ---- server lifecycle (used when SERVER_CMD is given) -------------------------
# expand TEMPLATE -> replaces {PORT} {SPOOL} {SINK_PORT} with the variables' values
expand() {
    local s=$1
    s=${s//\{PORT\}/${PORT:-}}
    s=${s//\{SPOOL\}/${SPOOL:-}}
    s=${s//\{SINK_PORT\}/${SINK_PORT:-}}
    printf '%s' "$s"
}
# start_server CMD LOG -> starts CMD (already expanded) in the background, sets SERVER_PID
start_server() {
    local cmd=$1 log=$2
    ( eval "exec $cmd" ) > "$log" 2>&1 < /dev/null &
    SERVER_PID=$!
}
# stop_pid PID [SECONDS] -> SIGTERM, wait (bounded), then SIGKILL
stop_pid() {
    local pid=$1 limit=${2:-10} i=0
    [[ -n $pid ]] || return 0
    kill -TERM "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
    while kill -0 "$pid" 2>/dev/null; do
        i=$((i + 1))
        if (( i > limit * 20 )); then kill -KILL "$pid" 2>/dev/null; break; fi
        sleep 0.05
    done
    wait "$pid" 2>/dev/null
    return 0
}

# ---- smtp-sink ---------------------------------------------------------------
# start_sink PORT OUTFILE -> starts smtp-sink with running counters (-c) on
# 127.0.0.1:PORT, sets SINK_PID. SINK_MAXCONN bounds its simultaneous sessions.
start_sink() {
    local port=$1 out=$2 user=()
    (( EUID == 0 )) && user=(-u "${SINK_USER:-nobody}")   # smtp-sink insists on -u as root
    ( exec "$SMTP_SINK" "${user[@]}" -c -m "${SINK_MAXCONN:-256}" "127.0.0.1:$port" 1024 ) \
        > "$out" 2>&1 < /dev/null &
    SINK_PID=$!
}
# sink_count OUTFILE -> messages the sink has received so far (its "mesg=" counter)
sink_count() {
    local s
    s=$(tail -c 96 "$1" 2>/dev/null)
    [[ $s == *mesg=* ]] || { echo 0; return; }
    s=${s##*mesg=}
    s=${s%%[!0-9]*}
    echo "${s:-0}"
}
# wait_sink_count OUTFILE N SECONDS -> waits (bounded) until the sink counted N
wait_sink_count() {
    local f=$1 n=$2 limit=$3 t0 c
    t0=$SECONDS
    while :; do
        c=$(sink_count "$f")
        (( c >= n )) && return 0
        (( SECONDS - t0 >= limit )) && return 1
        sleep "${SINK_POLL_S:-0.02}"
    done
}

# ---- additions for Relay -------------------------------------------------------
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/.." && pwd)
# The built host (dotnet build -c Release src/RelayHost) and the server command it runs.
RELAY_BIN=${RELAY_BIN:-$REPO_DIR/src/RelayHost/bin/Release/net10.0/relay}
RELAY_SERVER_CMD="$RELAY_BIN Start-RelayServer -Port {PORT} -SpoolPath {SPOOL} -MaxConnections 20000 -Wait"
# ENGINE=1: RelayCore's SMTP server without PowerShell (dotnet build -c Release bench/engine-server).
RELAY_ENGINE_CMD="$BENCH_DIR/engine-server/bin/Release/net10.0/EngineServer {PORT} {SPOOL}"
(( ${ENGINE:-0} )) && RELAY_SERVER_CMD=$RELAY_ENGINE_CMD
# A committed message in a Relay (E-MailRelay) spool: its ready envelope.
RELAY_PATTERN='emailrelay.*.envelope'

# port_in_use PORT -> true if any TCP socket (any state) has PORT as its local port
port_in_use() {
    local hex
    hex=$(printf '%04X' "$1")
    awk -v p=":$hex" 'substr($2, length($2) - 4) == p { f = 1 } END { exit !f }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
# pick_port -> prints a free TCP port below Linux's ephemeral range (32768+),
# so no client socket of another program can be holding it (bounded tries)
pick_port() {
    local i p
    for ((i = 0; i < 200; i++)); do
        p=$((10000 + RANDOM % 22000))
        port_in_use "$p" || { echo "$p"; return 0; }
    done
    die "no free port found"
}

# new_run NAME -> the start of every measurement: creates a fresh work folder
# relay-NAME.XXXXXX under WORKDIR (created if needed) or TMPDIR, picks a free
# port, and sets work, PORT and SPOOL (an empty spool folder inside work)
new_run() {
    [[ -n ${WORKDIR:-} ]] && mkdir -p "$WORKDIR"
    work=$(mktemp -d "${WORKDIR:-${TMPDIR:-/tmp}}/relay-$1.XXXXXX") || die "cannot create a work folder"
    PORT=$(pick_port) || exit 2
    SPOOL=$work/spool; mkdir -p "$SPOOL"
}
# launch_server -> starts SERVER_CMD (expanded) with its log in $work/server.log,
# waits (bounded) until it listens on PORT, and sets PID to its process id
launch_server() {
    local cmd
    cmd=$(expand "$SERVER_CMD")
    note "server: $cmd"
    start_server "$cmd" "$work/server.log"
    wait_listening "$PORT" 60 || { tail -5 "$work/server.log" >&2; die "server did not listen on $PORT"; }
    PID=$SERVER_PID
}
# end_run -> the EXIT trap's common part: stops the server and smtp-sink if
# they were started, and deletes $work unless KEEP=1
end_run() {
    [[ -n ${SERVER_PID:-} ]] && stop_pid "$SERVER_PID"
    [[ -n ${SINK_PID:-} ]] && stop_pid "$SINK_PID"
    [[ -n ${work:-} && ${KEEP:-0} != 1 ]] && rm -rf "$work"
    return 0
}

# raise_nofile N -> raises this shell's open-files limit to at least N (inherited by children)
raise_nofile() {
    local want=$1
    (( $(ulimit -n) >= want )) && return 0
    ulimit -n "$want" 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null
    (( $(ulimit -n) >= want )) || die "cannot raise ulimit -n to $want (hard limit $(ulimit -Hn))"
}
