//! Kept datagrams: what a `drop` step lost (`keep_datagram`), and the comparison of the
//! DUT's repeat with it (`match: {same_message_as: $name}`, RFC 6347 §4.2.4: a
//! retransmitted flight carries the same messages, message_seq included, in new records).

use super::*;

/// Most datagrams one `drop` keeps (a DUT cannot grow the evidence without limit).
const MAX_KEPT: usize = 64;

impl Interpreter<'_> {
    /// A datagram the path lost on purpose, kept when the `drop` step asked for it.
    pub(super) fn keep_dropped(&mut self, d: &[u8]) {
        let Some(k) = &self.drop_keep else { return };
        if let Some(Var::Datagrams(ds)) = self.vars.get_mut(k) {
            if ds.len() < MAX_KEPT {
                ds.push(d.to_vec());
            }
        }
    }

    /// Whether `o` is the same handshake message as the one of its type in the datagrams
    /// `want` (`$name`) names: message_seq and body byte for byte. The record headers are
    /// not compared: a retransmission has new record sequence numbers (§4.2.4).
    pub(super) fn same_message_as(&self, o: &Observation, want: &Value) -> Result<(), String> {
        let name = want.as_str().unwrap_or_default().trim_start_matches('$');
        let Some(Var::Datagrams(ds)) = self.vars.get(name) else {
            return Err(format!("${name} holds no kept datagrams"));
        };
        let Observation::Handshake {
            message,
            message_seq,
            name: what,
            ..
        } = o
        else {
            return Err(format!(
                "same_message_as compares handshake messages, not {}",
                o.describe()
            ));
        };
        let msg_type = message.msg_type().get_u8();
        let Some((seq, body)) = kept_message(ds, msg_type) else {
            return Err(format!(
                "the {} datagram(s) kept as ${name} carry no {what} that can be read (only plaintext, epoch-0 records are compared)",
                ds.len()
            ));
        };
        if seq != *message_seq {
            return Err(format!(
                "{what} came with message_seq {message_seq}, the one kept as ${name} had {seq} (RFC 6347 §4.2.2: a retransmission keeps message_seq)"
            ));
        }
        let got = message.encode_body();
        if got != body {
            let at = got
                .iter()
                .zip(&body)
                .position(|(a, b)| a != b)
                .unwrap_or(got.len().min(body.len()));
            return Err(format!(
                "{what} differs from the one kept as ${name} from body byte {at} on ({} bytes now, {} before): a retransmission repeats the message (RFC 6347 §4.2.4)",
                got.len(),
                body.len()
            ));
        }
        Ok(())
    }
}

/// The first handshake message of type `msg_type` in the plaintext records of `ds`,
/// reassembled from its fragments: (message_seq, body). `None` when none is whole.
pub(super) fn kept_message(ds: &[Vec<u8>], msg_type: u8) -> Option<(u16, Vec<u8>)> {
    let mut want: Option<(u16, u32)> = None;
    let mut body: Vec<u8> = Vec::new();
    let mut have: Vec<bool> = Vec::new();
    for d in ds {
        for r in dicetest_wire::parse_datagram(d).records {
            if r.header.epoch != 0 || r.header.content_type != ContentType::Handshake {
                continue;
            }
            let Ok(frags) = dicetest_wire::HandshakeFragment::read_all(&r.fragment) else {
                continue;
            };
            for f in frags {
                let h = f.header;
                if h.msg_type.get_u8() != msg_type || h.check_fragment_bounds().is_err() {
                    continue;
                }
                match want {
                    None => {
                        want = Some((h.message_seq, h.length));
                        body = vec![0; h.length as usize];
                        have = vec![false; h.length as usize];
                    }
                    Some(w) if w != (h.message_seq, h.length) => continue,
                    Some(_) => {}
                }
                let start = h.fragment_offset as usize;
                body[start..start + f.body.len()].copy_from_slice(&f.body);
                have[start..start + f.body.len()].fill(true);
            }
        }
    }
    let (seq, _) = want?;
    have.iter().all(|x| *x).then_some((seq, body))
}

#[cfg(test)]
mod tests {
    use super::kept_message;

    #[test]
    fn a_message_is_found_and_reassembled_in_kept_datagrams() {
        // Two plaintext records in one datagram: ServerHelloDone (type 14, seq 2) whole,
        // and a 4-byte message of type 2 in two fragments.
        let rec = |frag: &[u8]| {
            let mut r = vec![22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 1];
            r.extend_from_slice(&(frag.len() as u16).to_be_bytes());
            r.extend_from_slice(frag);
            r
        };
        let mut d = rec(&[14, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0]);
        d.extend(rec(&[2, 0, 0, 4, 0, 1, 0, 0, 2, 0, 0, 2, 0xa, 0xb]));
        let d2 = rec(&[2, 0, 0, 4, 0, 1, 0, 0, 0, 0, 0, 2, 0x8, 0x9]);
        assert_eq!(kept_message(&[d.clone()], 14), Some((2, vec![])));
        assert_eq!(kept_message(&[d.clone()], 2), None, "half a message");
        assert_eq!(
            kept_message(&[d, d2], 2),
            Some((1, vec![0x8, 0x9, 0xa, 0xb]))
        );
    }
}
