//! Cryptography of the dicetest DTLS 1.2 engine.
//!
//! Everything a DTLS 1.2 (RFC 6347) peer needs to talk to a device under
//! test with the cipher suites of RFC 7925 and their neighbours:
//!
//! * [`prf`](mod@prf): the TLS 1.2 PRF with SHA-256 (RFC 5246 §5);
//! * [`key_schedule`]: PSK premaster secret (RFC 4279 §2), master secret
//!   (RFC 5246 §8.1), extended master secret (RFC 7627 §4), key expansion
//!   (RFC 5246 §6.3) and Finished `verify_data` (RFC 5246 §7.4.9);
//! * [`suite`]: the cipher suites the engine speaks and their key sizes;
//! * [`key_block`](mod@key_block): splitting the key block into write keys and IVs;
//! * [`record_protection`](mod@record_protection): sealing and opening DTLS record fragments with
//!   AES-CCM (RFC 6655) and AES-CBC + HMAC-SHA256 (RFC 5246 §6.2.3.2);
//! * [`ecc`]: secp256r1 ECDHE and ECDSA with raw public keys (RFC 8422,
//!   RFC 7250);
//! * [`keylog`]: the NSS key log format, so captures can be decrypted;
//! * [`kat`]: known-answer checks over the data files in `vectors/crypto/`.
//!
//! The crate never draws randomness on its own: every function that needs
//! some takes the caller's RNG, so a seeded run is reproducible. Types that
//! hold keys print `<redacted>` under `Debug`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod ecc;
mod hash;
pub mod kat;
pub mod key_block;
pub mod key_schedule;
pub mod keylog;
pub mod prf;
pub mod record_protection;
mod redact;
pub mod suite;

pub use ecc::{verify_ecdsa_sha256, EccError, EphemeralKey, IdentityKey};
pub use kat::{check_kat_dir, check_kat_file, KatError, KatOutcome};
pub use key_block::{derive_key_block, KeyBlock};
pub use key_schedule::{
    extended_master_secret, hmac_sha256, key_block, master_secret, psk_premaster_secret, sha256,
    try_psk_premaster_secret, verify_data, FinishedLabel, PskTooLong,
};
pub use keylog::{keylog_line, parse_keylog};
pub use prf::{p_sha256, prf};
pub use record_protection::{
    protection_for, record_protection, try_record_protection, AadFields, KeyLengthError, OpenError,
    RecordProtection, SealError, Side,
};
pub use suite::{suite_by_id, suite_by_name, BulkCipher, KeyExchange, SuiteParams, SUITES};
