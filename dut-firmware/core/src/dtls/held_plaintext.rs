//! Only for the `accept_plaintext_records` fault: one unprotected application record that
//! arrived during the handshake, kept to be handed to the application once the handshake
//! completes (the application reads only then), the shape of wolfSSL CVE-2020-24585
//! (epoch-0 application data returned to the application). A correct device never keeps
//! such a record (RFC 6347 §4.1), so without the `faults` feature this holds nothing and
//! takes no memory.

/// Longest record kept (a CoAP probe is a few dozen bytes).
#[cfg(feature = "faults")]
const HELD_BUF: usize = 64;

#[derive(Clone, Copy, Debug, Default)]
pub struct HeldPlaintext {
    #[cfg(feature = "faults")]
    len: usize,
    #[cfg(feature = "faults")]
    bytes: Bytes,
}

#[cfg(feature = "faults")]
#[derive(Clone, Copy, Debug)]
struct Bytes([u8; HELD_BUF]);

#[cfg(feature = "faults")]
impl Default for Bytes {
    fn default() -> Self {
        Bytes([0; HELD_BUF])
    }
}

impl HeldPlaintext {
    /// Keeps a copy of `data` unless a record is already kept or it is too long.
    pub fn keep(&mut self, data: &[u8]) {
        #[cfg(feature = "faults")]
        if self.len == 0 && !data.is_empty() && data.len() <= HELD_BUF {
            self.bytes.0[..data.len()].copy_from_slice(data);
            self.len = data.len();
        }
        #[cfg(not(feature = "faults"))]
        let _ = data;
    }

    /// Hands the kept record over (a copy) and forgets it.
    pub fn take(&mut self) -> Option<HeldPlaintext> {
        let held = core::mem::take(self);
        (!held.data().is_empty()).then_some(held)
    }

    pub fn data(&self) -> &[u8] {
        #[cfg(feature = "faults")]
        return &self.bytes.0[..self.len];
        #[cfg(not(feature = "faults"))]
        &[]
    }
}

#[cfg(all(test, feature = "faults"))]
mod tests {
    use super::*;

    #[test]
    fn one_record_is_kept_and_taken_once() {
        let mut h = HeldPlaintext::default();
        assert!(h.take().is_none());
        h.keep(b"first");
        h.keep(b"second");
        h.keep(&[0u8; HELD_BUF + 1]);
        assert_eq!(h.take().map(|x| x.data().to_vec()), Some(b"first".to_vec()));
        assert!(h.take().is_none(), "taken once");
        h.keep(&[0u8; HELD_BUF + 1]);
        assert!(h.take().is_none(), "too long to keep");
    }
}
