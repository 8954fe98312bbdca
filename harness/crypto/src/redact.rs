//! `Debug` output for secret-holding types.
//!
//! Keys and PSKs must never reach a log by accident, so every type that
//! holds one prints this marker instead of its bytes.

use core::fmt;

/// Prints `<redacted>` in place of a secret value.
pub(crate) struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}
