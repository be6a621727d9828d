#!/usr/bin/env bash
# show.sh FILE... prints every packet of a capture with its TCP flags and the
# WebSocket fields tshark decodes, to check testdata/pcaps/README.md by hand.
set -euo pipefail
for f in "$@"; do
	echo "== $f"
	tshark -r "$f" -o tcp.reassemble_out_of_order:TRUE -d tcp.port==9161,http -d tcp.port==9261,websocket -T fields -E occurrence=a -E aggregator=, \
		-e frame.number -e frame.time_relative -e tcp.srcport -e tcp.dstport -e tcp.flags.str -e tcp.len \
		-e http.request.method -e http.response.code -e websocket.opcode \
		-e websocket.payload.close.status_code -e websocket.payload.close.reason \
		-e websocket.payload.text -e _ws.expert.message
done
