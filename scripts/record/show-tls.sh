#!/usr/bin/env bash
# show-tls.sh FILE... prints every packet of a wss capture decrypted with the
# key log next to it (FILE without its extension, plus .keys; a pcapng with a
# Decryption Secrets Block needs none): TCP flags, TLS record types, version,
# suite, alerts and the WebSocket fields, to check testdata/tls/README.md.
set -euo pipefail
for f in "$@"; do
	echo "== $f"
	keys=()
	[ -f "${f%.*}.keys" ] && keys=(-o "tls.keylog_file:${f%.*}.keys")
	tshark -r "$f" "${keys[@]}" -o tcp.reassemble_out_of_order:TRUE -T fields -E occurrence=a -E aggregator=, \
		-e frame.number -e frame.time_relative -e tcp.srcport -e tcp.dstport -e tcp.flags.str -e tcp.len \
		-e tls.record.content_type -e tls.handshake.type -e tls.handshake.ciphersuite \
		-e tls.alert_message.desc -e http.request.method -e http.response.code \
		-e websocket.opcode -e websocket.mask -e websocket.payload.close.status_code \
		-e websocket.payload.close.reason -e websocket.payload.text -e _ws.expert.message
done
