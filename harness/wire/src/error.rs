//! Decoding errors.
//!
//! Every variant names the field (`what`) in the RFC's own words, so a trace
//! can say *which* length a peer got wrong, not just that something failed.

use thiserror::Error;

/// Why a sequence of bytes is not a valid encoding of the requested structure.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// A fixed-size field (a number, a random, a header) was cut short.
    #[error("truncated {what}: needed {needed} byte(s), {available} available")]
    Truncated {
        what: &'static str,
        needed: usize,
        available: usize,
    },

    /// A structure was complete but bytes followed inside its container.
    #[error("{count} trailing byte(s) after {what}")]
    TrailingBytes { what: &'static str, count: usize },

    /// A length field declares more bytes than its container holds
    /// (the shape of mbedTLS CVE-2022-35409: a cookie length beyond the data).
    #[error("{what}: length field declares {declared} byte(s) but only {actual} available")]
    LengthMismatch {
        what: &'static str,
        declared: usize,
        actual: usize,
    },

    /// A vector whose RFC definition has a minimum length of at least one
    /// element (e.g. `cipher_suites<2..2^16-2>`) was empty.
    #[error("{what} must not be empty")]
    EmptyVector { what: &'static str },

    /// A vector is longer than its RFC maximum (e.g. `SessionID<0..32>`).
    #[error("{what} is {actual} byte(s) long, at most {max} allowed")]
    TooLong {
        what: &'static str,
        max: usize,
        actual: usize,
    },

    /// A vector of fixed-width elements has a byte length that is not a
    /// multiple of the element width (e.g. an odd-length cipher suite list).
    #[error("{what}: length {length} is not a multiple of the element size {element_size}")]
    NotMultiple {
        what: &'static str,
        length: usize,
        element_size: usize,
    },

    /// Anything else that is structurally wrong.
    #[error("invalid {what}: {detail}")]
    Invalid { what: &'static str, detail: String },
}

impl DecodeError {
    /// The field the error is about.
    pub fn what(&self) -> &'static str {
        match self {
            Self::Truncated { what, .. }
            | Self::TrailingBytes { what, .. }
            | Self::LengthMismatch { what, .. }
            | Self::EmptyVector { what }
            | Self::TooLong { what, .. }
            | Self::NotMultiple { what, .. }
            | Self::Invalid { what, .. } => what,
        }
    }
}
