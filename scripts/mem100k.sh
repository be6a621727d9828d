#!/usr/bin/env bash
# mem100k.sh: peak memory of wsclosescan with many WebSocket connections open at once
# (default 200,000; the name is from when it was 100,000). It is bench.sh's "mass" variant:
# tools/gencap -shape mass opens every connection (a browser-like upgrade, a message each
# way, a ping), holds them all open, then closes them all cleanly; bench.sh times
# wsclosescan against the decode loop on it and prints the peak RSS per open connection,
# then checks every record against the generator's truth.
#
# Environment:
#   MEM_CONNS     connections open at once (default 200000)
#   MEM100K_DIR   where to put the capture and the binaries, kept after the run (default: a
#                 temporary directory, removed at exit)
#   BENCH_ROUNDS  rounds (default 1); the other BENCH_* variables of bench.sh apply too
set -euo pipefail

cd "$(dirname "$0")/.."
if [[ -n ${MEM100K_DIR:-} ]]; then
	mkdir -p "$MEM100K_DIR"
	export TMPDIR=$MEM100K_DIR BENCH_KEEP=1
fi
BENCH_VARIANTS=mass BENCH_MASS_CONNS=${MEM_CONNS:-200000} BENCH_ROUNDS=${BENCH_ROUNDS:-1} \
	BENCH_TSHARK=0 exec ./scripts/bench.sh
