package tlsdec

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"hash"
)

// bulkKind is a suite's record protection.
type bulkKind uint8

const (
	bulkAESGCM bulkKind = iota + 1
	bulkChaCha
	bulkAESCBC
)

// hashKind is a suite's hash: the TLS 1.3 HKDF hash, the TLS 1.2 PRF hash, or a CBC MAC.
type hashKind uint8

const (
	hashSHA1 hashKind = iota + 1
	hashSHA256
	hashSHA384
)

// newHash returns the hash constructor for h.
func (h hashKind) newHash() func() hash.Hash {
	switch h {
	case hashSHA1:
		return sha1.New
	case hashSHA384:
		return sha512.New384
	default:
		return sha256.New
	}
}

// size is the output length of h.
func (h hashKind) size() int {
	switch h {
	case hashSHA1:
		return sha1.Size
	case hashSHA384:
		return sha512.Size384
	default:
		return sha256.Size
	}
}

// suite describes a cipher suite this package can decrypt.
type suite struct {
	id     uint16
	name   string
	tls13  bool
	bulk   bulkKind
	keyLen int
	prf    hashKind // TLS 1.3: HKDF hash; TLS 1.2: PRF hash
	mac    hashKind // CBC only
}

// suites lists the decryptable suites. Names are IANA's.
var suites = []suite{
	{0x1301, "TLS_AES_128_GCM_SHA256", true, bulkAESGCM, 16, hashSHA256, 0},
	{0x1302, "TLS_AES_256_GCM_SHA384", true, bulkAESGCM, 32, hashSHA384, 0},
	{0x1303, "TLS_CHACHA20_POLY1305_SHA256", true, bulkChaCha, 32, hashSHA256, 0},

	{0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", false, bulkAESGCM, 16, hashSHA256, 0},
	{0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", false, bulkAESGCM, 32, hashSHA384, 0},
	{0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", false, bulkAESGCM, 16, hashSHA256, 0},
	{0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", false, bulkAESGCM, 32, hashSHA384, 0},
	{0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", false, bulkAESGCM, 16, hashSHA256, 0},
	{0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", false, bulkAESGCM, 32, hashSHA384, 0},
	{0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256", false, bulkAESGCM, 16, hashSHA256, 0},
	{0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384", false, bulkAESGCM, 32, hashSHA384, 0},
	{0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", false, bulkChaCha, 32, hashSHA256, 0},
	{0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", false, bulkChaCha, 32, hashSHA256, 0},
	{0xccaa, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", false, bulkChaCha, 32, hashSHA256, 0},

	{0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", false, bulkAESCBC, 16, hashSHA256, hashSHA1},
	{0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", false, bulkAESCBC, 32, hashSHA256, hashSHA1},
	{0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", false, bulkAESCBC, 16, hashSHA256, hashSHA1},
	{0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", false, bulkAESCBC, 32, hashSHA256, hashSHA1},
	{0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", false, bulkAESCBC, 16, hashSHA256, hashSHA256},
	{0xc023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", false, bulkAESCBC, 16, hashSHA256, hashSHA256},
	{0xc028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", false, bulkAESCBC, 32, hashSHA384, hashSHA384},
	{0xc024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", false, bulkAESCBC, 32, hashSHA384, hashSHA384},
	{0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA", false, bulkAESCBC, 16, hashSHA256, hashSHA1},
	{0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", false, bulkAESCBC, 32, hashSHA256, hashSHA1},
	{0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256", false, bulkAESCBC, 16, hashSHA256, hashSHA256},
	{0x003d, "TLS_RSA_WITH_AES_256_CBC_SHA256", false, bulkAESCBC, 32, hashSHA256, hashSHA256},
	{0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", false, bulkAESCBC, 16, hashSHA256, hashSHA1},
	{0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", false, bulkAESCBC, 32, hashSHA256, hashSHA1},
	{0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", false, bulkAESCBC, 16, hashSHA256, hashSHA256},
	{0x006b, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", false, bulkAESCBC, 32, hashSHA256, hashSHA256},
}

// suiteByID returns the decryptable suite with this id, or nil.
func suiteByID(id uint16) *suite {
	for i := range suites {
		if suites[i].id == id {
			return &suites[i]
		}
	}
	return nil
}

// suiteName returns the IANA name of a suite, or "0xXXXX" when unknown.
func suiteName(id uint16) string {
	if s := suiteByID(id); s != nil {
		return s.name
	}
	return tls.CipherSuiteName(id)
}

// versionName names a protocol version as it appears on the wire.
func versionName(v uint16) string {
	switch v {
	case 0x0300:
		return "SSL 3.0"
	case 0x0301:
		return "TLS 1.0"
	case 0x0302:
		return "TLS 1.1"
	case 0x0303:
		return "TLS 1.2"
	case 0x0304:
		return "TLS 1.3"
	}
	return ""
}
