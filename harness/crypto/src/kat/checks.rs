//! The check for each kind of vector: recompute every expected value with
//! this crate (or, for bare AES and CCM, the primitives it is built on) and
//! say which one differs.

use aes::cipher::{BlockDecrypt, BlockEncrypt, KeyInit};
use aes::Aes128;
use ccm::aead::AeadInPlace;
use ccm::consts::{U10, U11, U12, U13, U14, U16, U4, U6, U7, U8, U9};
use ccm::Ccm;
use serde::Deserialize;

use super::hex_field::Hex;
use super::{Kind, Vector};
use crate::ecc::{signature_der, signature_r_s, verify_ecdsa_sha256, EphemeralKey, IdentityKey};
use crate::key_block::KeyBlock;
use crate::key_schedule::{
    extended_master_secret, hmac_sha256, key_block, master_secret, psk_premaster_secret,
    try_psk_premaster_secret, verify_data, FinishedLabel,
};
use crate::prf::prf;
use crate::record_protection::{try_record_protection, AadFields};
use crate::suite::{suite_by_name, BulkCipher, SuiteParams};

/// `Err` naming `what` with both values if they differ.
fn expect_eq(what: &str, expected: &[u8], got: &[u8]) -> Result<(), String> {
    if expected == got {
        Ok(())
    } else {
        Err(format!(
            "{what} differs: expected {}, got {}",
            hex::encode(expected),
            hex::encode(got)
        ))
    }
}

// ---------------------------------------------------------------- aes128

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Aes128Vector {
    name: String,
    key: Hex,
    plaintext: Hex,
    ciphertext: Hex,
}

impl Vector for Aes128Vector {
    fn name(&self) -> &str {
        &self.name
    }

    fn check(&self, _: Kind) -> Result<(), String> {
        let cipher = Aes128::new_from_slice(&self.key.0)
            .map_err(|_| format!("key is {} bytes, expected 16", self.key.0.len()))?;
        let pt: [u8; 16] = self.plaintext.array("plaintext")?;
        let ct: [u8; 16] = self.ciphertext.array("ciphertext")?;
        let mut block = pt.into();
        cipher.encrypt_block(&mut block);
        expect_eq("ciphertext", &ct, &block)?;
        let mut block = ct.into();
        cipher.decrypt_block(&mut block);
        expect_eq("decrypted plaintext", &pt, &block)
    }
}

// ---------------------------------------------------------------- aes-ccm

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AesCcmVector {
    name: String,
    key: Hex,
    nonce: Hex,
    aad: Hex,
    plaintext: Hex,
    /// Ciphertext with the tag appended, as RFC 3610 §8 and
    /// SP 800-38C Appendix C print it.
    ciphertext: Hex,
    tag_len: usize,
}

fn ccm_check<C: AeadInPlace + KeyInit>(v: &AesCcmVector) -> Result<(), String> {
    let cipher = C::new_from_slice(&v.key.0)
        .map_err(|_| format!("key is {} bytes, expected 16", v.key.0.len()))?;
    let nonce = ccm::aead::Nonce::<C>::from_slice(&v.nonce.0);

    let mut sealed = v.plaintext.0.clone();
    let tag = cipher
        .encrypt_in_place_detached(nonce, &v.aad.0, &mut sealed)
        .map_err(|_| "encryption refused the input".to_string())?;
    sealed.extend_from_slice(&tag);
    expect_eq("ciphertext and tag", &v.ciphertext.0, &sealed)?;

    let ct_len = v
        .ciphertext
        .0
        .len()
        .checked_sub(v.tag_len)
        .ok_or("ciphertext is shorter than the tag")?;
    let (ct, tag) = v.ciphertext.0.split_at(ct_len);
    let mut opened = ct.to_vec();
    cipher
        .decrypt_in_place_detached(nonce, &v.aad.0, &mut opened, tag.into())
        .map_err(|_| "the expected ciphertext does not authenticate".to_string())?;
    expect_eq("decrypted plaintext", &v.plaintext.0, &opened)?;

    // The same ciphertext with one tag bit flipped must be refused.
    let mut forged_tag = tag.to_vec();
    forged_tag[0] ^= 1;
    let mut scratch = ct.to_vec();
    if cipher
        .decrypt_in_place_detached(nonce, &v.aad.0, &mut scratch, forged_tag.as_slice().into())
        .is_ok()
    {
        return Err("a forged tag was accepted".to_string());
    }
    Ok(())
}

macro_rules! ccm_by_nonce {
    ($v:expr, $tag:ty) => {
        match $v.nonce.0.len() {
            7 => ccm_check::<Ccm<Aes128, $tag, U7>>($v),
            8 => ccm_check::<Ccm<Aes128, $tag, U8>>($v),
            9 => ccm_check::<Ccm<Aes128, $tag, U9>>($v),
            10 => ccm_check::<Ccm<Aes128, $tag, U10>>($v),
            11 => ccm_check::<Ccm<Aes128, $tag, U11>>($v),
            12 => ccm_check::<Ccm<Aes128, $tag, U12>>($v),
            13 => ccm_check::<Ccm<Aes128, $tag, U13>>($v),
            n => Err(format!(
                "nonce is {n} bytes; CCM allows 7 to 13 (RFC 3610 §2)"
            )),
        }
    };
}

impl Vector for AesCcmVector {
    fn name(&self) -> &str {
        &self.name
    }

    fn check(&self, _: Kind) -> Result<(), String> {
        match self.tag_len {
            4 => ccm_by_nonce!(self, U4),
            6 => ccm_by_nonce!(self, U6),
            8 => ccm_by_nonce!(self, U8),
            10 => ccm_by_nonce!(self, U10),
            12 => ccm_by_nonce!(self, U12),
            14 => ccm_by_nonce!(self, U14),
            16 => ccm_by_nonce!(self, U16),
            t => Err(format!(
                "tag_len {t}; CCM allows 4, 6, ..., 16 (RFC 3610 §2)"
            )),
        }
    }
}

// ---------------------------------------------------------------- hmac-sha256

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HmacVector {
    name: String,
    key: Hex,
    data: Hex,
    mac: Hex,
    /// Set when the published MAC is truncated (RFC 4231 test case 5).
    truncated_bits: Option<usize>,
}

impl Vector for HmacVector {
    fn name(&self) -> &str {
        &self.name
    }

    fn check(&self, _: Kind) -> Result<(), String> {
        let expected_len = self.truncated_bits.map_or(32, |bits| bits / 8);
        if self.mac.0.len() != expected_len || expected_len > 32 || expected_len == 0 {
            return Err(format!(
                "mac is {} bytes but {expected_len} are declared",
                self.mac.0.len()
            ));
        }
        let mac = hmac_sha256(&self.key.0, &self.data.0);
        expect_eq("HMAC-SHA256", &self.mac.0, &mac[..expected_len])
    }
}

// ---------------------------------------------------------------- tls12-prf-sha256

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PrfVector {
    name: String,
    secret: Hex,
    /// The ASCII label, as text.
    label: String,
    seed: Hex,
    output: Hex,
}

impl Vector for PrfVector {
    fn name(&self) -> &str {
        &self.name
    }

    fn check(&self, _: Kind) -> Result<(), String> {
        let out = prf(
            &self.secret.0,
            self.label.as_bytes(),
            &self.seed.0,
            self.output.0.len(),
        );
        expect_eq("PRF output", &self.output.0, &out)
    }
}

// ---------------------------------------------------------------- psk-premaster

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PskVector {
    name: String,
    psk: Hex,
    premaster: Hex,
    client_random: Option<Hex>,
    server_random: Option<Hex>,
    master_secret: Option<Hex>,
    session_hash: Option<Hex>,
    extended_master_secret: Option<Hex>,
    /// Suite whose key block `key_block` holds.
    suite: Option<String>,
    key_block: Option<Hex>,
    handshake_hash: Option<Hex>,
    client_verify_data: Option<Hex>,
    server_verify_data: Option<Hex>,
}

impl PskVector {
    fn randoms(&self) -> Result<([u8; 32], [u8; 32]), String> {
        let c = self
            .client_random
            .as_ref()
            .ok_or("client_random is needed for the master secret and key block")?;
        let s = self
            .server_random
            .as_ref()
            .ok_or("server_random is needed for the master secret and key block")?;
        Ok((c.array("client_random")?, s.array("server_random")?))
    }
}

impl Vector for PskVector {
    fn name(&self) -> &str {
        &self.name
    }

    /// The key block and `verify_data` are derived from the extended
    /// master secret when the vector gives one, else from the master
    /// secret.
    fn check(&self, _: Kind) -> Result<(), String> {
        let pms = try_psk_premaster_secret(&self.psk.0).map_err(|e| e.to_string())?;
        expect_eq("premaster secret", &self.premaster.0, &pms)?;
        debug_assert_eq!(pms, psk_premaster_secret(&self.psk.0));

        let mut session_master: Option<[u8; 48]> = None;
        if let Some(expected) = &self.master_secret {
            let (c, s) = self.randoms()?;
            let ms = master_secret(&pms, &c, &s);
            expect_eq("master secret", &expected.0, &ms)?;
            session_master = Some(ms);
        }
        match (&self.session_hash, &self.extended_master_secret) {
            (Some(hash), Some(expected)) => {
                let ems = extended_master_secret(&pms, &hash.0);
                expect_eq("extended master secret", &expected.0, &ems)?;
                session_master = Some(ems);
            }
            (None, None) => {}
            _ => return Err("session_hash and extended_master_secret go together".into()),
        }

        if let Some(expected) = &self.key_block {
            let ms = session_master.ok_or("key_block needs a master secret")?;
            let (c, s) = self.randoms()?;
            let name = self.suite.as_deref().ok_or("key_block needs a suite")?;
            let params = suite_by_name(name).ok_or(format!("unknown suite {name:?}"))?;
            let raw = key_block(&ms, &s, &c, expected.0.len());
            expect_eq("key block", &expected.0, &raw)?;
            let kb = crate::key_block::derive_key_block(params, &ms, &c, &s);
            let split = KeyBlock::split(params, &expected.0)
                .ok_or(format!("key_block is shorter than {name} needs"))?;
            if kb != split {
                return Err("derive_key_block cuts the key block differently".into());
            }
        }

        let finished = [
            (FinishedLabel::Client, &self.client_verify_data),
            (FinishedLabel::Server, &self.server_verify_data),
        ];
        for (label, expected) in finished {
            let Some(expected) = expected else { continue };
            let ms = session_master.ok_or("verify_data needs a master secret")?;
            let hash: [u8; 32] = self
                .handshake_hash
                .as_ref()
                .ok_or("verify_data needs handshake_hash")?
                .array("handshake_hash")?;
            let vd = verify_data(&ms, label, &hash);
            expect_eq(&format!("{label:?} verify_data"), &expected.0, &vd)?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- dtls-*-record

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DtlsRecordVector {
    name: String,
    /// Suite name; defaults to the PSK suite of the file's kind.
    suite: Option<String>,
    key: Hex,
    /// The `*_write_IV` salt (CCM); empty or absent for CBC.
    #[serde(default)]
    iv: Hex,
    /// The `*_write_MAC_key` (CBC); empty or absent for CCM.
    #[serde(default)]
    mac_key: Hex,
    epoch: u16,
    sequence_number: u64,
    content_type: u8,
    version: Hex,
    /// Explicit nonce (CCM) or IV (CBC).
    explicit: Hex,
    plaintext: Hex,
    fragment: Hex,
}

impl DtlsRecordVector {
    fn params(&self, kind: Kind) -> Result<&'static SuiteParams, String> {
        let (default, cipher) = match kind {
            Kind::DtlsCcm8Record => ("TLS_PSK_WITH_AES_128_CCM_8", BulkCipher::AesCcm8),
            Kind::DtlsCcmRecord => ("TLS_PSK_WITH_AES_128_CCM", BulkCipher::AesCcm),
            _ => ("TLS_PSK_WITH_AES_128_CBC_SHA256", BulkCipher::AesCbcSha256),
        };
        let name = self.suite.as_deref().unwrap_or(default);
        let params = suite_by_name(name).ok_or(format!("unknown suite {name:?}"))?;
        if params.cipher != cipher {
            return Err(format!("suite {name} does not use the cipher of {kind:?}"));
        }
        Ok(params)
    }
}

impl Vector for DtlsRecordVector {
    fn name(&self) -> &str {
        &self.name
    }

    fn check(&self, kind: Kind) -> Result<(), String> {
        let params = self.params(kind)?;
        let protection = try_record_protection(params, &self.key.0, &self.iv.0, &self.mac_key.0)
            .map_err(|e| e.to_string())?;
        let aad = AadFields {
            epoch: self.epoch,
            sequence_number: self.sequence_number,
            content_type: self.content_type,
            version: self.version.array("version")?,
        };
        let sealed = protection
            .try_seal(&aad, &self.explicit.0, &self.plaintext.0)
            .map_err(|e| format!("seal: {e}"))?;
        expect_eq("fragment", &self.fragment.0, &sealed)?;
        let opened = protection
            .open(&aad, &self.fragment.0)
            .map_err(|e| format!("open of the expected fragment: {e}"))?;
        expect_eq("opened plaintext", &self.plaintext.0, &opened)?;
        let mut forged = self.fragment.0.clone();
        if let Some(last) = forged.last_mut() {
            *last ^= 1;
        }
        if protection.open(&aad, &forged).is_ok() {
            return Err("a fragment with its last bit flipped was accepted".into());
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- ecdh-p256

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EcdhVector {
    name: String,
    private: Hex,
    public: Hex,
    peer_public: Hex,
    shared: Hex,
}

impl Vector for EcdhVector {
    fn name(&self) -> &str {
        &self.name
    }

    fn check(&self, _: Kind) -> Result<(), String> {
        let key = EphemeralKey::from_scalar_bytes(&self.private.0).map_err(|e| e.to_string())?;
        expect_eq("public point", &self.public.0, &key.public_point())?;
        let shared = key.agree(&self.peer_public.0).map_err(|e| e.to_string())?;
        expect_eq("shared secret", &self.shared.0, &shared)
    }
}

// ---------------------------------------------------------------- ecdsa-p256-sha256

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EcdsaVector {
    name: String,
    private: Hex,
    public: Hex,
    message: Hex,
    r: Hex,
    s: Hex,
    /// Whether `r`, `s` were made with RFC 6979 nonces, so that signing
    /// must reproduce them exactly. Defaults to true.
    rfc6979: Option<bool>,
}

impl Vector for EcdsaVector {
    fn name(&self) -> &str {
        &self.name
    }

    fn check(&self, _: Kind) -> Result<(), String> {
        let key = IdentityKey::from_scalar_bytes(&self.private.0).map_err(|e| e.to_string())?;
        expect_eq("public point", &self.public.0, &key.public_point())?;
        let r: [u8; 32] = self.r.array("r")?;
        let s: [u8; 32] = self.s.array("s")?;
        if self.rfc6979.unwrap_or(true) {
            let sig = key.sign(&self.message.0);
            let (got_r, got_s) = signature_r_s(&sig).map_err(|e| e.to_string())?;
            expect_eq("r", &r, &got_r)?;
            expect_eq("s", &s, &got_s)?;
        }
        let spki = key.subject_public_key_info();
        let der = signature_der(&r, &s).map_err(|e| e.to_string())?;
        verify_ecdsa_sha256(&spki, &self.message.0, &der)
            .map_err(|e| format!("published signature: {e}"))?;
        let mut other = self.message.0.clone();
        other.push(0);
        if verify_ecdsa_sha256(&spki, &other, &der).is_ok() {
            return Err("the signature also verified for another message".into());
        }
        Ok(())
    }
}
