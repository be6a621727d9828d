#!/usr/bin/env bash
# summary.sh FILE prints a capture as one line per packet that is not a bare
# ACK: side (C or S:port for the fixed server ports 9100-9299), TCP flags,
# payload length, HTTP method/status, WebSocket opcode, close code and reason.
# Two recordings of a scenario should give the same summary.
set -euo pipefail
tshark -r "$1" -o tcp.reassemble_out_of_order:TRUE -T fields -E occurrence=f \
	-e tcp.srcport -e tcp.flags.str -e tcp.len -e http.request.method -e http.response.code \
	-e websocket.opcode -e websocket.payload.close.status_code -e websocket.payload.close.reason 2>/dev/null |
	awk -F'\t' '{
		side = ($1 >= 9100 && $1 < 9300) ? "S:" $1 : "C";
		fl = $2; gsub(/·/, "", fl);
		if (fl == "A" && $3 == 0) next;
		printf "%s %s len=%s %s%s op=%s %s %s\n", side, fl, $3, $4, $5, $6, $7, $8
	}'
