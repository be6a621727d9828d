#!/usr/bin/env bash
# record-captures.sh re-records the WebSocket captures in testdata/pcaps (and
# the wss:// ones with their TLS key logs in testdata/tls: scenario wss) from
# real traffic on the loopback interface.
#
# usage: scripts/record-captures.sh [SCENARIO...]   (default: all, in order)
#
# Needs root (packet capture, nginx) and these Debian packages:
#   tcpdump tshark (provides dumpcap via wireshark-common) python3-websockets
#   nginx chromium nodejs npm openssl; plus Node >= 18 and Go >= 1.26 on PATH
# It installs nothing itself except `npm ci` in scripts/record/node and a
# `go build` of scripts/record/peers (a separate Go module) into a temp dir.
# Every scenario uses its own fixed ports, one scenario at a time.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
REC=$ROOT/scripts/record
OUT=${PCAP_OUT:-$ROOT/testdata/pcaps} # PCAP_OUT: record elsewhere, e.g. to compare
TLS_OUT=${TLS_OUT:-$ROOT/testdata/tls} # the same for the wss scenario
PY=/usr/bin/python3
CHROMIUM=/usr/bin/chromium
WORK=$(mktemp -d /tmp/wsclosescan-record.XXXXXX)
CAP_PIDS=()
BG_PIDS=()

log() { printf 'record: %s\n' "$*" >&2; }
die() { printf 'record: error: %s\n' "$*" >&2; exit 1; }

cleanup() {
	local p
	for p in "${BG_PIDS[@]}" "${CAP_PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	rm -rf "$WORK"
}
trap cleanup EXIT

check_deps() {
	[ "$(id -u)" = 0 ] || die "must run as root (packet capture and nginx)"
	local missing=() t
	for t in tcpdump tshark dumpcap mergecap editcap nginx node npm go gzip openssl; do
		command -v "$t" >/dev/null 2>&1 || missing+=("$t")
	done
	[ -x "$CHROMIUM" ] || missing+=("$CHROMIUM")
	[ -x "$PY" ] || missing+=("$PY")
	if [ ${#missing[@]} -gt 0 ]; then
		die "missing ${missing[*]}; install with: apt-get install tcpdump tshark nginx chromium python3-websockets nodejs npm openssl (and Go from go.dev)"
	fi
	"$PY" -c 'import websockets' 2>/dev/null ||
		die "python3-websockets missing for $PY; install with: apt-get install python3-websockets"
}

build_peers() {
	log "npm ci in scripts/record/node"
	(cd "$REC/node" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
	log "go build scripts/record/peers"
	(cd "$REC/peers" && go build -o "$WORK/peers" .)
}

# cap_tcpdump FILE FILTER [TCPDUMP ARGS...] starts tcpdump on lo (or as the
# extra args say) and waits until it is listening.
cap_tcpdump() {
	local file=$1 filter=$2
	shift 2
	local err=$WORK/$(basename "$file").err
	tcpdump -Z root -i lo -B 32768 --immediate-mode "$@" -w "$file" "$filter" 2>"$err" &
	CAP_PIDS+=($!)
	wait_listening "$err"
}

# cap_tcpdump_any FILE FILTER captures on the "any" pseudo-interface with
# LINUX_SLL2 headers (link type 276).
cap_tcpdump_any() {
	local file=$1 filter=$2
	local err=$WORK/$(basename "$file").err
	tcpdump -Z root -i any -y LINUX_SLL2 -B 32768 --immediate-mode -w "$file" "$filter" 2>"$err" &
	CAP_PIDS+=($!)
	wait_listening "$err"
}

# cap_dumpcap FILE FILTER writes pcapng with dumpcap.
cap_dumpcap() {
	local file=$1 filter=$2
	local err=$WORK/$(basename "$file").err
	dumpcap -q -i lo -B 32 -f "$filter" -w "$file" 2>"$err" &
	CAP_PIDS+=($!)
	wait_listening "$err" || true
}

wait_listening() {
	local i
	for i in $(seq 1 50); do
		if grep -qiE 'listening on|capturing on' "$1" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	log "capture not confirmed listening: $(cat "$1")"
	return 0
}

# caps_stop waits for the tail of the traffic, then stops every capture with
# SIGINT and waits for it to exit.
caps_stop() {
	sleep 0.6
	local p
	for p in "${CAP_PIDS[@]}"; do
		kill -INT "$p" 2>/dev/null || true
	done
	for p in "${CAP_PIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	CAP_PIDS=()
	# tcpdump and dumpcap report drops on exit; a capture with drops is useless.
	if grep -hE '[1-9][0-9]* packets? dropped' "$WORK"/*.err; then
		die "a capture dropped packets"
	fi
	grep -h 'captured' "$WORK"/*.err >&2 || true
	rm -f "$WORK"/*.err
}

# peer runs one scenario's peers with a time limit, so a hang cannot stall
# the recording.
peer() {
	timeout 60 "$@" || die "peer failed: $*"
}

# start_bg CMD... starts a background peer and sets BG to its pid; it is
# remembered so that an early exit still ends it.
start_bg() {
	"$@" &
	BG=$!
	BG_PIDS+=("$BG")
}

# stop_bg PID [SIGNAL] ends a background peer this script started, waits for
# it and forgets it.
stop_bg() {
	kill "-${2:-TERM}" "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	local keep=() p
	for p in "${BG_PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	BG_PIDS=("${keep[@]}")
}

# begin: give the captures time to settle before the first SYN.
begin() { sleep 0.3; }

. "$REC/scenarios.sh"

# mixed_endings merges recordings with different endings into the one capture the README's
# first command runs on (mergecap orders the packets by time).
mixed_endings() {
	local parts=(chromium-close-4000 node-ws-1011-then-rst node-ws-unanswered-close nginx-idle-timeout
		python-websockets-403 chromium-ignored-subprotocol node-ws-open-at-end) files=() p
	for p in "${parts[@]}"; do
		[ -f "$OUT/$p.pcap" ] || { log "mixed-endings.pcap not rebuilt: $p.pcap missing"; return 0; }
		files+=("$OUT/$p.pcap")
	done
	mergecap -F pcap -w "$OUT/mixed-endings.pcap" "${files[@]}"
}

main() {
	check_deps
	mkdir -p "$OUT"
	build_peers
	local all=(gorilla node python chromium nginx halfclosed abnormal coder keepalive
		invalidclose subprotocol closereset snaplen mixedproto late wss h2 proxy)
	local s
	for s in "${@:-${all[@]}}"; do
		log "scenario $s"
		"scenario_$s"
	done
	mixed_endings
	chmod 644 "$OUT"/*.pcap* "$TLS_OUT"/* "$ROOT"/testdata/pair/* 2>/dev/null || true
	"$REC/check.sh" "$OUT" >&2 || die "some captures failed the checks above"
	if [ -d "$ROOT/testdata/pair" ]; then
		"$REC/check.sh" "$ROOT/testdata/pair" >&2 || die "some captures failed the checks above"
	fi
	if [ -d "$TLS_OUT" ]; then
		"$REC/check.sh" "$TLS_OUT" >&2 || die "some captures failed the checks above"
	fi
	log "done; files in $OUT:"
	ls -l "$OUT" >&2
}

main "$@"
