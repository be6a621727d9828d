// Package statepack writes the numbers of a struct as varints and reads them back, so that the
// state of an idle connection can wait in a few hundred pointer-free bytes (see
// layers.Factory.Sleep) instead of in its structs.
//
// A Plan is made once per type, by reflection: it lists the struct's scalar fields (of
// nested structs and arrays too) with their offsets. Fields that hold pointers (pointers,
// interfaces, slices, strings, maps, funcs, channels) are not packed: the caller names each
// of them when making the Plan, and keeps or rebuilds them itself. New panics on one it was
// not told about, so that a field added later cannot be lost silently by a sleeping
// connection: every test that makes the Plan fails first.
//
// Encoding: a bitmap of the fields that are not zero (most of an idle connection's are),
// then each of those in order as a uvarint; signed ones zigzag-encoded; 64-bit ones and
// times either as themselves or as the difference from a base the caller gives (a
// connection's start, which its times are near), whichever is shorter, with bits saying
// which.
package statepack

import (
	"encoding/binary"
	"fmt"
	"reflect"
	"slices"
	"time"
	"unsafe"
)

// field is one scalar field of a Plan, or a run of adjacent bools or bytes packed as one
// (an idle connection's flags are mostly false, its byte arrays mostly zero).
type field struct {
	off    uintptr
	size   uint8 // 1, 2, 4 or 8; for a run, how many (bools: up to 64; bytes: up to 8)
	signed bool
	isBool bool // 0 or 1, which Read checks
	isTime bool // a time.Time (size 0)
	bools  bool // a run of size bools, as a bit mask
	bytes  bool // a run of size bytes, little-endian
}

var timeType = reflect.TypeFor[time.Time]()

// Plan packs the scalar fields of one struct type.
type Plan struct {
	typ    reflect.Type
	fields []field
}

// New returns the Plan of struct type t. skip names the fields that hold pointers, by
// their paths from t ("dirs.http" for field http of every element of array field dirs);
// they are not packed, and it panics if t has another one, or if a name in skip matches
// no such field.
func New(t reflect.Type, skip ...string) *Plan {
	p := &Plan{typ: t}
	used := make([]bool, len(skip))
	p.walk(t, 0, "", skip, used)
	p.fields = runs(p.fields)
	for i, u := range used {
		if !u {
			panic(fmt.Sprintf("statepack: %v has no field %q that holds pointers", t, skip[i]))
		}
	}
	return p
}

func (p *Plan) walk(t reflect.Type, off uintptr, path string, skip []string, used []bool) {
	if t == timeType {
		p.fields = append(p.fields, field{off: off, isTime: true})
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			name := f.Name
			if path != "" {
				name = path + "." + f.Name
			}
			if k := slices.Index(skip, name); k >= 0 {
				if !hasPointers(f.Type) {
					panic(fmt.Sprintf("statepack: %v field %q holds no pointer: pack it", p.typ, name))
				}
				used[k] = true
				continue
			}
			p.walk(f.Type, off+f.Offset, name, skip, used)
		}
	case reflect.Array:
		for i := range t.Len() {
			p.walk(t.Elem(), off+uintptr(i)*t.Elem().Size(), path, skip, used)
		}
	case reflect.Bool:
		p.fields = append(p.fields, field{off: off, size: 1, isBool: true})
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uint, reflect.Uintptr:
		p.fields = append(p.fields, field{off: off, size: uint8(t.Size())})
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		p.fields = append(p.fields, field{off: off, size: uint8(t.Size()), signed: true})
	default:
		panic(fmt.Sprintf("statepack: %v field %q is a %v: name it in skip and keep it yourself", p.typ, path, t.Kind()))
	}
}

// runs merges the adjacent bools, and the adjacent unsigned bytes, of fields into runs.
func runs(fields []field) []field {
	var out []field
	for _, f := range fields {
		if n := len(out); n > 0 {
			r := &out[n-1]
			switch {
			case f.isBool && (r.bools || r.isBool) && r.off+uintptr(r.size) == f.off && r.size < 64:
				r.bools, r.isBool, r.size = true, false, r.size+1
				continue
			case f.size == 1 && !f.isBool && !f.signed && !f.isTime && (r.bytes || (r.size == 1 && !r.isBool && !r.signed && !r.isTime && !r.bools)) &&
				r.off+uintptr(r.size) == f.off && r.size < 8:
				r.bytes, r.size = true, r.size+1
				continue
			}
		}
		out = append(out, f)
	}
	return out
}

// hasPointers reports whether a value of t holds a pointer the collector sees.
func hasPointers(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Struct:
		for i := range t.NumField() {
			if hasPointers(t.Field(i).Type) {
				return true
			}
		}
		return false
	case reflect.Array:
		return t.Len() > 0 && hasPointers(t.Elem())
	case reflect.Ptr, reflect.Interface, reflect.Slice, reflect.String, reflect.Map, reflect.Func,
		reflect.Chan, reflect.UnsafePointer:
		return true
	}
	return false
}

// Fields returns how many fields the Plan packs, a run of bools or bytes counting as one.
func (p *Plan) Fields() int { return len(p.fields) }

// Append appends the packed scalar fields of *v, a value of the Plan's type, to b. base is
// what 64-bit fields may be packed relative to. ok is false, and b to be dropped, if a
// time.Time field does not come back from its UnixNano (a local time, a monotonic reading,
// a time too far from 1970).
func (p *Plan) Append(b []byte, v unsafe.Pointer, base int64) (_ []byte, ok bool) {
	at := len(b)
	b = append(b, make([]byte, (len(p.fields)+7)/8)...) // the bitmap, filled in below
	for i, f := range p.fields {
		u, zero, ok := f.get(v)
		switch {
		case !ok:
			return b, false
		case zero:
			continue
		case f.size == 8 || f.isTime:
			b = appendWide(b, u, uint64(base))
		default:
			b = binary.AppendUvarint(b, u)
		}
		b[at+i/8] |= 1 << (i % 8)
	}
	return b, true
}

// get returns the value of field f of *v to write, whether it is zero, and false for a
// time that would not come back.
func (f *field) get(v unsafe.Pointer) (u uint64, zero, ok bool) {
	at := unsafe.Add(v, f.off)
	switch {
	case f.isTime:
		t := *(*time.Time)(at)
		if t.IsZero() {
			return 0, true, true
		}
		ns := t.UnixNano()
		return uint64(ns), false, time.Unix(0, ns).UTC() == t
	case f.bools:
		u = boolBits(unsafe.Slice((*byte)(at), f.size))
	case f.bytes:
		var w [8]byte
		copy(w[:], unsafe.Slice((*byte)(at), f.size))
		u = binary.LittleEndian.Uint64(w[:])
	case f.size == 1:
		u = uint64(*(*uint8)(at))
	case f.size == 2:
		u = zig(uint64(*(*uint16)(at)), f.signed, 16)
	case f.size == 4:
		u = zig(uint64(*(*uint32)(at)), f.signed, 32)
	default:
		u = *(*uint64)(at)
	}
	return u, u == 0, true
}

// Read sets the scalar fields of *v, a value of the Plan's type, from what Append wrote
// at the start of b with the same base, and returns the rest of b. The fields not packed
// are left as they are. ok is false if b is too short or malformed; the fields are then
// partly set.
func (p *Plan) Read(b []byte, v unsafe.Pointer, base int64) (rest []byte, ok bool) {
	nb := (len(p.fields) + 7) / 8
	if len(b) < nb {
		return b, false
	}
	bits, b := b[:nb], b[nb:]
	for i := range p.fields {
		f := &p.fields[i]
		if bits[i/8]&(1<<(i%8)) == 0 {
			f.clear(v)
			continue
		}
		var u uint64
		var n int
		if f.size == 8 || f.isTime {
			u, n = readWide(b, uint64(base))
		} else {
			u, n = binary.Uvarint(b)
		}
		if n <= 0 || !f.set(v, u) {
			return b, false
		}
		b = b[n:]
	}
	return b, true
}

// clear sets field f of *v to zero.
func (f *field) clear(v unsafe.Pointer) {
	at := unsafe.Add(v, f.off)
	switch {
	case f.isTime:
		*(*time.Time)(at) = time.Time{}
	case f.bools || f.bytes:
		clear(unsafe.Slice((*uint8)(at), f.size))
	case f.size == 1:
		*(*uint8)(at) = 0
	case f.size == 2:
		*(*uint16)(at) = 0
	case f.size == 4:
		*(*uint32)(at) = 0
	default:
		*(*uint64)(at) = 0
	}
}

// set sets field f of *v from u as get returned it, reporting false for a value the field
// cannot hold.
func (f *field) set(v unsafe.Pointer, u uint64) bool {
	at := unsafe.Add(v, f.off)
	switch {
	case f.isTime:
		*(*time.Time)(at) = time.Unix(0, int64(u)).UTC()
	case f.bools:
		if f.size < 64 && u >= 1<<f.size {
			return false
		}
		setBools(unsafe.Slice((*byte)(at), f.size), u)
	case f.bytes:
		if f.size < 8 && u >= 1<<(8*f.size) {
			return false
		}
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], u)
		copy(unsafe.Slice((*byte)(at), f.size), w[:])
	case f.size == 1:
		if u > 0xff || (f.isBool && u > 1) {
			return false
		}
		*(*uint8)(at) = uint8(u)
	case f.size == 2:
		*(*uint16)(at) = uint16(unzig(u, f.signed))
	case f.size == 4:
		*(*uint32)(at) = uint32(unzig(u, f.signed))
	default:
		*(*uint64)(at) = u
	}
	return true
}

// boolBits returns the bools of b (each byte 0 or 1) as a bit mask, bit i for b[i], eight
// at a time: multiplying a word of 0/1 bytes by 0x0102040810204080 gathers them in its top
// byte.
func boolBits(b []byte) uint64 {
	var u uint64
	for i := 0; i < len(b); i += 8 {
		var w [8]byte
		copy(w[:], b[i:])
		u |= (binary.LittleEndian.Uint64(w[:]) & 0x0101010101010101 * 0x0102040810204080 >> 56) << i
	}
	return u
}

// setBools undoes boolBits: each byte of a word gets its bit (the byte copies of the
// mask's low byte, each kept to its own bit, made 0 or 1).
func setBools(b []byte, u uint64) {
	for i := 0; i < len(b); i += 8 {
		m := (u >> i & 0xff) * 0x0101010101010101 & 0x8040201008040201
		m = (m + 0x7f7f7f7f7f7f7f7f) >> 7 & 0x0101010101010101
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], m)
		copy(b[i:], w[:])
	}
}

// zig returns the value to write of a field of the given bits: a signed one zigzag-encoded,
// so that -1 is 1 byte, not 5 or 10.
func zig(u uint64, signed bool, bits uint) uint64 {
	if !signed {
		return u
	}
	s := int64(u<<(64-bits)) >> (64 - bits) // sign-extended
	return uint64(s<<1) ^ uint64(s>>63)
}

// unzig undoes zig (the caller truncates to the field's size).
func unzig(u uint64, signed bool) uint64 {
	if !signed {
		return u
	}
	return u>>1 ^ -(u & 1)
}

// appendWide appends a 64-bit field as a uvarint whose low two bits say how: 0, itself
// zigzag-encoded; 1, its difference from base zigzag-encoded; 2, the 8 raw bytes follow
// (for a value far from both 0 and base, as a nanoTime's farTime is).
func appendWide(b []byte, u, base uint64) []byte {
	self, rel := zig(u, true, 64), zig(u-base, true, 64)
	switch {
	case rel < self && rel < 1<<62:
		return binary.AppendUvarint(b, rel<<2|1)
	case self < 1<<62:
		return binary.AppendUvarint(b, self<<2)
	}
	b = append(b, 2)
	return binary.LittleEndian.AppendUint64(b, u)
}

// readWide reads what appendWide wrote at the start of b.
func readWide(b []byte, base uint64) (u uint64, n int) {
	v, n := binary.Uvarint(b)
	switch {
	case n <= 0:
		return 0, n
	case v&3 == 0:
		return unzig(v>>2, true), n
	case v&3 == 1:
		return unzig(v>>2, true) + base, n
	case v == 2 && len(b) >= n+8:
		return binary.LittleEndian.Uint64(b[n:]), n + 8
	}
	return 0, -1
}
