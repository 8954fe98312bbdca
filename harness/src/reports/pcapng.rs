//! A case's datagrams as a pcapng capture (draft-ietf-opsawg-pcapng) that Wireshark and
//! tshark open as they are: raw IPv4/UDP packets on a made-up loopback path, and, only
//! when asked for, the session keys as a Decryption Secrets Block so DTLS is decrypted
//! and CoAP dissected with no setup.
//!
//! The server side gets UDP port 5684, the port RFC 7252 §12.7 gives CoAP over DTLS, so
//! Wireshark's port-based dissection finds DTLS and CoAP; the client side gets 49152.

use crate::runner::interpret::Captured;

/// Section Header Block (pcapng §4.1).
const BLOCK_SHB: u32 = 0x0A0D_0D0A;
/// Interface Description Block (§4.2).
const BLOCK_IDB: u32 = 0x0000_0001;
/// Enhanced Packet Block (§4.3).
const BLOCK_EPB: u32 = 0x0000_0006;
/// Decryption Secrets Block (§4.7).
const BLOCK_DSB: u32 = 0x0000_000A;
/// DSB secrets type: NSS key log (TLS and DTLS), "TLSK".
pub const SECRETS_TLS_KEY_LOG: u32 = 0x544C_534B;
/// LINKTYPE_RAW: each packet starts with an IPv4 or IPv6 header.
const LINKTYPE_RAW: u16 = 101;
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;

const OPT_END: u16 = 0;
const OPT_COMMENT: u16 = 1;
const SHB_USERAPPL: u16 = 4;
const IF_NAME: u16 = 2;
const IF_TSRESOL: u16 = 9;

/// The server's port: CoAP over DTLS (RFC 7252 §12.7).
pub const SERVER_PORT: u16 = 5684;
/// The client's port: the first dynamic port (RFC 6335 §6).
pub const CLIENT_PORT: u16 = 49152;
const IPV4_HEADER: usize = 20;
const UDP_HEADER: usize = 8;
/// Largest UDP payload an IPv4 packet can carry.
const MAX_UDP_PAYLOAD: usize = 65_535 - IPV4_HEADER - UDP_HEADER;

/// How the packets are laid out.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    /// Whether the DUT is the DTLS client (it sent the first ClientHello).
    pub dut_is_client: bool,
    /// Unix time of the case's start, in microseconds: the first packet's timestamp base.
    pub start_unix_micros: u64,
}

/// The whole capture file. `keylog` lines go into a Decryption Secrets Block; pass none
/// to leave it out (the default: key logs are secrets).
pub fn capture(captures: &[Captured], keylog: &[String], layout: Layout) -> Vec<u8> {
    let mut out = Vec::new();
    section_header(&mut out);
    interface(&mut out);
    if !keylog.is_empty() {
        let mut text = keylog.join("\n");
        text.push('\n');
        decryption_secrets(&mut out, text.as_bytes());
    }
    for (i, c) in captures.iter().enumerate() {
        let client_sent = c.from_dut == layout.dut_is_client;
        let (sport, dport) = if client_sent {
            (CLIENT_PORT, SERVER_PORT)
        } else {
            (SERVER_PORT, CLIENT_PORT)
        };
        // The made-up path: the harness is 127.0.0.1, the DUT 127.0.0.2.
        let (src, dst) = if c.from_dut {
            ([127, 0, 0, 2], [127, 0, 0, 1])
        } else {
            ([127, 0, 0, 1], [127, 0, 0, 2])
        };
        let payload = &c.bytes[..c.bytes.len().min(MAX_UDP_PAYLOAD)];
        let packet = ipv4_udp(src, dst, sport, dport, i as u16, payload);
        let mut comment = String::new();
        if c.dropped {
            comment.push_str("lost on purpose by the test (drop step): the receiver never saw it");
        }
        if payload.len() < c.bytes.len() {
            comment.push_str("truncated: longer than an IPv4 UDP datagram can be");
        }
        enhanced_packet(
            &mut out,
            layout.start_unix_micros.saturating_add(c.micros),
            &packet,
            &comment,
        );
    }
    out
}

fn block(out: &mut Vec<u8>, block_type: u32, body: &[u8]) {
    let padded = body.len().div_ceil(4) * 4;
    let total = (12 + padded) as u32;
    out.extend_from_slice(&block_type.to_le_bytes());
    out.extend_from_slice(&total.to_le_bytes());
    out.extend_from_slice(body);
    out.resize(out.len() + padded - body.len(), 0);
    out.extend_from_slice(&total.to_le_bytes());
}

/// An option: code, length, value padded to 32 bits (pcapng §3.5).
fn option(body: &mut Vec<u8>, code: u16, value: &[u8]) {
    body.extend_from_slice(&code.to_le_bytes());
    body.extend_from_slice(&(value.len() as u16).to_le_bytes());
    body.extend_from_slice(value);
    body.resize(body.len() + value.len().div_ceil(4) * 4 - value.len(), 0);
}

fn end_of_options(body: &mut Vec<u8>) {
    body.extend_from_slice(&OPT_END.to_le_bytes());
    body.extend_from_slice(&0u16.to_le_bytes());
}

fn section_header(out: &mut Vec<u8>) {
    let mut b = Vec::new();
    b.extend_from_slice(&BYTE_ORDER_MAGIC.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes()); // major
    b.extend_from_slice(&0u16.to_le_bytes()); // minor
    b.extend_from_slice(&(-1i64).to_le_bytes()); // section length not given
    let app = format!("dicetest {}", env!("CARGO_PKG_VERSION"));
    option(&mut b, SHB_USERAPPL, app.as_bytes());
    end_of_options(&mut b);
    block(out, BLOCK_SHB, &b);
}

fn interface(out: &mut Vec<u8>) {
    let mut b = Vec::new();
    b.extend_from_slice(&LINKTYPE_RAW.to_le_bytes());
    b.extend_from_slice(&0u16.to_le_bytes()); // reserved
    b.extend_from_slice(&0u32.to_le_bytes()); // snaplen: no limit
    option(&mut b, IF_NAME, b"dicetest-path");
    option(&mut b, IF_TSRESOL, &[6]); // microseconds
    end_of_options(&mut b);
    block(out, BLOCK_IDB, &b);
}

fn decryption_secrets(out: &mut Vec<u8>, secrets: &[u8]) {
    let mut b = Vec::new();
    b.extend_from_slice(&SECRETS_TLS_KEY_LOG.to_le_bytes());
    b.extend_from_slice(&(secrets.len() as u32).to_le_bytes());
    b.extend_from_slice(secrets);
    b.resize(b.len().div_ceil(4) * 4, 0);
    block(out, BLOCK_DSB, &b);
}

fn enhanced_packet(out: &mut Vec<u8>, micros: u64, packet: &[u8], comment: &str) {
    let mut b = Vec::new();
    b.extend_from_slice(&0u32.to_le_bytes()); // interface 0
    b.extend_from_slice(&((micros >> 32) as u32).to_le_bytes());
    b.extend_from_slice(&(micros as u32).to_le_bytes());
    b.extend_from_slice(&(packet.len() as u32).to_le_bytes()); // captured
    b.extend_from_slice(&(packet.len() as u32).to_le_bytes()); // original
    b.extend_from_slice(packet);
    b.resize(b.len().div_ceil(4) * 4, 0);
    if !comment.is_empty() {
        option(&mut b, OPT_COMMENT, comment.as_bytes());
        end_of_options(&mut b);
    }
    block(out, BLOCK_EPB, &b);
}

/// An IPv4 packet (RFC 791) carrying one UDP datagram (RFC 768), both checksums computed.
pub fn ipv4_udp(
    src: [u8; 4],
    dst: [u8; 4],
    sport: u16,
    dport: u16,
    id: u16,
    payload: &[u8],
) -> Vec<u8> {
    let udp_len = (UDP_HEADER + payload.len()) as u16;
    let total = IPV4_HEADER as u16 + udp_len;
    let mut p = Vec::with_capacity(total as usize);
    p.extend_from_slice(&[0x45, 0]); // version 4, 5 words of header; DSCP 0
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(&0x4000u16.to_be_bytes()); // don't fragment
    p.extend_from_slice(&[64, 17]); // TTL, protocol UDP
    p.extend_from_slice(&[0, 0]); // header checksum, below
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    let hc = !ones_complement_sum(&p[..IPV4_HEADER], 0);
    p[10..12].copy_from_slice(&hc.to_be_bytes());
    p.extend_from_slice(&sport.to_be_bytes());
    p.extend_from_slice(&dport.to_be_bytes());
    p.extend_from_slice(&udp_len.to_be_bytes());
    p.extend_from_slice(&[0, 0]);
    p.extend_from_slice(payload);
    // RFC 768: the checksum covers a pseudo header (addresses, protocol, UDP length).
    let mut pseudo = Vec::with_capacity(12);
    pseudo.extend_from_slice(&src);
    pseudo.extend_from_slice(&dst);
    pseudo.extend_from_slice(&[0, 17]);
    pseudo.extend_from_slice(&udp_len.to_be_bytes());
    let sum = ones_complement_sum(&p[IPV4_HEADER..], ones_complement_sum(&pseudo, 0));
    // A computed zero is sent as all ones; zero means "no checksum" (RFC 768).
    let uc = match !sum {
        0 => 0xFFFF,
        c => c,
    };
    p[IPV4_HEADER + 6..IPV4_HEADER + 8].copy_from_slice(&uc.to_be_bytes());
    p
}

/// The 16-bit one's complement sum of RFC 1071, continuing from `start`.
fn ones_complement_sum(data: &[u8], start: u16) -> u16 {
    let mut sum = u32::from(start);
    for pair in data.chunks(2) {
        let word = u16::from_be_bytes([pair[0], pair.get(1).copied().unwrap_or(0)]);
        sum += u32::from(word);
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    sum as u16
}

/// The blocks of a pcapng file as (type, body), for tests and `dicetest report`.
/// `None` if the file is not well-formed little-endian pcapng.
pub fn blocks(file: &[u8]) -> Option<Vec<(u32, Vec<u8>)>> {
    let mut out = Vec::new();
    let mut rest = file;
    while !rest.is_empty() {
        let head = rest.get(..8)?;
        let t = u32::from_le_bytes(head[..4].try_into().ok()?);
        let len = u32::from_le_bytes(head[4..8].try_into().ok()?) as usize;
        if len < 12 || !len.is_multiple_of(4) {
            return None;
        }
        let whole = rest.get(..len)?;
        let trailer = u32::from_le_bytes(whole[len - 4..].try_into().ok()?) as usize;
        if trailer != len {
            return None;
        }
        out.push((t, whole[8..len - 4].to_vec()));
        rest = &rest[len..];
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cap(from_dut: bool, bytes: &[u8]) -> Captured {
        Captured {
            micros: 1500,
            from_dut,
            bytes: bytes.to_vec(),
            dropped: false,
        }
    }

    #[test]
    fn checksums_verify() {
        let p = ipv4_udp([127, 0, 0, 1], [127, 0, 0, 2], 49152, 5684, 7, b"hello");
        assert_eq!(p.len(), 20 + 8 + 5);
        assert_eq!(u16::from_be_bytes([p[2], p[3]]), 33);
        assert_eq!(u16::from_be_bytes([p[24], p[25]]), 13);
        // A correct header sums to all ones.
        assert_eq!(ones_complement_sum(&p[..20], 0), 0xFFFF);
        let mut pseudo = vec![127, 0, 0, 1, 127, 0, 0, 2, 0, 17];
        pseudo.extend_from_slice(&13u16.to_be_bytes());
        assert_eq!(
            ones_complement_sum(&p[20..], ones_complement_sum(&pseudo, 0)),
            0xFFFF
        );
    }

    #[test]
    fn blocks_and_secrets() {
        let caps = [cap(false, b"abc"), cap(true, b"defgh")];
        let plain = capture(
            &caps,
            &[],
            Layout {
                dut_is_client: false,
                start_unix_micros: 1 << 40,
            },
        );
        let b = blocks(&plain).expect("well-formed");
        let types: Vec<u32> = b.iter().map(|(t, _)| *t).collect();
        assert_eq!(types, [BLOCK_SHB, BLOCK_IDB, BLOCK_EPB, BLOCK_EPB]);
        // Second packet: from the DUT (the server), so from port 5684.
        let epb = &b[3].1;
        let ts = (u64::from(u32::from_le_bytes(epb[4..8].try_into().unwrap())) << 32)
            | u64::from(u32::from_le_bytes(epb[8..12].try_into().unwrap()));
        assert_eq!(ts, (1 << 40) + 1500);
        let pkt = &epb[20..20 + 33];
        assert_eq!(u16::from_be_bytes([pkt[20], pkt[21]]), SERVER_PORT);
        assert_eq!(&pkt[28..], b"defgh");

        let line = "CLIENT_RANDOM 00 11".to_string();
        let with = capture(
            &caps,
            std::slice::from_ref(&line),
            Layout {
                dut_is_client: false,
                start_unix_micros: 0,
            },
        );
        let b = blocks(&with).expect("well-formed");
        let (t, body) = &b[2];
        assert_eq!(*t, BLOCK_DSB);
        assert_eq!(
            u32::from_le_bytes(body[..4].try_into().unwrap()),
            SECRETS_TLS_KEY_LOG
        );
        let n = u32::from_le_bytes(body[4..8].try_into().unwrap()) as usize;
        assert_eq!(&body[8..8 + n], format!("{line}\n").as_bytes());
        assert!(!String::from_utf8_lossy(&plain).contains("CLIENT_RANDOM"));
        assert!(blocks(&with[..with.len() - 1]).is_none());
    }
}
