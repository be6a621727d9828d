package report

import (
	"encoding/json"
	"testing"
)

// TestSideJSON: a side is written as the record has always written it ("client", "server",
// "" for none, null for a nil pointer) and read back the same; anything else is an error.
func TestSideJSON(t *testing.T) {
	type doc struct {
		First *Side `json:"first"`
		From  Side  `json:"from"`
	}
	for _, tt := range []struct {
		in   doc
		want string
	}{
		{doc{new(SideClient), SideServer}, `{"first":"client","from":"server"}`},
		{doc{nil, SideNone}, `{"first":null,"from":""}`},
	} {
		b, err := json.Marshal(tt.in)
		if err != nil || string(b) != tt.want {
			t.Errorf("Marshal(%+v) = %s, %v; want %s", tt.in, b, err, tt.want)
			continue
		}
		var back doc
		if err := json.Unmarshal(b, &back); err != nil || back.From != tt.in.From ||
			(back.First == nil) != (tt.in.First == nil) || (back.First != nil && *back.First != *tt.in.First) {
			t.Errorf("Unmarshal(%s) = %+v, %v", b, back, err)
		}
	}
	var s Side
	if err := json.Unmarshal([]byte(`"proxy"`), &s); err == nil {
		t.Error(`Unmarshal("proxy") succeeded`)
	}
	if SideClient.Other() != SideServer || SideServer.Other() != SideClient || SideNone.Other() != SideNone {
		t.Error("Other")
	}
}
