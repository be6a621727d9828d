#!/usr/bin/env bash
# mem100k.sh: peak memory of wsclosescan on a capture holding 100,000 WebSocket
# connections that complete the upgrade and stay open until the end of the capture (the
# worst case for memory: every connection is tracked until the end).
#
# It writes the capture with the scan package's test helper (go test ./scan -run
# TestWriteMem100kCapture -mem100k-out=FILE), builds cmd/wsclosescan, runs it with
# --format jsonl under /usr/bin/time -v and prints the capture size, the wall time, the
# peak RSS and the peak RSS per connection.
#
# Environment:
#   MEM100K_DIR   where to put the capture and the binary (default: a temporary directory,
#                 removed at exit)
set -euo pipefail

cd "$(dirname "$0")/.."
dir="${MEM100K_DIR:-}"
if [[ -z "$dir" ]]; then
	dir="$(mktemp -d)"
	trap 'rm -rf "$dir"' EXIT
fi
capture="$dir/open100k.pcap"
bin="$dir/wsclosescan"
conns=100000

go test ./scan -count=1 -run '^TestWriteMem100kCapture$' -mem100k-out="$capture" >/dev/null
go build -o "$bin" ./cmd/wsclosescan

timing="$dir/time.txt"
/usr/bin/time -v "$bin" --format jsonl "$capture" >/dev/null 2>"$timing" || {
	cat "$timing" >&2
	exit 1
}
rss_kb="$(awk -F': ' '/Maximum resident set size/ {print $2}' "$timing")"
wall="$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$timing")"
size="$(stat -c %s "$capture")"
echo "capture:           $capture ($((size / 1048576)) MiB, $conns open WebSocket connections)"
echo "wall time:         $wall"
echo "peak RSS:          $((rss_kb / 1024)) MiB"
echo "peak RSS per conn: $((rss_kb * 1024 / conns)) bytes"
