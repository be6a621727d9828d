package statepack

import (
	"encoding/binary"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"
)

type inner struct {
	on   bool
	code uint16
	key  [3]byte
	when int64
	at   time.Time
}

type sample struct {
	a     int8
	b     int32
	c     uint32
	d     uint64
	e     int
	p     *int // not packed
	dirs  [2]inner
	name  string // not packed
	tail  bool
	flags [70]bool  // two runs of bools
	raw   [11]uint8 // two runs of bytes
}

var samplePlan = New(reflect.TypeFor[sample](), "p", "name")

func TestRoundTrip(t *testing.T) {
	const base = 1_700_000_000_123_456_789
	x := 7
	cases := []struct {
		name string
		v    sample
	}{
		{"zero", sample{}},
		{"small", sample{a: -1, b: -2, c: 3, d: 4, e: -5, tail: true}},
		{"runs", sample{flags: [70]bool{0: true, 63: true, 64: true, 69: true}, raw: [11]uint8{0: 1, 7: 255, 8: 9, 10: 255}}},
		{"extremes", sample{a: math.MinInt8, b: math.MinInt32, c: math.MaxUint32, d: math.MaxUint64, e: math.MinInt64}},
		{"near base", sample{dirs: [2]inner{{on: true, code: 1006, key: [3]byte{1, 2, 255}, when: base + 1}, {when: base - 5}}}},
		{"far from both", sample{d: 1 << 63, dirs: [2]inner{{when: math.MinInt64}, {when: math.MaxInt64}}}},
		{"times", sample{dirs: [2]inner{{at: time.Unix(0, base+7).UTC()}, {at: time.Unix(0, 0).UTC()}}}},
		{"time before 1970", sample{dirs: [2]inner{{at: time.Date(1969, 7, 20, 20, 17, 40, 5, time.UTC)}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, ok := samplePlan.Append([]byte{0xee}, unsafe.Pointer(&tc.v), base)
			if !ok || b[0] != 0xee {
				t.Fatalf("Append overwrote the bytes before it")
			}
			got := sample{p: &x, name: "kept"}
			rest, ok := samplePlan.Read(append(b[1:], 0xaa), unsafe.Pointer(&got), base)
			if !ok || len(rest) != 1 || rest[0] != 0xaa {
				t.Fatalf("Read: ok %v, rest %x, want ok and the byte after", ok, rest)
			}
			want := tc.v
			want.p, want.name = &x, "kept" // the caller's
			if got != want {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
}

// TestNearBaseIsShort checks what the encoding is for: a time a few seconds after the
// base costs a few bytes, not nine, and zeros one bit each.
func TestNearBaseIsShort(t *testing.T) {
	// a-e; on, code, key (a run), when and at twice; tail with flags (64 and 6 bools); raw
	// (8 and 3 bytes).
	if n := samplePlan.Fields(); n != 19 {
		t.Errorf("the sample Plan has %d fields, want 19", n)
	}
	const base = 1_700_000_000_000_000_000
	v := sample{dirs: [2]inner{{when: base + 3_000_000_000}}}
	b, _ := samplePlan.Append(nil, unsafe.Pointer(&v), base)
	if want := (samplePlan.Fields()+7)/8 + 5; len(b) > want {
		t.Errorf("packed %d bytes, want at most %d (%d fields)", len(b), want, samplePlan.Fields())
	}
}

func TestNewRejectsUnnamedPointers(t *testing.T) {
	cases := []struct {
		name string
		typ  reflect.Type
		skip []string
		want string
	}{
		{"pointer not named", reflect.TypeFor[sample](), []string{"name"}, `field "p"`},
		{"named field holds none", reflect.TypeFor[sample](), []string{"p", "name", "a"}, `"a" holds no pointer`},
		{"name matches nothing", reflect.TypeFor[sample](), []string{"p", "name", "nope"}, `no field "nope"`},
		{"nested pointer", reflect.TypeFor[struct{ x [2]struct{ s []byte } }](), nil, `field "x.s"`},
		{"float", reflect.TypeFor[struct{ f float64 }](), nil, `field "f" is a float64`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.Contains(s, tc.want) {
					t.Errorf("panic %v, want one containing %q", r, tc.want)
				}
			}()
			New(tc.typ, tc.skip...)
		})
	}
}

// TestTimesThatDoNotComeBack: a time that its UnixNano would not give back exactly is
// refused, not changed.
func TestTimesThatDoNotComeBack(t *testing.T) {
	cases := []struct {
		name string
		at   time.Time
	}{
		{"monotonic reading", time.Now()},
		{"local zone", time.Unix(1e9, 0).In(time.FixedZone("X", 3600))},
		{"after 2262", time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tc := range cases {
		v := sample{dirs: [2]inner{{at: tc.at}}}
		if _, ok := samplePlan.Append(nil, unsafe.Pointer(&v), 0); ok {
			t.Errorf("%s: Append of %v: ok", tc.name, tc.at)
		}
	}
}

func TestReadRejectsDamage(t *testing.T) {
	var v sample
	b, _ := samplePlan.Append(nil, unsafe.Pointer(&v), 0)
	if _, ok := samplePlan.Read(b[:len(b)-1], unsafe.Pointer(&v), 0); ok {
		t.Errorf("Read of a short record: ok")
	}
	bad := append([]byte{}, b...)
	bad[len(bad)-1] = 2 // tail is a bool
	if _, ok := samplePlan.Read(bad, unsafe.Pointer(&v), 0); ok {
		t.Errorf("Read of a bool 2: ok")
	}
}

func FuzzRoundTrip(f *testing.F) {
	f.Add(make([]byte, unsafe.Sizeof(sample{})), int64(0))
	f.Add([]byte{0xff, 0x80, 1, 2, 3, 4, 5, 6, 7, 8, 9}, int64(math.MinInt64))
	f.Fuzz(func(t *testing.T, raw []byte, base int64) {
		// Any bytes must read without a panic.
		var junk sample
		samplePlan.Read(raw, unsafe.Pointer(&junk), base)

		// Any values must come back.
		var v sample
		get := func(i int) uint64 {
			var w [8]byte
			copy(w[:], raw[min(8*i, len(raw)):])
			return binary.LittleEndian.Uint64(w[:])
		}
		v.a, v.b, v.c, v.d, v.e = int8(get(0)), int32(get(1)), uint32(get(2)), get(3), int(get(4))
		v.dirs[0] = inner{on: get(5)&1 != 0, code: uint16(get(6)), key: [3]byte{byte(get(7)), 0, 9}, when: int64(get(8))}
		v.dirs[1].when = base + int64(get(9)%1000) - 500
		v.tail = get(10)&1 != 0
		for i := range v.flags {
			v.flags[i] = get(12)>>(i%64)&1 != 0
		}
		for i := range v.raw {
			v.raw[i] = byte(get(13+i/8) >> (8 * (i % 8)))
		}
		v.dirs[1].at = time.Unix(0, int64(get(11))).UTC()
		b, ok := samplePlan.Append(nil, unsafe.Pointer(&v), base)
		if !ok {
			t.Fatalf("Append refused %+v", v)
		}
		var got sample
		if rest, ok := samplePlan.Read(b, unsafe.Pointer(&got), base); !ok || len(rest) != 0 || got != v {
			t.Fatalf("got %+v (ok %v, %d left), want %+v", got, ok, len(rest), v)
		}
	})
}
