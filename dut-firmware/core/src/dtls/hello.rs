//! Choosing the handshake's parameters from a ClientHello (RFC 5246 §7.4.1.2-3, RFC 7627,
//! RFC 5746). Errors are the alert description to send.

use super::alert;
use super::messages::{ClientHello, EMPTY_RENEGOTIATION_INFO_SCSV};
use super::record::DTLS1_2;
use crate::config::Config;
use crate::faults::Fault;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Negotiated {
    pub suite: u16,
    /// Always null (0), except with the `select_first_compression_method` fault.
    pub compression_method: u8,
    pub extended_master_secret: bool,
    /// The client signalled RFC 5746 support (SCSV or the extension).
    pub secure_renegotiation: bool,
}

/// `renegotiating`: the client_verify_data of the connection being renegotiated (only
/// reachable with the `accept_renegotiation` fault).
pub fn negotiate(
    config: &Config,
    ch: &ClientHello<'_>,
    renegotiating: Option<&[u8; 12]>,
) -> Result<Negotiated, u8> {
    // DTLS version numbers count down: 1.2 is 0xfefd, anything later is smaller. A client
    // offering only DTLS 1.0 (0xfeff) gets protocol_version (RFC 5246 §E.1, RFC 6347 §4.1).
    if ch.client_version > DTLS1_2 {
        return Err(alert::PROTOCOL_VERSION);
    }
    let ext = ch.extensions().map_err(|_| alert::DECODE_ERROR)?;
    if config.faults.has(Fault::RefuseUnknownExtensions) && has_unknown_extension(ch) {
        return Err(alert::UNSUPPORTED_EXTENSION); // the fault (RFC 5246 §7.4.1.4)
    }
    let scsv = ch.offers_suite(EMPTY_RENEGOTIATION_INFO_SCSV);
    match renegotiating {
        None => {
            // RFC 5746 §3.6: on an initial handshake the extension must be empty.
            if ext.renegotiation_info.is_some_and(|ri| !ri.is_empty()) {
                return Err(alert::HANDSHAKE_FAILURE);
            }
        }
        Some(client_verify) => {
            // RFC 5746 §3.7: no SCSV, and the extension must carry client_verify_data.
            if scsv
                || ext
                    .renegotiation_info
                    .is_some_and(|ri| ri != client_verify.as_slice())
            {
                return Err(alert::HANDSHAKE_FAILURE);
            }
        }
    }
    let faults = &config.faults;
    let compression_method = if faults.has(Fault::SelectFirstCompressionMethod) {
        ch.compression_methods.first().copied().unwrap_or(0)
    } else if ch.offers_null_compression() {
        0
    } else {
        // RFC 5246 §7.4.1.2: every client offers null; RFC 7925 §8: nothing else is used.
        return Err(alert::ILLEGAL_PARAMETER);
    };
    if config.require_extended_master_secret && !ext.extended_master_secret {
        // RFC 7627 §5.2: a server that requires EMS aborts with handshake_failure.
        return Err(alert::HANDSHAKE_FAILURE);
    }
    // The server's preference decides (RFC 5246 §7.4.1.3 leaves it to the server).
    let suite = config
        .cipher_suites
        .iter()
        .copied()
        .find(|&s| config.accepts_suite(s) && ch.offers_suite(s))
        .or_else(|| {
            faults
                .has(Fault::SuiteNotCheckedAgainstOffer)
                .then_some(config.cipher_suites[0])
        })
        .ok_or(alert::HANDSHAKE_FAILURE)?;
    Ok(Negotiated {
        suite,
        compression_method,
        extended_master_secret: ext.extended_master_secret,
        secure_renegotiation: !faults.has(Fault::NoRenegotiationInfo)
            && (scsv || ext.renegotiation_info.is_some()),
    })
}

/// Only with the `refuse_unknown_extensions` fault: whether the ClientHello carries an
/// extension the device does not act on.
fn has_unknown_extension(ch: &ClientHello<'_>) -> bool {
    use super::messages::{EXT_EXTENDED_MASTER_SECRET, EXT_RENEGOTIATION_INFO};
    let mut r = crate::codec::Reader::new(ch.extensions.unwrap_or(&[]));
    while let (Some(t), Some(_)) = (r.u16(), r.vec16()) {
        if t != EXT_EXTENDED_MASTER_SECRET && t != EXT_RENEGOTIATION_INFO {
            return true;
        }
    }
    false
}
