#!/usr/bin/env bash
# Storm benchmark while containers start and stop: does container metadata cost the event loop anything?
#
# Same load generator, monitor, rules and counters as storm.sh (the `open` workload: open/close as fast as
# one pinned core can, frule-monitor with Falco's stable + incubating + sandbox rules pinned to the other
# core), measured in three windows of STORM_SECONDS each, in one monitor run per window:
#   quiet   the open load alone;
#   churn   the open load while a loop runs `docker run --rm` containers one after the other: each new
#           container is looked up on the daemon (asynchronously) and its start/destroy events followed;
#   nodocker the same churn, with the Docker socket hidden from the monitor (a private mount namespace
#           binds /dev/null over it): the same events, every lookup fails at connect — the control.
# Printed per window: events evaluated, the event-loop thread's CPU per evaluated event (the thread whose
# id is the monitor's pid), the CPU of the container lookup/lifecycle threads, the whole process's CPU per
# event, drops, and the container counters from /metrics (lookups queued/ok/failed, starts, destroys).
# Containers started by the loop are counted too. "Nothing measurable" means the loop's ns/event in
# `churn` is within the spread of `nodocker` (same event mix, no metadata) — compare those two; `quiet`
# has another mix (no runc/dockerd events) and is the reference for the load alone.
#
# Needs root, 2 cores, a running dockerd (see .ci/run / tests/support), curl, taskset, unshare. The image
# frule-test/busybox:1 is imported from /bin/busybox (busybox-static) when missing; nothing is pulled.
# Environment: STORM_SECONDS (10), STORM_WINDOWS ("quiet churn nodocker"), STORM_CONTAINER_CMD (what each
# container runs: "sleep 1", so that it lives long enough to be looked up), STORM_LOAD_CPU (0),
# STORM_MONITOR_CPU (1), STORM_PORT (18768), STORM_NO_BUILD=1 (skip the release build), FRULE_CORPUS,
# CARGO_TARGET_DIR. The preamble shared with storm.sh is in storm_common.sh.
set -euo pipefail

bench=storm_containers.sh
secs=${STORM_SECONDS:-10}
windows=${STORM_WINDOWS:-"quiet churn nodocker"}
port=${STORM_PORT:-18768}
image=frule-test/busybox:1
life=${STORM_CONTAINER_CMD:-sleep 1}
socket=/var/run/docker.sock
if [ "$(id -u)" = 0 ] && ! docker info >/dev/null 2>&1; then
    echo "storm_containers.sh: no Docker daemon answers on $socket (start dockerd first)" >&2
    exit 2
fi
# shellcheck source=benches/storm_common.sh
source "$(dirname "$0")/storm_common.sh"
churn_pid=
cleanup() {
    if [ -n "$churn_pid" ]; then kill "$churn_pid" 2>/dev/null || true; wait "$churn_pid" 2>/dev/null || true; fi
    if [ -n "$mon_pid" ]; then kill -INT "$mon_pid" 2>/dev/null || true; wait "$mon_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
if ! docker image inspect "$image" >/dev/null 2>&1; then
    rootfs=$(mktemp -d)
    mkdir -p "$rootfs/bin" "$rootfs/tmp" "$rootfs/etc" "$rootfs/proc" "$rootfs/sys" "$rootfs/dev"
    cp /bin/busybox "$rootfs/bin/busybox"
    for a in sh ls cat echo sleep; do ln -s busybox "$rootfs/bin/$a"; done
    tar -C "$rootfs" -c . | docker import -c 'CMD ["/bin/sh"]' - "$image" >/dev/null
    rm -rf "$rootfs"
fi

lookup_ticks() { # PID: ticks of the container lookup and lifecycle threads
    local s=0 t n
    for t in /proc/"$1"/task/*; do
        if grep -q '^frule-containe' "$t/comm" 2>/dev/null; then
            n=$(ticks "$1" "${t##*/}")
            s=$((s + n))
        fi
    done
    echo "$s"
}
churn() { # start and stop containers one after the other until killed; one line per container
    while :; do
        docker run --rm --network none "$image" $life >/dev/null 2>&1 && echo started
    done
}

echo "storm with containers: ${secs}s per window, open load on cpu $load_cpu, monitor on cpu $mon_cpu,"
echo "rules: $rules_files; kernel $(uname -r), $(nproc) cpus"
for win in $windows; do
    hide=()
    if [ "$win" = nodocker ]; then
        # the monitor in a private mount namespace where the socket is /dev/null: every lookup fails
        hide=(unshare -m --propagation private sh -c "mount --bind /dev/null $socket && exec \"\$0\" \"\$@\"")
    fi
    taskset -c "$mon_cpu" "${hide[@]}" "$mon" "${monitor_args[@]}" \
        >"$work/alerts.$win" 2>"$work/stderr.$win" &
    mon_pid=$!
    : >"$work/churn.$win"
    wait_watching "$work/stderr.$win" "$mon_pid" 600 0.1
    # the monitor's own pid (under `unshare … exec` it is the same process)
    mpid=$mon_pid
    if [ "$win" != quiet ]; then
        churn >"$work/churn.$win" &
        churn_pid=$!
        # let the first containers come and go before measuring
        for _ in $(seq 1 300); do [ -s "$work/churn.$win" ] && break; sleep 0.1; done
    fi
    sleep 1
    t0=$(ticks "$mpid"); l0=$(ticks "$mpid" "$mpid"); c0=$(lookup_ticks "$mpid")
    e0=$(metric falcosecurity_falco_num_evts_total)
    k0=$(metric falcosecurity_scap_n_evts_total)
    d0=$(metric falcosecurity_scap_n_drops_total)
    q0=$(metric falcosecurity_frule_container_lookups_total 'result="queued"')
    o0=$(metric falcosecurity_frule_container_lookups_total 'result="ok"')
    f0=$(metric falcosecurity_frule_container_lookups_total 'result="failed"')
    s0=$(metric falcosecurity_frule_container_starts_total)
    x0=$(metric falcosecurity_frule_container_destroys_total)
    n0=$(wc -l <"$work/churn.$win")
    w0=$(date +%s.%N)
    loaded=$(taskset -c "$load_cpu" "$load" open "$secs")
    sleep 1.2 # the monitor drains its rings and publishes its counters once a second
    w1=$(date +%s.%N)
    t1=$(ticks "$mpid"); l1=$(ticks "$mpid" "$mpid"); c1=$(lookup_ticks "$mpid")
    e1=$(metric falcosecurity_falco_num_evts_total)
    k1=$(metric falcosecurity_scap_n_evts_total)
    d1=$(metric falcosecurity_scap_n_drops_total)
    q1=$(metric falcosecurity_frule_container_lookups_total 'result="queued"')
    o1=$(metric falcosecurity_frule_container_lookups_total 'result="ok"')
    f1=$(metric falcosecurity_frule_container_lookups_total 'result="failed"')
    s1=$(metric falcosecurity_frule_container_starts_total)
    x1=$(metric falcosecurity_frule_container_destroys_total)
    n1=$(wc -l <"$work/churn.$win")
    if [ -n "$churn_pid" ]; then
        kill "$churn_pid" 2>/dev/null || true
        wait "$churn_pid" 2>/dev/null || true
        churn_pid=
        # the container in flight ends on its own: let it, so that the next window starts quiet
        for _ in $(seq 1 100); do
            [ -z "$(docker ps -q --filter "ancestor=$image")" ] && break
            sleep 0.1
        done
    fi
    kill -INT "$mon_pid"
    wait "$mon_pid" || true
    mon_pid=
    awk -v win="$win" -v e="$((e1 - e0))" -v k="$((k1 - k0))" -v d="$((d1 - d0))" \
        -v cpu="$((t1 - t0))" -v loop="$((l1 - l0))" -v lk="$((c1 - c0))" -v clk="$clk" \
        -v w0="$w0" -v w1="$w1" -v lops="$(field ops_per_s "$loaded")" \
        -v q="$((q1 - q0))" -v o="$((o1 - o0))" -v f="$((f1 - f0))" -v s="$((s1 - s0))" \
        -v x="$((x1 - x0))" -v n="$((n1 - n0))" '
    BEGIN {
        wall = w1 - w0
        printf "\n[%s]\n", win
        printf "  open load:          %10.0f ops/s\n", lops
        printf "  containers run:     %10d in the window (%.1f/s)\n", n, n / wall
        printf "  evaluated events:   %10d (%.0f/s), kernel events %d, drops %d\n", e, e / wall, k, d
        printf "  event loop thread:  %.2f s cpu = %.0f ns per evaluated event\n", loop / clk, (e > 0 ? 1e9 * loop / clk / e : 0)
        printf "  lookup threads:     %.2f s cpu\n", lk / clk
        printf "  whole monitor:      %.2f s cpu = %.0f ns per evaluated event, %.0f%% of a core\n", cpu / clk, (e > 0 ? 1e9 * cpu / clk / e : 0), 100 * cpu / clk / wall
        printf "  container lookups:  queued %d, ok %d, failed %d; lifecycle starts %d, destroys %d\n", q, o, f, s, x
    }'
done
