package tlsdec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"encoding/binary"
	"hash"

	"golang.org/x/crypto/chacha20poly1305"
)

// recordCipher opens the protected records of one direction under one key. It keeps its own
// scratch buffers, so opening a record allocates nothing for the AEAD suites.
type recordCipher struct {
	suite *suite
	tls13 bool
	aead  cipher.AEAD
	// iv is the TLS 1.3 or ChaCha20-Poly1305 IV (12 bytes), or the TLS 1.2 AES-GCM salt
	// (the first 4 bytes).
	iv    [12]byte
	nonce [12]byte
	aad   [13]byte
	// CBC suites.
	block  cipher.Block
	mac    hash.Hash
	macBuf []byte
	etm    bool
	// secret is the TLS 1.3 traffic secret this key came from, for KeyUpdate.
	secret []byte
	// seq is the sequence number of the next record.
	seq uint64
}

// newCipher13 derives a TLS 1.3 record key and IV from a traffic secret (RFC 8446, 7.3).
// It returns nil if the secret does not fit the suite.
func newCipher13(s *suite, secret []byte) *recordCipher {
	if len(secret) != s.prf.size() {
		return nil
	}
	key := expandLabel(s.prf, secret, "key", s.keyLen)
	iv := expandLabel(s.prf, secret, "iv", 12)
	aead := newAEAD(s.bulk, key)
	if aead == nil || len(iv) != 12 {
		return nil
	}
	rc := &recordCipher{suite: s, tls13: true, aead: aead, secret: secret}
	copy(rc.iv[:], iv)
	return rc
}

// newCipher12 builds a TLS 1.2 record cipher from its part of the key block.
func newCipher12(s *suite, key, iv, macKey []byte, etm bool) *recordCipher {
	rc := &recordCipher{suite: s}
	copy(rc.iv[:], iv)
	if s.bulk == bulkAESCBC {
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil
		}
		rc.block, rc.etm = block, etm
		rc.mac = hmac.New(s.mac.newHash(), macKey)
		rc.macBuf = make([]byte, 0, s.mac.size())
		return rc
	}
	rc.aead = newAEAD(s.bulk, key)
	if rc.aead == nil {
		return nil
	}
	return rc
}

// newAEAD returns the AEAD for a bulk cipher and key, or nil.
func newAEAD(b bulkKind, key []byte) cipher.AEAD {
	switch b {
	case bulkAESGCM:
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil
		}
		return aead
	case bulkChaCha:
		aead, err := chacha20poly1305.New(key)
		if err != nil {
			return nil
		}
		return aead
	}
	return nil
}

// keyUpdate returns the cipher for the next TLS 1.3 traffic secret, or nil.
func (rc *recordCipher) keyUpdate() *recordCipher {
	if rc == nil || !rc.tls13 {
		return nil
	}
	return newCipher13(rc.suite, nextTrafficSecret(rc.suite.prf, rc.secret))
}

// open authenticates and decrypts one record (hdr is its 5-byte header, body the rest) as
// the record with sequence number seq, appending the plaintext to dst[:0]. For TLS 1.3 it
// strips the padding and returns the inner content type; otherwise typ is hdr[0].
func (rc *recordCipher) open(dst []byte, hdr *[5]byte, body []byte, seq uint64) (plain []byte, typ uint8, ok bool) {
	switch {
	case rc.tls13:
		return rc.open13(dst, hdr, body, seq)
	case rc.block != nil:
		plain, ok = rc.openCBC(dst, hdr, body, seq)
		return plain, hdr[0], ok
	}
	plain, ok = rc.openAEAD12(dst, hdr, body, seq)
	return plain, hdr[0], ok
}

func (rc *recordCipher) open13(dst []byte, hdr *[5]byte, body []byte, seq uint64) ([]byte, uint8, bool) {
	if len(body) < rc.aead.Overhead()+1 {
		return nil, 0, false
	}
	rc.nonce = rc.iv
	xorSeq(&rc.nonce, seq)
	plain, err := rc.aead.Open(dst[:0], rc.nonce[:], body, hdr[:])
	if err != nil {
		return nil, 0, false
	}
	i := len(plain) - 1
	for i >= 0 && plain[i] == 0 {
		i--
	}
	if i < 0 {
		return nil, 0, false // all padding: no content type (RFC 8446, 5.4)
	}
	return plain[:i], plain[i], true
}

func (rc *recordCipher) openAEAD12(dst []byte, hdr *[5]byte, body []byte, seq uint64) ([]byte, bool) {
	if rc.suite.bulk == bulkAESGCM {
		if len(body) < 8+rc.aead.Overhead() {
			return nil, false
		}
		copy(rc.nonce[:4], rc.iv[:4])
		copy(rc.nonce[4:], body[:8])
		body = body[8:]
	} else {
		if len(body) < rc.aead.Overhead() {
			return nil, false
		}
		rc.nonce = rc.iv
		xorSeq(&rc.nonce, seq)
	}
	rc.fillAAD(hdr, seq, len(body)-rc.aead.Overhead())
	plain, err := rc.aead.Open(dst[:0], rc.nonce[:], body, rc.aad[:])
	return plain, err == nil
}

// openCBC handles AES-CBC with HMAC (TLS 1.1 and 1.2: explicit IV), MAC-then-encrypt or
// encrypt-then-MAC (RFC 7366).
func (rc *recordCipher) openCBC(dst []byte, hdr *[5]byte, body []byte, seq uint64) ([]byte, bool) {
	macLen := rc.mac.Size()
	if rc.etm {
		if len(body) < 2*aes.BlockSize+macLen {
			return nil, false
		}
		ct, tag := body[:len(body)-macLen], body[len(body)-macLen:]
		if !hmac.Equal(rc.sumMAC(hdr, seq, ct), tag) {
			return nil, false
		}
		plain, ok := rc.decryptCBC(dst, ct)
		if !ok {
			return nil, false
		}
		return unpad(plain)
	}
	if len(body) < aes.BlockSize+max(aes.BlockSize, macLen+1) {
		return nil, false
	}
	plain, ok := rc.decryptCBC(dst, body)
	if !ok {
		return nil, false
	}
	plain, ok = unpad(plain)
	if !ok || len(plain) < macLen {
		return nil, false
	}
	content, tag := plain[:len(plain)-macLen], plain[len(plain)-macLen:]
	return content, hmac.Equal(rc.sumMAC(hdr, seq, content), tag)
}

// decryptCBC decrypts IV ‖ ciphertext into dst.
func (rc *recordCipher) decryptCBC(dst, body []byte) ([]byte, bool) {
	if len(body) < 2*aes.BlockSize || len(body)%aes.BlockSize != 0 {
		return nil, false
	}
	iv, ct := body[:aes.BlockSize], body[aes.BlockSize:]
	if cap(dst) < len(ct) {
		dst = make([]byte, len(ct))
	}
	out := dst[:len(ct)]
	cipher.NewCBCDecrypter(rc.block, iv).CryptBlocks(out, ct)
	return out, true
}

// unpad strips TLS CBC padding: n+1 bytes, each n.
func unpad(b []byte) ([]byte, bool) {
	if len(b) == 0 {
		return nil, false
	}
	n := int(b[len(b)-1]) + 1
	if n > len(b) {
		return nil, false
	}
	for _, c := range b[len(b)-n:] {
		if int(c) != n-1 {
			return nil, false
		}
	}
	return b[:len(b)-n], true
}

// sumMAC is the TLS 1.2 record MAC: HMAC(seq ‖ type ‖ version ‖ length ‖ data).
func (rc *recordCipher) sumMAC(hdr *[5]byte, seq uint64, data []byte) []byte {
	rc.fillAAD(hdr, seq, len(data))
	rc.mac.Reset()
	rc.mac.Write(rc.aad[:])
	rc.mac.Write(data)
	rc.macBuf = rc.mac.Sum(rc.macBuf[:0])
	return rc.macBuf
}

// fillAAD writes the TLS 1.2 additional data seq ‖ type ‖ version ‖ length.
func (rc *recordCipher) fillAAD(hdr *[5]byte, seq uint64, n int) {
	binary.BigEndian.PutUint64(rc.aad[:8], seq)
	rc.aad[8], rc.aad[9], rc.aad[10] = hdr[0], hdr[1], hdr[2]
	binary.BigEndian.PutUint16(rc.aad[11:], uint16(n))
}

// xorSeq XORs the big-endian sequence number into the last 8 bytes of a nonce.
func xorSeq(nonce *[12]byte, seq uint64) {
	for i := 0; i < 8; i++ {
		nonce[11-i] ^= byte(seq >> (8 * i))
	}
}

// overhead12 is how many bytes a TLS 1.2 record adds to its plaintext, or -1 when that is
// not fixed (CBC padding).
func overhead12(s *suite) int {
	switch s.bulk {
	case bulkAESGCM:
		return 8 + 16
	case bulkChaCha:
		return 16
	}
	return -1
}
