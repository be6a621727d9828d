module wsclosescan-record-peers

go 1.26

require (
	github.com/coder/websocket v1.8.15
	github.com/gorilla/websocket v1.5.3
)

require (
	golang.org/x/net v0.55.0
	golang.org/x/text v0.37.0 // indirect
)
