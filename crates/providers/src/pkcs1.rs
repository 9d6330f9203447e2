//! RSASSA-PKCS1-v1_5 with an explicit DigestInfo (RFC 8017), for the providers that sign or
//! verify with RSA: Amazon SNS (SHA-1 and SHA-256 certificates), Vonage (RS256 JWTs).

use rsa::pkcs1v15::Pkcs1v15Sign;

/// DigestInfo prefix of SHA-1 (RFC 8017, section 9.2, note 1).
pub const SHA1_DIGEST_INFO: &[u8] = &[
    0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14,
];
/// DigestInfo prefix of SHA-256.
pub const SHA256_DIGEST_INFO: &[u8] = &[
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

/// The PKCS#1 v1.5 scheme over a digest of `hash_len` bytes with this prefix.
pub fn pkcs1v15(digest_info: &[u8], hash_len: usize) -> Pkcs1v15Sign {
    Pkcs1v15Sign {
        hash_len: Some(hash_len),
        prefix: digest_info.into(),
    }
}
