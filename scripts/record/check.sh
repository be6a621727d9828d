#!/usr/bin/env bash
# check.sh DIR checks every capture in DIR: it opens in tshark without error,
# no segment is missing (tshark's lost_segment/ack_lost_segment), its first
# packet is a bare SYN, and nothing but bare ACKs follows the last
# FIN/RST (the teardown is complete). Files named *open-at-end* must instead
# have no FIN or RST at all; files named *started-late* (capture started
# mid-connection) must start with a packet that is not a SYN; files named
# *-gap* (a packet deleted with editcap) must show a segment missing.
# mixed-endings.pcap is merged from other files and ends with the open
# connection of node-ws-open-at-end, so only its start is checked.
set -euo pipefail
dir=${1:?usage: check.sh DIR}
bad=0
for f in "$dir"/*.pcap "$dir"/*.pcapng "$dir"/*.pcap.gz; do
	[ -e "$f" ] || continue
	name=$(basename "$f")
	if ! tshark -r "$f" -q -z conv,tcp >/dev/null 2>"$f.tshark-err.tmp" || grep -qiE 'error|appears to have been cut' "$f.tshark-err.tmp"; then
		echo "check: $name: tshark: $(cat "$f.tshark-err.tmp")"
		bad=1
	fi
	rm -f "$f.tshark-err.tmp"
	lost=$(tshark -r "$f" -Y 'tcp.analysis.lost_segment or tcp.analysis.ack_lost_segment' 2>/dev/null | wc -l)
	if [[ $name == *-gap* ]]; then
		if [ "$lost" = 0 ]; then
			echo "check: $name: no segment missing, but the file should have a gap"
			bad=1
		fi
	elif [ "$lost" != 0 ]; then
		echo "check: $name: $lost packets show a segment missing from the capture"
		bad=1
	fi
	# flags and payload length of every packet, e.g. "0x0002 0".
	mapfile -t pk < <(tshark -r "$f" -T fields -e tcp.flags -e tcp.len 2>/dev/null)
	if [[ $name == *started-late* ]]; then
		if (((${pk[0]%%	*} & 0x02) != 0)); then
			echo "check: $name: starts with a SYN, not mid-connection: ${pk[0]}"
			bad=1
		fi
	elif [ "${pk[0]}" != "0x0002	0" ]; then
		echo "check: $name: first packet is not a bare SYN: ${pk[0]}"
		bad=1
	fi
	last=-1
	for i in "${!pk[@]}"; do
		flags=$((${pk[$i]%%	*}))
		if (((flags & 0x05) != 0)); then last=$i; fi
	done
	case $name in
	mixed-endings.pcap)
		echo "check: $name: ok (${#pk[@]} packets, merged, last connection open at end)"
		continue
		;;
	*open-at-end*)
		if ((last >= 0)); then
			echo "check: $name: has a FIN/RST"
			bad=1
		else
			echo "check: $name: ok (${#pk[@]} packets, open at end)"
		fi
		continue
		;;
	esac
	if ((last < 0)); then
		echo "check: $name: no FIN or RST"
		bad=1
		continue
	fi
	for ((i = last + 1; i < ${#pk[@]}; i++)); do
		if [ "${pk[$i]}" != "0x0010	0" ]; then
			echo "check: $name: packet $((i + 1)) after the last FIN/RST is not a bare ACK: ${pk[$i]}"
			bad=1
		fi
	done
	echo "check: $name: ok (${#pk[@]} packets)"
done
exit $bad
