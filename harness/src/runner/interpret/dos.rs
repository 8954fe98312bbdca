//! The `flood` step: denial-of-service resilience of the cookie exchange (RFC 6347 §4.2.1).
//!
//! §4.2.1 exists so that a ClientHello from an address that has not shown it can receive
//! costs a server nothing: a small HelloVerifyRequest, no state, nothing sent later on its
//! own. The step floods the DUT from many source ports and judges exactly that from what
//! came back to those ports (`dut/flood.rs` does the sending), plus, for a DUT that runs as
//! a local process, its resident memory before and after.

use std::time::Duration;

use dicetest_wire::{
    encode_handshake, parse_datagram, ContentType, HandshakeFragment, HandshakeMessage,
    HandshakeType, ProtocolVersion, Record,
};

use super::{psk_config, Interpreter};
use crate::cases::model::Flood;
use crate::dut::flood::{parse_size_kib, resident_kib, udp_port_owner, FloodEcho};
use crate::engine::Connection;
use crate::runner::verdict::StepOutcome;

/// Default listening time after the flood: past the first retransmission of the usual
/// 1 s initial timer (§4.2.4.1), so a server that kept state shows it.
const DEFAULT_QUIET: Duration = Duration::from_secs(3);

impl Interpreter<'_> {
    pub(super) fn flood(&mut self, f: &Flood) -> StepOutcome {
        let quiet = f
            .quiet
            .as_deref()
            .map(|q| self.duration(q))
            .unwrap_or(DEFAULT_QUIET);
        let grams = self.flood_hellos(f.client_hellos as usize);
        // A DUT on this machine is a process we can see: read its memory around the flood.
        let pid = self
            .link
            .dut_address()
            .filter(|a| a.ip().is_loopback())
            .and_then(|a| udp_port_owner(a.port()));
        let before = pid.and_then(resident_kib);
        let sources = f.source_ports as usize;
        let Some(echo) = self.link.flood(&grams, sources, quiet) else {
            return StepOutcome::inconclusive(
                "this path to the DUT cannot send from other source addresses",
            );
        };
        let after = pid.and_then(resident_kib);
        self.trace.push(format!(
            "{:>10} -> flood: {} ClientHello(s), {} bytes, from {} port(s); back: {} datagram(s), {} bytes ({} beyond one per ClientHello)",
            format!("{:?}", self.link.now()),
            echo.sent,
            echo.sent_bytes,
            echo.sources,
            echo.answered,
            echo.answer_bytes,
            echo.unsolicited
        ));
        let memory = match (before, after) {
            (Some(b), Some(a)) => {
                self.trace.push(format!(
                    "           DUT process {} resident memory: {b} KiB before, {a} KiB after",
                    pid.unwrap_or_default()
                ));
                Some((b, a))
            }
            _ => None,
        };
        judge(&echo, memory, f.max_memory_growth.as_deref())
    }

    /// `n` ClientHellos of the harness's defaults, each with its own random and no cookie,
    /// each whole in its own epoch-0 record.
    fn flood_hellos(&mut self, n: usize) -> Vec<Vec<u8>> {
        let mut conn =
            Connection::new(psk_config(self.profile, self.seed ^ 0xf100d, self.dut_role));
        let base = conn.default_client_hello();
        (0..n)
            .map(|i| {
                let mut ch = base.clone();
                ch.cookie.clear();
                ch.random[..8].copy_from_slice(&(i as u64).to_be_bytes());
                ch.random[8..16].copy_from_slice(&self.seed.to_be_bytes());
                let body = encode_handshake(&HandshakeMessage::ClientHello(ch), 0);
                Record::new(
                    ContentType::Handshake,
                    ProtocolVersion::DTLS1_2,
                    0,
                    i as u64,
                    body,
                )
                .to_bytes()
            })
            .collect()
    }
}

/// What a datagram the DUT sent to a flood source is, when it is not a lone
/// HelloVerifyRequest.
fn not_a_hello_verify_request(d: &[u8]) -> Option<String> {
    let p = parse_datagram(d);
    if p.records.is_empty() {
        return Some(format!("{} bytes that are no DTLS record", d.len()));
    }
    for r in &p.records {
        if r.header.content_type != ContentType::Handshake || r.header.epoch != 0 {
            return Some(format!(
                "a {} record in epoch {}",
                r.header.content_type, r.header.epoch
            ));
        }
        let Ok(frags) = HandshakeFragment::read_all(&r.fragment) else {
            return Some("a handshake record that does not parse".into());
        };
        if let Some(f) = frags
            .iter()
            .find(|f| f.header.msg_type != HandshakeType::HelloVerifyRequest)
        {
            return Some(format!("{:?}", f.header.msg_type));
        }
    }
    None
}

/// The verdict on a flood: the first broken expectation fails the step.
fn judge(echo: &FloodEcho, memory: Option<(u64, u64)>, max_growth: Option<&str>) -> StepOutcome {
    if echo.answered == 0 {
        // A DUT may drop a flood silently (rate limiting is allowed); the case's next steps
        // show whether it still serves.
        return StepOutcome::pass(format!(
            "{} ClientHello(s) from {} port(s) got no answer at all",
            echo.sent, echo.sources
        ));
    }
    let others: Vec<String> = echo
        .answers
        .iter()
        .filter_map(|d| not_a_hello_verify_request(d))
        .collect();
    if let Some(first) = others.first() {
        return StepOutcome::fail(format!(
            "{} of the answers to ClientHellos without a cookie were not a HelloVerifyRequest (first: {first}): the DUT commits to clients that have not proven their address (RFC 6347 §4.2.1)",
            others.len()
        ));
    }
    if echo.unsolicited > 0 {
        return StepOutcome::fail(format!(
            "the flood's ports received {} datagram(s) beyond one answer per ClientHello: the DUT kept state for unverified clients and sent on its own (a stateless server does not retransmit HelloVerifyRequest, RFC 6347 §4.2.1)",
            echo.unsolicited
        ));
    }
    // §4.2.1 keeps the HelloVerifyRequest small so that a spoofed ClientHello cannot make
    // the server send much more than it received (a Certificate flight would be many times
    // larger); it sets no exact bound, and §4.2.3 lets any message be fragmented, which
    // adds 12 bytes of header per fragment. Twice the flood's bytes is amplification.
    if echo.answer_bytes > 2 * echo.sent_bytes {
        return StepOutcome::fail(format!(
            "the answers carried {} bytes for the flood's {}, more than twice as much: the DUT amplifies (RFC 6347 §4.2.1 keeps the HelloVerifyRequest small for this reason)",
            echo.answer_bytes, echo.sent_bytes
        ));
    }
    let shown = format!(
        "{} ClientHello(s) from {} port(s) got {} HelloVerifyRequest(s) ({} bytes for {}) and nothing more",
        echo.sent, echo.sources, echo.answered, echo.answer_bytes, echo.sent_bytes
    );
    let Some(max) = max_growth else {
        return StepOutcome::pass(shown);
    };
    let limit = parse_size_kib(max).unwrap_or(0);
    match memory {
        Some((before, after)) if after.saturating_sub(before) > limit => StepOutcome::fail(format!(
            "{shown}, but the DUT process grew from {before} KiB to {after} KiB, more than {max}: it keeps state per ClientHello"
        )),
        Some((before, after)) => StepOutcome::pass(format!(
            "{shown}; the DUT process's memory went from {before} KiB to {after} KiB (at most {max} allowed)"
        )),
        None => StepOutcome::pass(format!(
            "{shown}; memory growth not applicable: the DUT is no local process whose memory can be read (an in-process board has fixed-size state)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::Verdict;

    fn hvr() -> Vec<u8> {
        let m = HandshakeMessage::HelloVerifyRequest(dicetest_wire::HelloVerifyRequest {
            server_version: ProtocolVersion::DTLS1_2,
            cookie: vec![7; 16],
        });
        Record::new(
            ContentType::Handshake,
            ProtocolVersion::DTLS1_2,
            0,
            0,
            encode_handshake(&m, 0),
        )
        .to_bytes()
    }

    fn echo(answers: Vec<Vec<u8>>, unsolicited: usize) -> FloodEcho {
        FloodEcho {
            sent: 10,
            sent_bytes: 1000,
            sources: 5,
            answered: answers.len(),
            answer_bytes: answers.iter().map(Vec::len).sum(),
            answers,
            unsolicited,
        }
    }

    #[test]
    fn the_loader_checks_a_flood_step() {
        use crate::cases::load::load_case_str;
        let case = |flood: &str| {
            load_case_str(
                std::path::Path::new("f.yaml"),
                &format!(
                    "id: F-01\ntitle: t\nobjective: o\nrefs: [\"RFC 6347 §4.2.1\"]\nlevel: SHOULD\n\
                     dut: {{role: server}}\nsteps:\n  - flood: {flood}\n"
                ),
            )
        };
        assert!(
            case("{client_hellos: 10, source_ports: 2, quiet: 1s, max_memory_growth: 1MB}").is_ok()
        );
        for bad in [
            "{client_hellos: 0, source_ports: 2}",
            "{client_hellos: 10, source_ports: 513}",
            "{client_hellos: 10, source_ports: 2, quiet: soon}",
            "{client_hellos: 10, source_ports: 2, max_memory_growth: lots}",
            "{client_hellos: 10, source_ports: 2, rate: 5}",
        ] {
            assert!(case(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn only_hello_verify_requests_and_nothing_more_pass() {
        let e = echo(vec![hvr(); 10], 0);
        assert_eq!(judge(&e, None, None).verdict, Verdict::Pass);
        let o = judge(&e, None, Some("1MB"));
        assert_eq!(o.verdict, Verdict::Pass);
        assert!(o.reason.contains("not applicable"), "{}", o.reason);
    }

    #[test]
    fn state_amplification_and_memory_growth_fail() {
        let mut other = hvr();
        other[0] = 22;
        other[13] = 2; // ServerHello
        assert_eq!(
            judge(&echo(vec![other], 0), None, None).verdict,
            Verdict::Fail
        );
        let retransmitting = echo(vec![hvr(); 11], 1);
        let o = judge(&retransmitting, None, None);
        assert_eq!(o.verdict, Verdict::Fail);
        assert!(o.reason.contains("beyond one answer"), "{}", o.reason);
        let mut loud = echo(vec![hvr(); 10], 0);
        loud.sent_bytes = 10;
        assert_eq!(judge(&loud, None, None).verdict, Verdict::Fail);
        let e = echo(vec![hvr(); 10], 0);
        assert_eq!(
            judge(&e, Some((1000, 9000)), Some("1MB")).verdict,
            Verdict::Fail
        );
        assert_eq!(
            judge(&e, Some((1000, 1500)), Some("1MB")).verdict,
            Verdict::Pass
        );
    }
}
