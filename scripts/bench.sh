#!/usr/bin/env bash
# bench.sh: time wsclosescan against the gopacket decode-loop baseline on a large
# synthetic capture (issue 5: "gigabyte captures in about a second").
#
# It generates a capture with tools/gencap in a temporary directory (pcap, pcapng and
# gzip-compressed pcap), builds tools/decodeloop and cmd/wsclosescan, runs them
# alternately ROUNDS times on each variant under /usr/bin/time, and prints per-round wall
# time and peak RSS, then per variant the median times, the ratio wsclosescan/decodeloop
# (of the medians, and the median of the ratios within each round) and the throughput
# (MB/s of uncompressed capture, packets/s). With tshark installed it also times one
# tshark pass over the pcap variant for comparison.
#
# Environment:
#   BENCH_SIZE      capture size (default 1.5GB; gencap syntax: 200MB, 1GiB, ...)
#   BENCH_SEED      generator seed (default 1)
#   BENCH_ROUNDS    rounds per tool (default 3)
#   BENCH_VARIANTS  variants to run (default "pcap pcapng gzip")
#   BENCH_TSHARK    0 to skip the tshark comparison (default: run it when installed)
#   BENCH_TSHARK_MB capture megabytes tshark reads (default 100: it runs at a few MB/s, so
#                   it reads only the first packets; its throughput is printed)
#   BENCH_WSC_ARGS  wsclosescan flags (default "-f jsonl"); output goes to /dev/null
#   BENCH_CHECK     0 to skip checking wsclosescan's records against the generator's truth
#                   (default: one more run per variant, compared with gencap -check)
#   BENCH_BEFORE    a git revision to time as well, alternately with the other two (its
#                   wsclosescan is built from git archive), to measure a change end to end
#   BENCH_KEEP      1 to keep the temporary directory
#   TMPDIR          where the temporary directory is made (default /tmp)
#
# Needs /usr/bin/time (Debian package "time").
set -euo pipefail

size=${BENCH_SIZE:-1.5GB}
seed=${BENCH_SEED:-1}
rounds=${BENCH_ROUNDS:-3}
variants=${BENCH_VARIANTS:-pcap pcapng gzip}
wsc_args=${BENCH_WSC_ARGS:--f jsonl}

cd "$(dirname "$0")/.."

if [[ ! -x /usr/bin/time ]]; then
	echo "bench: error: /usr/bin/time not found (Debian: apt-get install time)" >&2
	exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/wsbench.XXXXXX")
cleanup() {
	if [[ ${BENCH_KEEP:-0} == 1 ]]; then
		echo "bench: kept $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT

echo "== build"
go build -o "$tmp/gencap" ./tools/gencap
go build -o "$tmp/decodeloop" ./tools/decodeloop
have_wsc=0
if go build -o "$tmp/wsclosescan" ./cmd/wsclosescan 2>"$tmp/build.err"; then
	have_wsc=1
else
	echo "bench: warning: cmd/wsclosescan does not build; timing the decode loop only:"
	sed 's/^/  /' "$tmp/build.err" | head -5
fi

have_before=0
if [[ -n ${BENCH_BEFORE:-} ]]; then
	mkdir -p "$tmp/before-src"
	git archive "$BENCH_BEFORE" | tar -x -C "$tmp/before-src"
	(cd "$tmp/before-src" && go build -o "$tmp/wsclosescan-before" ./cmd/wsclosescan)
	have_before=1
	echo "  before: wsclosescan at $(git rev-parse --short "$BENCH_BEFORE")"
fi

# timeit NAME OUTFILE CMD...: runs CMD with stdout to OUTFILE, prints "NAME: SECS s KB KB",
# and leaves "SECS KB" in $tmp/last.
timeit() {
	local name=$1 out=$2
	shift 2
	/usr/bin/time -f '%e %M' -o "$tmp/last" "$@" >"$out"
	read -r secs kb <"$tmp/last"
	printf '  %-12s %8.2f s %10d KB\n' "$name" "$secs" "$kb"
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
maxof() { sort -g | tail -1; }

# summarize NAME TIMES: prints NAME's median time, throughput and peak RSS from TIMES
# ("SECS KB" per round), and its ratio to the decode loop ($tmp/dl.times, median $dl):
# of the medians, and the median of the ratios within each round. Rounds alternate the
# tools, so a ratio within a round cancels most of the machine's drift; its median is
# the figure least moved by a noisy round. Uses $raw, $packets and $dl.
summarize() {
	local name=$1 times=$2 t rss
	t=$(awk '{print $1}' "$times" | median)
	rss=$(awk '{print $2}' "$times" | maxof)
	awk -v n="$name" -v t="$t" -v b="$raw" -v p="$packets" -v m="$rss" \
		'BEGIN {printf "  %-12s median %6.2f s  %7.0f MB/s  %9.0f packets/s  peak RSS %d KB\n", n, t, b/1e6/t, p/t, m}'
	awk -v n="$name" -v a="$t" -v b="$dl" 'BEGIN {printf "  ratio %s/decodeloop: %.2f of the medians;", n, a/b}'
	paste "$times" "$tmp/dl.times" | awk '{print $1 / $3}' | sort -g |
		awk '{a[NR]=$1} END {printf " per round: median %.2f, range %.2f-%.2f\n", a[int((NR+1)/2)], a[1], a[NR]}'
}

for v in $variants; do
	case $v in
	pcap) file=$tmp/cap.pcap flags=() ;;
	pcapng) file=$tmp/cap.pcapng flags=(-format pcapng) ;;
	gzip) file=$tmp/cap.pcap.gz flags=(-gzip) ;;
	*)
		echo "bench: error: unknown variant $v (want pcap, pcapng or gzip)" >&2
		exit 2
		;;
	esac
	echo "== $v: generating $size (seed $seed)"
	"$tmp/gencap" -o "$file" -size "$size" -seed "$seed" "${flags[@]}" 2>"$tmp/gen.log"
	sed 's/^/  /' "$tmp/gen.log"
	raw=$(sed -n 's/.*: \([0-9]*\) bytes, .*/\1/p' "$tmp/gen.log" | head -1)
	filesize=$(stat -c %s "$file")
	# Write the new file out first (the kernel's writeback would otherwise compete for the
	# processors during the first rounds), then warm the page cache so that round 1 is not
	# penalised.
	sync "$file" 2>/dev/null || sync
	cat "$file" >/dev/null
	: >"$tmp/dl.times"
	: >"$tmp/ws.times"
	: >"$tmp/before.times"
	for r in $(seq "$rounds"); do
		echo "round $r"
		timeit decodeloop "$tmp/dl.out" "$tmp/decodeloop" "$file"
		cat "$tmp/last" >>"$tmp/dl.times"
		if [[ $have_wsc == 1 ]]; then
			# shellcheck disable=SC2086 # word splitting of the flags is intended
			timeit wsclosescan /dev/null "$tmp/wsclosescan" $wsc_args "$file" || echo "  wsclosescan exited with status $?"
			cat "$tmp/last" >>"$tmp/ws.times"
		fi
		if [[ $have_before == 1 ]]; then
			# shellcheck disable=SC2086 # word splitting of the flags is intended
			timeit before /dev/null "$tmp/wsclosescan-before" $wsc_args "$file" || echo "  before exited with status $?"
			cat "$tmp/last" >>"$tmp/before.times"
		fi
	done
	if [[ $have_wsc == 1 && ${BENCH_CHECK:-1} != 0 ]]; then
		echo "-- $v: records against the ground truth"
		"$tmp/wsclosescan" -f jsonl "$file" 2>/dev/null >"$tmp/records.jsonl" || true
		"$tmp/gencap" -check "$file.truth.jsonl" "$tmp/records.jsonl" | tail -5 | sed 's/^/  /' || true
		rm -f "$tmp/records.jsonl"
	fi
	packets=$(awk '{print $2}' "$tmp/dl.out")
	dl=$(awk '{print $1}' "$tmp/dl.times" | median)
	dlrss=$(awk '{print $2}' "$tmp/dl.times" | maxof)
	echo "-- $v: file $((filesize / 1000000)) MB, uncompressed $((raw / 1000000)) MB, $packets packets"
	awk -v t="$dl" -v b="$raw" -v p="$packets" -v m="$dlrss" \
		'BEGIN {printf "  decodeloop   median %6.2f s  %7.0f MB/s  %9.0f packets/s  peak RSS %d KB\n", t, b/1e6/t, p/t, m}'
	if [[ $have_wsc == 1 ]]; then
		summarize wsclosescan "$tmp/ws.times"
	fi
	if [[ $have_before == 1 ]]; then
		summarize before "$tmp/before.times"
	fi
	if [[ $v == pcap && ${BENCH_TSHARK:-1} != 0 ]] && command -v tshark >/dev/null; then
		mb=${BENCH_TSHARK_MB:-100}
		count=$(awk -v p="$packets" -v b="$raw" -v m="$mb" 'BEGIN {n = int(p * m * 1e6 / b); print (n > p || n < 1) ? p : n}')
		tbytes=$(awk -v p="$packets" -v b="$raw" -v c="$count" 'BEGIN {print b * c / p}')
		echo "-- tshark (one pass over the first $count packets, close frames only)"
		timeit tshark /dev/null tshark -r "$file" -c "$count" -o tcp.reassemble_out_of_order:TRUE \
			-Y websocket.opcode==8 -T fields -e frame.number -e websocket.payload.close.status_code
		read -r tt _ <"$tmp/last"
		awk -v t="$tt" -v b="$tbytes" -v p="$count" -v d="$dl" -v r="$raw" \
			'BEGIN {printf "  tshark       %6.2f s  %7.1f MB/s  %9.0f packets/s  (%.0fx the decode loop per byte)\n", t, b/1e6/t, p/t, (t/b)/(d/r)}'
	fi
	rm -f "$file" "$file.truth.jsonl"
done
