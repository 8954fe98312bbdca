//! The NSS key log format, which Wireshark reads to decrypt captures.
//!
//! For TLS 1.2 and DTLS 1.2 a line is `CLIENT_RANDOM <client random>
//! <master secret>`, both lower-case hex; lines starting with `#` are
//! comments.

/// One key log line (without a newline) for a session.
pub fn keylog_line(client_random: &[u8; 32], master: &[u8; 48]) -> String {
    format!(
        "CLIENT_RANDOM {} {}",
        hex::encode(client_random),
        hex::encode(master)
    )
}

/// Every well-formed `CLIENT_RANDOM` entry of a key log, in order.
///
/// Comments, blank lines, other labels (TLS 1.3 secrets, `RSA`) and lines
/// that do not hold exactly a 32-byte random and a 48-byte secret are
/// skipped. Hex is accepted in either case.
pub fn parse_keylog(text: &str) -> Vec<([u8; 32], [u8; 48])> {
    text.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<([u8; 32], [u8; 48])> {
    let mut fields = line.split_ascii_whitespace();
    if fields.next()? != "CLIENT_RANDOM" {
        return None;
    }
    let mut random = [0u8; 32];
    hex::decode_to_slice(fields.next()?, &mut random).ok()?;
    let mut master = [0u8; 48];
    hex::decode_to_slice(fields.next()?, &mut master).ok()?;
    if fields.next().is_some() {
        return None;
    }
    Some((random, master))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_format() {
        let line = keylog_line(&[0xab; 32], &[0x01; 48]);
        assert_eq!(
            line,
            format!("CLIENT_RANDOM {} {}", "ab".repeat(32), "01".repeat(48))
        );
        assert_eq!(line.len(), 14 + 64 + 1 + 96);
    }

    #[test]
    fn round_trip_and_skipping() {
        let a = ([1u8; 32], [2u8; 48]);
        let b = ([3u8; 32], [4u8; 48]);
        let text = format!(
            "# comment\n\n{}\nCLIENT_HANDSHAKE_TRAFFIC_SECRET {} {}\nCLIENT_RANDOM zz {}\nCLIENT_RANDOM {} {}\r\n{}\nCLIENT_RANDOM {} {} extra\n",
            keylog_line(&a.0, &a.1),
            "00".repeat(32),
            "00".repeat(32),
            "00".repeat(48),
            "01".repeat(31),
            "02".repeat(48),
            keylog_line(&b.0, &b.1).to_uppercase(),
            "05".repeat(32),
            "06".repeat(48),
        );
        assert_eq!(parse_keylog(&text), vec![a, b]);
    }
}
