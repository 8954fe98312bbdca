//! secp256r1 for `TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8` with raw public keys.
//!
//! * ECDHE (RFC 8422 §5.10): the premaster secret is the x-coordinate of
//!   the shared point, as a 32-byte big-endian string. Peers send
//!   uncompressed points only (RFC 8422 §5.1.2 deprecates the rest).
//! * ECDSA with SHA-256, DER-encoded signatures (RFC 8422 §5.4, §5.8).
//!   Signing is deterministic (RFC 6979), so a seeded run signs the same
//!   bytes every time.
//! * An RFC 7250 `RawPublicKey` certificate carries the DER
//!   `SubjectPublicKeyInfo` of the identity key (RFC 7250 §3).

use core::fmt;

use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey};
use p256::{FieldBytes, PublicKey, SecretKey};
use rand_core::CryptoRngCore;
use thiserror::Error;

use crate::redact::Redacted;

/// Length of an uncompressed secp256r1 point: `0x04 || x || y`.
pub const UNCOMPRESSED_POINT_LEN: usize = 65;

/// What was wrong with a key, point or signature.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EccError {
    /// Not a 65-byte uncompressed point (RFC 8422 §5.4.1 `ECPoint` with
    /// the uncompressed format).
    #[error("point is {len} bytes starting {first:#04x}; expected 65 bytes starting 0x04")]
    BadPointEncoding {
        /// Length of the encoding.
        len: usize,
        /// Its first byte (0 if empty).
        first: u8,
    },
    /// The coordinates do not lie on secp256r1 (RFC 8422 §5.11 public key
    /// validation).
    #[error("point is not on secp256r1")]
    PointNotOnCurve,
    /// A private scalar of the wrong length, zero, or not below the group
    /// order.
    #[error("private scalar must be 32 bytes in [1, n-1]")]
    BadScalar,
    /// A private key file that does not decode.
    #[error("private key does not decode as {format}")]
    BadPrivateKey {
        /// The encoding that was tried.
        format: &'static str,
    },
    /// Not a DER `SubjectPublicKeyInfo` for an id-ecPublicKey on
    /// secp256r1.
    #[error("not a DER SubjectPublicKeyInfo of a secp256r1 key")]
    BadSpki,
    /// Not a DER `ECDSA-Sig-Value` (RFC 8422 §5.4).
    #[error("signature is not a DER ECDSA-Sig-Value")]
    BadSignatureEncoding,
    /// The signature does not verify.
    #[error("ECDSA signature does not verify")]
    BadSignature,
}

fn uncompressed(public: &PublicKey) -> Vec<u8> {
    public.to_encoded_point(false).as_bytes().to_vec()
}

fn parse_uncompressed(point: &[u8]) -> Result<PublicKey, EccError> {
    if point.len() != UNCOMPRESSED_POINT_LEN || point.first() != Some(&0x04) {
        return Err(EccError::BadPointEncoding {
            len: point.len(),
            first: point.first().copied().unwrap_or(0),
        });
    }
    PublicKey::from_sec1_bytes(point).map_err(|_| EccError::PointNotOnCurve)
}

fn secret_from_scalar(scalar: &[u8]) -> Result<SecretKey, EccError> {
    if scalar.len() != 32 {
        return Err(EccError::BadScalar);
    }
    SecretKey::from_bytes(FieldBytes::from_slice(scalar)).map_err(|_| EccError::BadScalar)
}

/// An ephemeral ECDH key pair for one handshake.
#[derive(Clone)]
pub struct EphemeralKey {
    secret: SecretKey,
}

impl fmt::Debug for EphemeralKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EphemeralKey")
            .field("public", &hex::encode(self.public_point()))
            .field("secret", &Redacted)
            .finish()
    }
}

impl EphemeralKey {
    /// Draws a fresh key from the caller's RNG.
    pub fn generate(rng: &mut impl CryptoRngCore) -> Self {
        Self {
            secret: SecretKey::random(rng),
        }
    }

    /// A key with a given 32-byte big-endian private scalar, for known
    /// answers and replayed runs.
    pub fn from_scalar_bytes(scalar: &[u8]) -> Result<Self, EccError> {
        Ok(Self {
            secret: secret_from_scalar(scalar)?,
        })
    }

    /// The public point, uncompressed (65 bytes), as sent in
    /// ServerKeyExchange / ClientKeyExchange (RFC 8422 §5.4, §5.7).
    pub fn public_point(&self) -> Vec<u8> {
        uncompressed(&self.secret.public_key())
    }

    /// ECDH with the peer's uncompressed point; returns the premaster
    /// secret, the 32-byte x-coordinate of the shared point
    /// (RFC 8422 §5.10).
    pub fn agree(&self, peer_point: &[u8]) -> Result<Vec<u8>, EccError> {
        let peer = parse_uncompressed(peer_point)?;
        let shared = p256::ecdh::diffie_hellman(self.secret.to_nonzero_scalar(), peer.as_affine());
        Ok(shared.raw_secret_bytes().to_vec())
    }
}

/// A long-term ECDSA P-256 identity key, as an RFC 7250 raw-public-key
/// peer holds.
#[derive(Clone)]
pub struct IdentityKey {
    key: SigningKey,
}

impl fmt::Debug for IdentityKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityKey")
            .field("public", &hex::encode(self.public_point()))
            .field("secret", &Redacted)
            .finish()
    }
}

impl IdentityKey {
    /// Draws a fresh key from the caller's RNG.
    pub fn generate(rng: &mut impl CryptoRngCore) -> Self {
        Self {
            key: SigningKey::random(rng),
        }
    }

    /// From a DER PKCS #8 `PrivateKeyInfo` (RFC 5958).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, EccError> {
        let key = SigningKey::from_pkcs8_der(der).map_err(|_| EccError::BadPrivateKey {
            format: "PKCS #8 DER",
        })?;
        Ok(Self { key })
    }

    /// From a DER SEC1 `ECPrivateKey` (RFC 5915), what
    /// `openssl ecparam -genkey` writes.
    pub fn from_sec1(der: &[u8]) -> Result<Self, EccError> {
        let secret = SecretKey::from_sec1_der(der).map_err(|_| EccError::BadPrivateKey {
            format: "SEC1 ECPrivateKey DER",
        })?;
        Ok(Self {
            key: SigningKey::from(secret),
        })
    }

    /// From PEM text holding either `PRIVATE KEY` (PKCS #8) or
    /// `EC PRIVATE KEY` (SEC1).
    pub fn from_pem(pem: &str) -> Result<Self, EccError> {
        if let Ok(key) = SigningKey::from_pkcs8_pem(pem) {
            return Ok(Self { key });
        }
        let secret = SecretKey::from_sec1_pem(pem).map_err(|_| EccError::BadPrivateKey {
            format: "PEM (PKCS #8 or SEC1)",
        })?;
        Ok(Self {
            key: SigningKey::from(secret),
        })
    }

    /// From a 32-byte big-endian private scalar.
    pub fn from_scalar_bytes(scalar: &[u8]) -> Result<Self, EccError> {
        Ok(Self {
            key: SigningKey::from(secret_from_scalar(scalar)?),
        })
    }

    /// ECDSA-SHA256 signature of `msg`, DER-encoded (RFC 8422 §5.4), with
    /// the deterministic nonce of RFC 6979.
    pub fn sign(&self, msg: &[u8]) -> Vec<u8> {
        let sig: Signature = self.key.sign(msg);
        sig.to_der().as_bytes().to_vec()
    }

    /// The public point, uncompressed (65 bytes).
    pub fn public_point(&self) -> Vec<u8> {
        self.key
            .verifying_key()
            .to_encoded_point(false)
            .as_bytes()
            .to_vec()
    }

    /// The DER `SubjectPublicKeyInfo` (RFC 5480): what an RFC 7250
    /// `RawPublicKey` Certificate message carries.
    pub fn subject_public_key_info(&self) -> Vec<u8> {
        match self.key.verifying_key().to_public_key_der() {
            Ok(doc) => doc.as_bytes().to_vec(),
            // Encoding a valid P-256 key into an in-memory buffer only
            // fails on allocation failure.
            Err(_) => unreachable!("a valid P-256 key always encodes"),
        }
    }
}

/// Checks a DER ECDSA-SHA256 signature of `msg` against the key in a DER
/// `SubjectPublicKeyInfo`, such as an RFC 7250 raw public key.
///
/// Both low-S and high-S signatures are accepted: ECDSA as used in TLS
/// does not require low-S, and common peers do not normalise.
pub fn verify_ecdsa_sha256(spki_der: &[u8], msg: &[u8], der_sig: &[u8]) -> Result<(), EccError> {
    let key = VerifyingKey::from_public_key_der(spki_der).map_err(|_| EccError::BadSpki)?;
    let sig = Signature::from_der(der_sig).map_err(|_| EccError::BadSignatureEncoding)?;
    key.verify(msg, &sig).map_err(|_| EccError::BadSignature)
}

/// The uncompressed public point inside a DER `SubjectPublicKeyInfo`.
pub fn spki_public_point(spki_der: &[u8]) -> Result<Vec<u8>, EccError> {
    let key = PublicKey::from_public_key_der(spki_der).map_err(|_| EccError::BadSpki)?;
    Ok(uncompressed(&key))
}

/// Splits a DER ECDSA signature into its 32-byte big-endian `r` and `s`.
pub fn signature_r_s(der_sig: &[u8]) -> Result<([u8; 32], [u8; 32]), EccError> {
    let sig = Signature::from_der(der_sig).map_err(|_| EccError::BadSignatureEncoding)?;
    let (r, s) = sig.split_bytes();
    Ok((r.into(), s.into()))
}

/// DER-encodes a signature given as 32-byte big-endian `r` and `s`.
pub fn signature_der(r: &[u8; 32], s: &[u8; 32]) -> Result<Vec<u8>, EccError> {
    let sig = Signature::from_scalars(*FieldBytes::from_slice(r), *FieldBytes::from_slice(s))
        .map_err(|_| EccError::BadSignatureEncoding)?;
    Ok(sig.to_der().as_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::rand_core::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn rng(seed: u64) -> ChaCha20Rng {
        ChaCha20Rng::seed_from_u64(seed)
    }

    #[test]
    fn ecdhe_agreement_matches_both_ways() {
        let mut r = rng(1);
        let a = EphemeralKey::generate(&mut r);
        let b = EphemeralKey::generate(&mut r);
        let pa = a.public_point();
        assert_eq!(pa.len(), 65);
        assert_eq!(pa[0], 4);
        let ab = a.agree(&b.public_point()).unwrap();
        let ba = b.agree(&pa).unwrap();
        assert_eq!(ab.len(), 32);
        assert_eq!(ab, ba);
        let c = EphemeralKey::generate(&mut r);
        assert_ne!(a.agree(&c.public_point()).unwrap(), ab);
    }

    #[test]
    fn generation_is_deterministic_given_the_rng() {
        let a = EphemeralKey::generate(&mut rng(7)).public_point();
        let b = EphemeralKey::generate(&mut rng(7)).public_point();
        assert_eq!(a, b);
        assert_ne!(a, EphemeralKey::generate(&mut rng(8)).public_point());
    }

    #[test]
    fn bad_peer_points_are_refused() {
        let a = EphemeralKey::generate(&mut rng(2));
        let good = EphemeralKey::generate(&mut rng(3)).public_point();
        assert!(matches!(
            a.agree(&good[..33]),
            Err(EccError::BadPointEncoding { len: 33, .. })
        ));
        assert!(matches!(
            a.agree(&[]),
            Err(EccError::BadPointEncoding { len: 0, first: 0 })
        ));
        let mut compressed_tag = good.clone();
        compressed_tag[0] = 2;
        assert!(matches!(
            a.agree(&compressed_tag),
            Err(EccError::BadPointEncoding { first: 2, .. })
        ));
        let mut off_curve = good.clone();
        off_curve[64] ^= 1;
        assert_eq!(a.agree(&off_curve), Err(EccError::PointNotOnCurve));
    }

    #[test]
    fn scalars_are_checked() {
        assert_eq!(
            EphemeralKey::from_scalar_bytes(&[0; 32]).unwrap_err(),
            EccError::BadScalar
        );
        assert_eq!(
            EphemeralKey::from_scalar_bytes(&[1; 31]).unwrap_err(),
            EccError::BadScalar
        );
        assert_eq!(
            IdentityKey::from_scalar_bytes(&[0xff; 32]).unwrap_err(),
            EccError::BadScalar
        );
        let mut one = [0u8; 32];
        one[31] = 1;
        // 1 * G is the generator (SEC 2 §2.4.2).
        let g = EphemeralKey::from_scalar_bytes(&one)
            .unwrap()
            .public_point();
        assert_eq!(
            hex::encode(&g[1..33]),
            "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
        );
    }

    #[test]
    fn sign_and_verify() {
        let key = IdentityKey::generate(&mut rng(4));
        let spki = key.subject_public_key_info();
        let sig = key.sign(b"server key exchange params");
        assert_eq!(
            verify_ecdsa_sha256(&spki, b"server key exchange params", &sig),
            Ok(())
        );
        assert_eq!(
            verify_ecdsa_sha256(&spki, b"server key exchange paramz", &sig),
            Err(EccError::BadSignature)
        );
        let other = IdentityKey::generate(&mut rng(5)).subject_public_key_info();
        assert_eq!(
            verify_ecdsa_sha256(&other, b"server key exchange params", &sig),
            Err(EccError::BadSignature)
        );
        assert_eq!(
            verify_ecdsa_sha256(&spki[1..], b"x", &sig),
            Err(EccError::BadSpki)
        );
        assert_eq!(
            verify_ecdsa_sha256(&spki, b"x", &sig[..sig.len() - 1]),
            Err(EccError::BadSignatureEncoding)
        );
        // Deterministic signatures (RFC 6979).
        assert_eq!(sig, key.sign(b"server key exchange params"));
    }

    #[test]
    fn high_s_signatures_verify() {
        // n - s verifies too; peers that do not normalise must pass.
        let key = IdentityKey::generate(&mut rng(6));
        let spki = key.subject_public_key_info();
        let sig = key.sign(b"msg");
        let (r, s) = signature_r_s(&sig).unwrap();
        let n = hex::decode("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551")
            .unwrap();
        let mut neg = [0u8; 32];
        let mut borrow = 0i16;
        for i in (0..32).rev() {
            let d = i16::from(n[i]) - i16::from(s[i]) - borrow;
            borrow = i16::from(d < 0);
            neg[i] = (d + 256 * borrow) as u8;
        }
        let flipped = signature_der(&r, &neg).unwrap();
        assert_ne!(flipped, sig);
        assert_eq!(verify_ecdsa_sha256(&spki, b"msg", &flipped), Ok(()));
    }

    #[test]
    fn spki_round_trip_and_layout() {
        let key = IdentityKey::generate(&mut rng(9));
        let spki = key.subject_public_key_info();
        // RFC 5480: SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 },
        // BIT STRING { 0x00, 65-byte point } }: 91 bytes in all.
        assert_eq!(spki.len(), 91);
        assert_eq!(
            hex::encode(&spki[..26]),
            "3059301306072a8648ce3d020106082a8648ce3d030107034200"
        );
        assert_eq!(spki[26..], key.public_point()[..]);
        assert_eq!(spki_public_point(&spki).unwrap(), key.public_point());
    }

    #[test]
    fn private_key_formats() {
        // Encode a key both ways with the p256 crate's encoders and read it
        // back through the public constructors.
        use p256::pkcs8::EncodePrivateKey;
        let secret = SecretKey::random(&mut rng(10));
        let pkcs8 = secret.to_pkcs8_der().unwrap();
        let sec1 = secret.to_sec1_der().unwrap();
        let scalar = secret.to_bytes();
        let a = IdentityKey::from_pkcs8_der(pkcs8.as_bytes()).unwrap();
        let b = IdentityKey::from_sec1(&sec1).unwrap();
        let c = IdentityKey::from_scalar_bytes(&scalar).unwrap();
        let pem = secret.to_pkcs8_pem(Default::default()).unwrap();
        let d = IdentityKey::from_pem(&pem).unwrap();
        let sec1_pem = secret.to_sec1_pem(Default::default()).unwrap();
        let e = IdentityKey::from_pem(&sec1_pem).unwrap();
        for k in [&b, &c, &d, &e] {
            assert_eq!(k.public_point(), a.public_point());
        }
        assert!(IdentityKey::from_pkcs8_der(&sec1).is_err());
        assert!(IdentityKey::from_sec1(pkcs8.as_bytes()).is_err());
        assert!(IdentityKey::from_pem("-----BEGIN NOTHING-----").is_err());
    }

    #[test]
    fn debug_hides_secrets() {
        let e = EphemeralKey::generate(&mut rng(11));
        let i = IdentityKey::from_scalar_bytes(&[0x11; 32]).unwrap();
        for text in [format!("{e:?}"), format!("{i:?}")] {
            assert!(text.contains("<redacted>"), "{text}");
            assert!(!text.contains(&"11".repeat(32)), "{text}");
        }
    }
}
