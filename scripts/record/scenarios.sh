# scenarios.sh holds the scenario functions sourced by record-captures.sh.
# Each records one or more captures into $OUT with fixed ports.

# 1. gorilla client <-> gorilla server, clean close 1000 "bye", recorded at
# once on lo (Ethernet), any (SLL2), lo with ns timestamps and as pcapng; then
# the same over IPv6.
scenario_gorilla() {
	local f='tcp port 9101'
	cap_tcpdump "$OUT/gorilla-clean-close.pcap" "$f"
	cap_tcpdump_any "$OUT/gorilla-clean-close-sll2.pcap" "$f"
	cap_tcpdump "$OUT/gorilla-clean-close-nano.pcap" "$f" --time-stamp-precision=nano
	cap_dumpcap "$OUT/gorilla-clean-close.pcapng" "$f"
	begin
	peer "$WORK/peers" gorilla-clean-close 127.0.0.1:9101
	caps_stop
	gzip -9 -n -c "$OUT/gorilla-clean-close.pcap" >"$OUT/gorilla-clean-close.pcap.gz"

	cap_tcpdump "$OUT/gorilla-clean-close-ipv6.pcap" 'tcp port 9102'
	begin
	peer "$WORK/peers" gorilla-clean-close '[::1]:9102'
	caps_stop
}

# 2. Node ws server sends close 1011 "internal error", then resets the socket.
scenario_node() {
	cap_tcpdump "$OUT/node-ws-1011-then-rst.pcap" 'tcp port 9111'
	begin
	peer node "$REC/node/scenario.js" node-ws-1011-then-rst 9111
	caps_stop

	# 3. Node ws server closes 4001 "session expired", client echoes; clean.
	cap_tcpdump "$OUT/node-ws-server-4001.pcap" 'tcp port 9121'
	begin
	peer node "$REC/node/scenario.js" node-ws-server-4001 9121
	caps_stop
}

# 4. Python websockets: upgrade rejected with 403; server shutdown with 1001.
scenario_python() {
	cap_tcpdump "$OUT/python-websockets-403.pcap" 'tcp port 9131'
	begin
	peer "$PY" "$REC/scenario.py" 403 9131
	caps_stop

	cap_tcpdump "$OUT/python-websockets-1001.pcap" 'tcp port 9132'
	begin
	peer "$PY" "$REC/scenario.py" 1001 9132
	caps_stop
}

# 5. Headless Chromium as the client (playwright-core, /usr/bin/chromium).
scenario_chromium() {
	local s port=9141
	for s in chromium-ignored-subprotocol chromium-close-4000 chromium-bad-accept; do
		cap_tcpdump "$OUT/$s.pcap" "tcp port $port"
		begin
		CHROMIUM=$CHROMIUM peer node "$REC/node/scenario.js" "$s" "$port"
		caps_stop
		port=$((port + 1))
	done
}

# 6. nginx reverse proxy (front 9151, backend 9152) with proxy_read_timeout 2s:
# one message, then idle until nginx closes both legs. Both legs are captured.
scenario_nginx() {
	local prefix=$WORK/nginx
	mkdir -p "$prefix/logs" "$prefix/tmp"
	cp "$REC/nginx.conf" "$prefix/nginx.conf"
	nginx -p "$prefix" -c "$prefix/nginx.conf" -t 2>/dev/null || die "nginx config test failed"
	start_bg nginx -p "$prefix" -c "$prefix/nginx.conf" 2>>"$prefix/logs/stderr"
	local ngx=$BG
	local i
	for i in $(seq 1 50); do
		[ -s "$prefix/nginx.pid" ] && break
		sleep 0.1
	done
	cap_tcpdump "$OUT/nginx-idle-timeout.pcap" 'tcp port 9151 or tcp port 9152'
	begin
	peer node "$REC/node/scenario.js" nginx-idle-timeout 9151 9152
	caps_stop
	stop_bg "$ngx" QUIT
	grep -h 'timed out' "$prefix/logs/error.log" >&2 || true
}

# 7. Half closed: a close frame that is never answered with a close frame.
scenario_halfclosed() {
	cap_tcpdump "$OUT/node-ws-unanswered-close.pcap" 'tcp port 9161'
	begin
	peer node "$REC/node/scenario.js" node-ws-unanswered-close 9161
	caps_stop

	cap_tcpdump "$OUT/gorilla-close-then-fin.pcap" 'tcp port 9171'
	begin
	peer "$WORK/peers" gorilla-close-then-fin 127.0.0.1:9171
	caps_stop
}

# wait_for FILE PATTERN waits (at most 10 s) until FILE has a line matching PATTERN.
wait_for() {
	local i
	for i in $(seq 1 100); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	die "timed out waiting for '$2' in $1: $(cat "$1")"
}

# 8. Abnormal: client killed with SIGKILL; connection still open at the end.
scenario_abnormal() {
	local srv cli log=$WORK/abnormal.log
	: >"$log"
	cap_tcpdump "$OUT/python-websockets-client-killed.pcap" 'tcp port 9181'
	begin
	start_bg "$PY" "$REC/scenario.py" killed-server 9181 2>>"$log"
	srv=$BG
	sleep 0.5
	start_bg "$PY" "$REC/scenario.py" killed-client 9181 >>"$log" 2>&1
	cli=$BG
	wait_for "$log" '^ready'
	stop_bg "$cli" KILL
	sleep 0.3
	caps_stop
	stop_bg "$srv"
	cat "$log" >&2

	# The capture stops while the connection is open; the peers are ended
	# only after tcpdump has exited, so their teardown is not recorded.
	: >"$log"
	cap_tcpdump "$OUT/node-ws-open-at-end.pcap" 'tcp port 9182'
	begin
	start_bg node "$REC/node/scenario.js" node-ws-open-at-end 9182 2>>"$log"
	cli=$BG
	wait_for "$log" 'got echo'
	caps_stop
	stop_bg "$cli"
	cat "$log" >&2
}

# 9. coder/websocket client and server: server closes with 1008.
scenario_coder() {
	cap_tcpdump "$OUT/coder-websocket-1008.pcap" 'tcp port 9191'
	begin
	peer "$WORK/peers" coder-1008 127.0.0.1:9191
	caps_stop
}

# 10. A keep-alive HTTP GET, then the upgrade on the same TCP connection.
scenario_keepalive() {
	cap_tcpdump "$OUT/node-keepalive-then-upgrade.pcap" 'tcp port 9201'
	begin
	peer node "$REC/node/scenario.js" node-keepalive-then-upgrade 9201
	caps_stop
}

# wait_bg PID waits for a background peer to exit by itself, fails if it
# failed, and forgets it.
wait_bg() {
	local rc=0
	wait "$1" || rc=$?
	stop_bg "$1"
	[ "$rc" = 0 ] || die "background peer $1 exited with $rc"
}

# 11. Invalid close frames from a hand-written client (codes 1005, 1006, 999,
# a non-UTF-8 reason, then a valid 1000 as control), one connection each, to a
# Node ws server and to a Python websockets server.
scenario_invalidclose() {
	cap_tcpdump "$OUT/node-ws-invalid-close.pcap" 'tcp port 9211'
	begin
	peer node "$REC/node/scenario.js" node-ws-invalid-close 9211
	caps_stop

	cap_tcpdump "$OUT/python-websockets-invalid-close.pcap" 'tcp port 9212'
	begin
	peer "$PY" "$REC/scenario.py" invalid-close 9212
	caps_stop
}

# 12. The Python websockets client asks for subprotocol "chat", the server
# (websockets, no subprotocols) answers 101 without one, the client goes on.
# (Chromium against such a server: chromium-ignored-subprotocol, scenario 5.)
scenario_subprotocol() {
	cap_tcpdump "$OUT/python-websockets-ignored-subprotocol.pcap" 'tcp port 9221'
	begin
	peer "$PY" "$REC/scenario.py" ignored-subprotocol 9221
	caps_stop
}

# 13. Node ws server closes 1011 and resets 5 ms later, after the client's echo.
scenario_closereset() {
	cap_tcpdump "$OUT/node-ws-close-then-reset.pcap" 'tcp port 9231'
	begin
	peer node "$REC/node/scenario.js" node-ws-close-then-reset 9231
	caps_stop
}

# killed_pair PORT LOG: the Python client of scenario 8 is killed with SIGKILL
# after one echo; its server reports the end.
killed_pair() {
	local srv cli
	start_bg "$PY" "$REC/scenario.py" killed-server "$1" 2>>"$2"
	srv=$BG
	sleep 0.5
	start_bg "$PY" "$REC/scenario.py" killed-client "$1" >>"$2" 2>&1
	cli=$BG
	wait_for "$2" '^ready'
	stop_bg "$cli" KILL
	sleep 0.3
	stop_bg "$srv"
}

# 14. Seven connections with different endings in one capture with snaplen 96
# (tcpdump -s 96: 14 B Ethernet + 20 B IPv4 + 32 B TCP with timestamps leave
# 30 B of payload per packet): gorilla client close 1000 (9241), ws server
# close 4001 (9242), ws 1011 then RST (9243), Python 403 (9244), Python
# client killed (9245), Chromium close 4000 (9246, page on 10246), and ws
# frames longer than 30 B, client close 4000 with a 60-byte reason (9247).
scenario_snaplen() {
	local log=$WORK/snaplen.log
	: >"$log"
	cap_tcpdump "$OUT/snaplen96-mixed-endings.pcap" 'tcp portrange 9241-9247' -s 96
	begin
	peer "$WORK/peers" gorilla-clean-close 127.0.0.1:9241
	peer node "$REC/node/scenario.js" node-ws-server-4001 9242
	peer node "$REC/node/scenario.js" node-ws-1011-then-rst 9243
	peer "$PY" "$REC/scenario.py" 403 9244
	killed_pair 9245 "$log"
	CHROMIUM=$CHROMIUM peer node "$REC/node/scenario.js" chromium-close-4000 9246
	peer node "$REC/node/scenario.js" node-ws-long-frames 9247
	caps_stop
	cat "$log" >&2
}

# 15. WebSocket and other TCP protocols in one capture: a gorilla clean close
# (9251), an HTTP/1.1 download of a 20000-byte binary body (9252), DNS over
# TCP (9253), Modbus/TCP (9254) and TLS 1.3 with a throwaway self-signed
# certificate (9255).
scenario_mixedproto() {
	local o=$REC/other_protocols.py
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost \
		-addext subjectAltName=DNS:localhost -days 2 -keyout "$WORK/tls-key.pem" -out "$WORK/tls-cert.pem" 2>/dev/null ||
		die "openssl req failed"
	cap_tcpdump "$OUT/mixed-protocols.pcap" 'tcp portrange 9251-9255'
	begin
	peer "$WORK/peers" gorilla-clean-close 127.0.0.1:9251
	peer "$PY" "$o" http 9252
	peer "$PY" "$o" dns 9253
	peer "$PY" "$o" modbus 9254
	peer "$PY" "$o" tls 9255 "$WORK/tls-cert.pem" "$WORK/tls-key.pem"
	caps_stop
}

# 16. A capture started mid-stream: the upgrade and three messages happen
# before tcpdump runs; SIGUSR2 then makes the peers exchange one more message
# and close 1000 "done" (client first).
scenario_late() {
	local cli log=$WORK/late.log
	: >"$log"
	start_bg node "$REC/node/scenario.js" node-ws-capture-started-late 9261 >>"$log" 2>&1
	cli=$BG
	wait_for "$log" '^ready'
	cap_tcpdump "$OUT/node-ws-capture-started-late.pcap" 'tcp port 9261'
	begin
	kill -USR2 "$cli"
	wait_bg "$cli"
	caps_stop
	cat "$log" >&2
}

# 17. wss:// recordings with the key log of each, into $TLS_OUT (ports
# 9301-9320): a throwaway self-signed ECDSA P-256 certificate for 127.0.0.1 /
# localhost, made here. Node ws over https, TLS 1.3 (9301), also as a pcapng
# with the keys in a Decryption Secrets Block and with one server->client
# record deleted; Python websockets, server shutdown 1001 (9302); gorilla over
# TLS 1.2 AES-128-GCM (9303), TLS 1.2 ChaCha20-Poly1305 (9304), TLS 1.3
# (9305); headless Chromium to a Node ws server, page closes 4000 (9306, page
# on 10306); openssl s_client sending a KeyUpdate to a Node ws server (9307).
scenario_wss() {
	local o=$TLS_OUT log=$WORK/wss.log srv
	mkdir -p "$o"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost \
		-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -days 2 \
		-keyout "$WORK/wss-key.pem" -out "$WORK/wss-cert.pem" 2>/dev/null || die "openssl req failed"
	export WSS_CERT=$WORK/wss-cert.pem WSS_KEY=$WORK/wss-key.pem

	cap_tcpdump "$o/node-ws-wss-tls13.pcap" 'tcp port 9301'
	begin
	WSS_KEYLOG=$o/node-ws-wss-tls13.keys peer node "$REC/node/scenario.js" node-ws-wss-tls13 9301
	caps_stop
	editcap --inject-secrets "tls,$o/node-ws-wss-tls13.keys" "$o/node-ws-wss-tls13.pcap" "$o/node-ws-wss-dsb.pcapng"
	# The gap: delete the packet that carries "server message 2".
	local gap
	gap=$(tshark -r "$o/node-ws-wss-tls13.pcap" -o "tls.keylog_file:$o/node-ws-wss-tls13.keys" \
		-Y 'websocket.payload.text == "server message 2"' -T fields -e frame.number 2>/dev/null)
	[ -n "$gap" ] || die "no frame with \"server message 2\" in node-ws-wss-tls13.pcap"
	log "node-ws-wss-gap.pcap: frame $gap of node-ws-wss-tls13.pcap deleted"
	editcap -F pcap "$o/node-ws-wss-tls13.pcap" "$o/node-ws-wss-gap.pcap" "$gap"
	cp "$o/node-ws-wss-tls13.keys" "$o/node-ws-wss-gap.keys"

	cap_tcpdump "$o/python-websockets-wss.pcap" 'tcp port 9302'
	begin
	peer "$PY" "$REC/scenario.py" wss-1001 9302 "$WSS_CERT" "$WSS_KEY" "$o/python-websockets-wss.keys"
	caps_stop

	local s port=9303
	for s in tls12-gcm tls12-chacha tls13; do
		cap_tcpdump "$o/go-wss-$s.pcap" "tcp port $port"
		begin
		peer "$WORK/peers" "gorilla-wss-$s" "127.0.0.1:$port" "$WSS_CERT" "$WSS_KEY" "$o/go-wss-$s.keys"
		caps_stop
		port=$((port + 1))
	done

	cap_tcpdump "$o/chromium-wss.pcap" 'tcp port 9306'
	begin
	WSS_KEYLOG=$o/chromium-wss.keys CHROMIUM=$CHROMIUM peer node "$REC/node/scenario.js" chromium-wss 9306
	caps_stop

	: >"$log"
	start_bg node "$REC/node/scenario.js" node-ws-wss-server 9307 >>"$log" 2>&1
	srv=$BG
	wait_for "$log" '^listening'
	cap_tcpdump "$o/openssl-wss-keyupdate.pcap" 'tcp port 9307'
	begin
	peer "$PY" "$REC/scenario.py" keyupdate-client 9307 "$o/openssl-wss-keyupdate.keys"
	wait_bg "$srv"
	caps_stop
	cat "$log" >&2
	unset WSS_CERT WSS_KEY
}

# 18. WebSocket over HTTP/2 (RFC 8441) into testdata/h2 (ports 9401-9404): a Node
# http2 server with enableConnectProtocol; a Node http2 client over h2c (9401);
# headless Chromium over TLS with its key log, loading the page from the same
# server first so that the WebSocket goes on the same HTTP/2 connection (9402);
# then Go on both sides (h2_go: 9403 h2c, 9404 TLS).
scenario_h2() {
	local o=$ROOT/testdata/h2
	mkdir -p "$o"
	cap_tcpdump "$o/node-h2c.pcap" 'tcp port 9401'
	begin
	peer node "$REC/node/scenario.js" node-h2c 9401
	caps_stop

	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost \
		-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -days 2 \
		-keyout "$WORK/h2-key.pem" -out "$WORK/h2-cert.pem" 2>/dev/null || die "openssl req failed"
	cap_tcpdump "$o/chromium-h2-wss.pcap" 'tcp port 9402'
	begin
	WSS_CERT=$WORK/h2-cert.pem WSS_KEY=$WORK/h2-key.pem H2_KEYLOG=$o/chromium-h2-wss.keys CHROMIUM=$CHROMIUM \
		peer node "$REC/node/scenario.js" chromium-h2-wss 9402
	caps_stop

	h2_go "$o" "$WORK/h2-cert.pem" "$WORK/h2-key.pem"
}

# h2_go DIR CERT KEY: net/http's HTTP/2 server (GODEBUG=http2xconnect=1 makes it
# announce ENABLE_CONNECT_PROTOCOL and accept :protocol) and a golang.org/x/net/http2
# ClientConn, two extended CONNECT streams on one connection (stream 1: client close
# 1000 "done", echoed; stream 3: server close 1011, then RST_STREAM(INTERNAL_ERROR)),
# over h2c with prior knowledge (9403) and over TLS 1.3 with ALPN h2 and the client's
# key log (9404).
h2_go() {
	local o=$1
	cap_tcpdump "$o/go-h2c-wss.pcap" 'tcp port 9403' -U
	begin
	GODEBUG=http2xconnect=1 peer "$WORK/peers" go-h2c-wss 127.0.0.1:9403
	caps_stop

	cap_tcpdump "$o/go-h2-wss.pcap" 'tcp port 9404' -U
	begin
	GODEBUG=http2xconnect=1 peer "$WORK/peers" go-h2-wss 127.0.0.1:9404 "$2" "$3" "$o/go-h2-wss.keys"
	caps_stop
}

# start_nginx CONF starts nginx with a config from scripts/record in its own
# prefix and sets NGX to its pid.
start_nginx() {
	local prefix=$WORK/nginx-$1
	mkdir -p "$prefix/logs" "$prefix/tmp"
	cp "$REC/$1" "$prefix/nginx.conf"
	nginx -p "$prefix" -c "$prefix/nginx.conf" -t 2>/dev/null || die "nginx config test failed"
	start_bg nginx -p "$prefix" -c "$prefix/nginx.conf" 2>>"$prefix/logs/stderr"
	NGX=$BG
	local i
	for i in $(seq 1 50); do
		[ -s "$prefix/nginx.pid" ] && break
		sleep 0.1
	done
}

# proxy_case NAME MODE records one WebSocket through nginx (front 9201,
# backend 9202; python3-websockets at both ends) three times at once: both
# legs on lo into testdata/pcaps/NAME.pcap, and for --pair the client's side
# (port 9201) and the server's side (port 9202) separately into
# testdata/pair/NAME.client.pcap and NAME.server.pcap.
proxy_case() {
	local name=$1 mode=$2 pair=$ROOT/testdata/pair
	mkdir -p "$pair"
	start_bg "$PY" "$REC/proxy.py" backend 9202 "$mode" >"$WORK/backend.out"
	local be=$BG
	wait_for_port 9202
	cap_tcpdump "$OUT/$name.pcap" 'tcp port 9201 or tcp port 9202'
	cap_tcpdump "$pair/$name.client.pcap" 'tcp port 9201'
	cap_tcpdump "$pair/$name.server.pcap" 'tcp port 9202'
	begin
	if [ "$mode" = killed ]; then
		start_bg "$PY" "$REC/proxy.py" client 9201
		local cl=$BG
		wait_for "$WORK/backend.out" ready
		sleep 0.2
		stop_bg "$be" KILL
		wait "$cl" 2>/dev/null || true
	else
		peer "$PY" "$REC/proxy.py" client 9201
	fi
	caps_stop
	stop_bg "$be"
}

# wait_for_port PORT waits (at most 5 s) until something listens on 127.0.0.1:PORT.
wait_for_port() {
	local i
	for i in $(seq 1 50); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	die "nothing listens on port $1"
}

# 19. Proxy legs: nginx as a WebSocket proxy with (a) the backend's close 1000
# passed through, (b) proxy_read_timeout (2 s here, 60 s by default) ending
# both idle legs, (c) the backend killed with SIGKILL.
scenario_proxy() {
	start_nginx nginx-proxy.conf
	local ngx=$NGX
	proxy_case nginx-proxy-close-1000 close-1000
	proxy_case nginx-proxy-read-timeout idle
	proxy_case nginx-proxy-backend-killed killed
	stop_bg "$ngx" QUIT
}
