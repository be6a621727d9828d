package tlsdec

import (
	"crypto/hkdf"
	"crypto/hmac"
)

// expandLabel is TLS 1.3's HKDF-Expand-Label (RFC 8446, section 7.1) with an empty context.
// It returns nil if HKDF refuses the request.
func expandLabel(h hashKind, secret []byte, label string, length int) []byte {
	full := "tls13 " + label
	info := make([]byte, 0, 4+len(full))
	info = append(info, byte(length>>8), byte(length), byte(len(full)))
	info = append(info, full...)
	info = append(info, 0) // empty context
	out, err := hkdf.Expand(h.newHash(), secret, string(info), length)
	if err != nil {
		// Only a length over 255 hash outputs (or a FIPS-only restriction) fails; a nil
		// key then makes the cipher unusable instead of panicking.
		return nil
	}
	return out
}

// nextTrafficSecret is the TLS 1.3 KeyUpdate step (RFC 8446, section 7.2).
func nextTrafficSecret(h hashKind, secret []byte) []byte {
	return expandLabel(h, secret, "traffic upd", h.size())
}

// prf12 is the TLS 1.2 PRF (RFC 5246, section 5): P_hash(secret, label ‖ seed), n bytes.
func prf12(h hashKind, secret []byte, label string, seed []byte, n int) []byte {
	mac := hmac.New(h.newHash(), secret)
	labelSeed := append([]byte(label), seed...)
	out := make([]byte, 0, n+h.size())
	a := labelSeed // A(0)
	for len(out) < n {
		mac.Reset()
		mac.Write(a)
		a = mac.Sum(nil) // A(i)
		mac.Reset()
		mac.Write(a)
		mac.Write(labelSeed)
		out = mac.Sum(out)
	}
	return out[:n]
}
