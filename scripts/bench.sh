#!/usr/bin/env bash
# bench.sh: time wsclosescan against the gopacket decode-loop baseline on large synthetic
# captures (issue 5: "gigabyte captures in about a second"; issue 13: busy servers).
#
# For each variant it generates a capture with tools/gencap in a temporary directory,
# builds tools/decodeloop and cmd/wsclosescan, runs them alternately ROUNDS times under
# /usr/bin/time, and prints per-round wall time and peak RSS, then the median times, the
# ratio wsclosescan/decodeloop (of the medians, and the median of the ratios within each
# round) and the throughput (MB/s of uncompressed capture, packets/s). It then runs
# wsclosescan once more and checks every record against the generator's truth with
# gencap -check, printing the tool's warnings. With tshark installed it also times one
# tshark pass over the pcap variant for comparison.
#
# Variants (BENCH_VARIANTS):
#   pcap, pcapng, gzip  gencap's default (mixed) shape, BENCH_SIZE, in pcap, pcapng and
#                       gzip-compressed pcap: every kind of ending, ~300 connections open
#   busy                a busy server (gencap -shape busy -size BENCH_BUSY_SIZE): starts
#                       over 10 minutes, bursts 2 s apart, up to ~5,000 open at once at
#                       1.5 GB, permessage-deflate, disorder, IPv6
#   mass                BENCH_MASS_CONNS WebSocket connections all open at once, then all
#                       closed cleanly (gencap -shape mass); also prints the peak RSS per
#                       open connection (this replaces scripts/mem100k.sh's measurement)
#   synflood            BENCH_SYNS unanswered SYNs within 10 s plus one WebSocket
#                       connection (gencap -shape synflood); also prints the peak RSS per SYN
#
# Environment:
#   BENCH_QUICK       1 for a quick run (under 2 minutes on an idle 2-core machine): the
#                     defaults below become BENCH_VARIANTS="pcap busy mass synflood",
#                     BENCH_SIZE=50MB, BENCH_BUSY_SIZE=100MB, BENCH_MASS_CONNS=20000,
#                     BENCH_SYNS=50000, BENCH_ROUNDS=2, BENCH_TSHARK=0; variables set
#                     explicitly still win. Its figures are only a smoke test
#   BENCH_VARIANTS    variants to run (default "pcap pcapng gzip busy mass synflood")
#   BENCH_SIZE        size of the mixed-shape captures (default 1.5GB; gencap syntax:
#                     200MB, 1GiB, ...)
#   BENCH_BUSY_SIZE   size of the busy capture (default 1.5GB)
#   BENCH_MASS_CONNS  connections of the mass capture (default 200000)
#   BENCH_SYNS        SYNs of the synflood capture (default 1000000)
#   BENCH_BUSY_ARGS, BENCH_MASS_ARGS, BENCH_SYNFLOOD_ARGS
#                     more gencap flags for that shape (e.g. "-window 5m -long-lived 300")
#   BENCH_SEED        generator seed (default 1)
#   BENCH_ROUNDS      rounds per tool (default 3)
#   BENCH_TSHARK      0 to skip the tshark comparison (default: run it when installed)
#   BENCH_TSHARK_MB   capture megabytes tshark reads (default 100: it runs at a few MB/s, so
#                     it reads only the first packets; its throughput is printed)
#   BENCH_WSC_ARGS    wsclosescan flags (default "-f jsonl"); output goes to /dev/null
#   BENCH_CHECK       0 to skip checking wsclosescan's records against the generator's truth
#                     (default: one more run per variant, compared with gencap -check)
#   BENCH_BEFORE      a git revision to time as well, alternately with the other two (its
#                     wsclosescan is built from git archive), to measure a change end to end
#   BENCH_KEEP        1 to keep the temporary directory
#   TMPDIR            where the temporary directory is made (default /tmp)
#
# Examples:
#   BENCH_QUICK=1 ./scripts/bench.sh                       # smoke test, all shapes
#   BENCH_VARIANTS=mass ./scripts/bench.sh                 # 200,000 open connections
#   BENCH_VARIANTS="busy mass synflood" BENCH_ROUNDS=5 ./scripts/bench.sh
#
# Needs /usr/bin/time (Debian package "time").
set -euo pipefail

if [[ ${BENCH_QUICK:-0} == 1 ]]; then
	: "${BENCH_VARIANTS:=pcap busy mass synflood}" "${BENCH_SIZE:=50MB}" "${BENCH_BUSY_SIZE:=100MB}"
	: "${BENCH_MASS_CONNS:=20000}" "${BENCH_SYNS:=50000}" "${BENCH_ROUNDS:=2}" "${BENCH_TSHARK:=0}"
fi
size=${BENCH_SIZE:-1.5GB}
busy_size=${BENCH_BUSY_SIZE:-1.5GB}
mass_conns=${BENCH_MASS_CONNS:-200000}
syns=${BENCH_SYNS:-1000000}
seed=${BENCH_SEED:-1}
rounds=${BENCH_ROUNDS:-3}
variants=${BENCH_VARIANTS:-pcap pcapng gzip busy mass synflood}
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

# timeit NAME OUTFILE CMD...: runs CMD with stdout to OUTFILE and stderr to $tmp/NAME.err,
# prints "NAME: SECS s KB KB", and leaves "SECS KB" in $tmp/last.
timeit() {
	local name=$1 out=$2 rc=0
	shift 2
	/usr/bin/time -f '%e %M' -o "$tmp/last" "$@" >"$out" 2>"$tmp/$name.err" || rc=$?
	read -r secs kb < <(tail -1 "$tmp/last")
	printf '  %-12s %8.2f s %10d KB\n' "$name" "$secs" "$kb"
	echo "$secs $kb" >"$tmp/last"
	return $rc
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
	# shellcheck disable=SC2206 # word splitting of the extra flags is intended
	case $v in
	pcap) file=$tmp/cap.pcap flags=(-size "$size") what=$size ;;
	pcapng) file=$tmp/cap.pcapng flags=(-size "$size" -format pcapng) what=$size ;;
	gzip) file=$tmp/cap.pcap.gz flags=(-size "$size" -gzip) what=$size ;;
	busy) file=$tmp/busy.pcap flags=(-shape busy -size "$busy_size" ${BENCH_BUSY_ARGS:-}) what="busy server, $busy_size" ;;
	mass) file=$tmp/mass.pcap flags=(-shape mass -conns "$mass_conns" ${BENCH_MASS_ARGS:-}) what="$mass_conns open connections" ;;
	synflood) file=$tmp/synflood.pcap flags=(-shape synflood -syns "$syns" ${BENCH_SYNFLOOD_ARGS:-}) what="$syns SYNs" ;;
	*)
		echo "bench: error: unknown variant $v (want pcap, pcapng, gzip, busy, mass or synflood)" >&2
		exit 2
		;;
	esac
	echo "== $v: generating $what (seed $seed)"
	"$tmp/gencap" -o "$file" -seed "$seed" "${flags[@]}" 2>"$tmp/gen.log"
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
	if [[ $have_wsc == 1 && -s $tmp/wsclosescan.err ]]; then
		echo "-- $v: wsclosescan's warnings (last round)"
		sed 's/^/  /' "$tmp/wsclosescan.err" | head -5
	fi
	if [[ $have_wsc == 1 && ${BENCH_CHECK:-1} != 0 ]]; then
		echo "-- $v: records against the ground truth"
		"$tmp/wsclosescan" -f jsonl "$file" 2>/dev/null >"$tmp/records.jsonl" || true
		"$tmp/gencap" -check "$file.truth.jsonl" "$tmp/records.jsonl" >"$tmp/check.out" 2>&1 || true
		n=$(wc -l <"$tmp/check.out")
		# The differences (the first 10), then the summary.
		if ((n > 11)); then
			head -10 "$tmp/check.out" | sed 's/^/  /'
			echo "  ... ($((n - 11)) more lines)"
		else
			head -$((n - 1)) "$tmp/check.out" | sed 's/^/  /'
		fi
		tail -1 "$tmp/check.out" | sed 's/^/  /'
		rm -f "$tmp/records.jsonl" "$tmp/check.out"
	fi
	packets=$(awk '{print $2}' "$tmp/dl.out")
	dl=$(awk '{print $1}' "$tmp/dl.times" | median)
	dlrss=$(awk '{print $2}' "$tmp/dl.times" | maxof)
	echo "-- $v: file $((filesize / 1000000)) MB, uncompressed $((raw / 1000000)) MB, $packets packets"
	awk -v t="$dl" -v b="$raw" -v p="$packets" -v m="$dlrss" \
		'BEGIN {printf "  decodeloop   median %6.2f s  %7.0f MB/s  %9.0f packets/s  peak RSS %d KB\n", t, b/1e6/t, p/t, m}'
	if [[ $have_wsc == 1 ]]; then
		summarize wsclosescan "$tmp/ws.times"
		wsrss=$(awk '{print $2}' "$tmp/ws.times" | maxof)
		case $v in
		mass)
			open=$(sed -n 's/.*at most \([0-9]*\) connections open at once.*/\1/p' "$tmp/gen.log")
			awk -v k="$wsrss" -v n="$open" 'BEGIN {printf "  wsclosescan  peak RSS per open connection: %.0f bytes (%d open at once)\n", k*1024/n, n}'
			;;
		synflood)
			awk -v k="$wsrss" -v n="$syns" 'BEGIN {printf "  wsclosescan  peak RSS per unanswered SYN: %.0f bytes\n", k*1024/n}'
			;;
		esac
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
