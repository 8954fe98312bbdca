//! Pre-flight: before any case, one plain PSK handshake with the DUT in each role the cases
//! need, so that a DUT that is not there, does not answer, or holds other credentials ends
//! the run as a setup error within seconds instead of being blamed, case after case, for
//! what its operator got wrong. It asks what `dicetest connect` asks: is the DUT reachable,
//! does it answer a ClientHello (RFC 6347 §4.2.1), do the profile's credentials work
//! (RFC 4279 §2; a wrong key shows at the Finished messages, RFC 5246 §7.4.9).

use std::path::Path;
use std::time::Duration;

use crate::cases::DutRole;
use crate::dut::open::{claimed_suites, open};
use crate::dut::{Link, Profile};
use crate::engine::record::DropReason;
use crate::engine::{Config, Connection, Event, HandshakeFailure, State};
use dicetest_wire::AlertDescription;

/// Which of the three questions failed, with what was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreflightFailure {
    /// The DUT could not be started or its address opened.
    Setup(String),
    /// Nothing listens at the DUT's address (ICMP port unreachable).
    Unreachable(String),
    /// The DUT did not answer (as a server: our ClientHello; as a client: it never sent
    /// one to the harness).
    Silent(String),
    /// The handshake reached the keys and failed there: another PSK or identity.
    Credentials(String),
    /// The DUT refused the handshake before the keys were used (no common suite, say).
    Refused(String),
}

impl PreflightFailure {
    /// The question that failed, in a word or three.
    pub fn what(&self) -> &'static str {
        match self {
            PreflightFailure::Setup(_) => "setup",
            PreflightFailure::Unreachable(_) => "reachable",
            PreflightFailure::Silent(_) => "answers a handshake",
            PreflightFailure::Credentials(_) => "credentials",
            PreflightFailure::Refused(_) => "handshake",
        }
    }
}

impl std::fmt::Display for PreflightFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PreflightFailure::Setup(s) => write!(f, "the DUT could not be set up: {s}"),
            PreflightFailure::Unreachable(s) => write!(f, "the DUT is not reachable: {s}"),
            PreflightFailure::Silent(s) => write!(f, "the DUT does not answer: {s}"),
            PreflightFailure::Credentials(s) => write!(
                f,
                "the credentials do not work: {s}; check the profile's credentials (psk_identity, psk_hex) against the DUT's"
            ),
            PreflightFailure::Refused(s) => write!(
                f,
                "the DUT refused a plain PSK handshake: {s}; check the profile's claims (cipher suites) against the DUT's"
            ),
        }
    }
}

/// How long one pre-flight handshake may take: a few of the DUT's retransmission timeouts
/// (so one lost datagram is survived), never less than 5 s nor more than 20 s.
pub fn time_limit(profile: &Profile) -> Duration {
    let initial = Duration::from_millis(profile.timers.initial_retransmit_ms);
    (initial * 4).clamp(Duration::from_secs(5), Duration::from_secs(20))
}

/// Checks the DUT in each of `roles`; Ok names what completed, for the console.
pub fn check(
    profile: &Profile,
    roles: &[DutRole],
    seed: u64,
    root: &Path,
) -> Result<String, PreflightFailure> {
    // The pre-flight holds a PSK only: a DUT that claims suites, none of them PSK (raw
    // public keys only), is not held to a handshake it could never make.
    if claimed_suites(profile).is_some_and(|ids| !ids.into_iter().any(is_psk)) {
        return Ok(
            "skipped: the profile claims no PSK suite, and the pre-flight holds no raw public key"
                .into(),
        );
    }
    let mut done = Vec::new();
    for &role in roles {
        let mut dut = open(profile, role, seed, root).map_err(PreflightFailure::Setup)?;
        let result = handshake(dut.link.as_mut(), profile, role, seed);
        let log = dut.log();
        drop(dut);
        match result {
            Ok(suite) => done.push(format!(
                "as a {}: handshake complete ({suite})",
                super::role_name(role)
            )),
            Err(mut e) => {
                // A process that died or stayed silent says why in its own words.
                let last = log.lines().rev().find(|l| !l.trim().is_empty());
                let said = match &mut e {
                    PreflightFailure::Setup(s)
                    | PreflightFailure::Unreachable(s)
                    | PreflightFailure::Silent(s) => Some(s),
                    PreflightFailure::Credentials(_) | PreflightFailure::Refused(_) => None,
                };
                if let (Some(last), Some(s)) = (last, said) {
                    let last: String = last.chars().take(200).collect();
                    *s += &format!(" (the DUT's last log line: {last:?})");
                }
                return Err(e);
            }
        }
    }
    Ok(done.join("; "))
}

/// Whether a cipher suite is a plain PSK one (RFC 4279), which the pre-flight can make.
fn is_psk(id: u16) -> bool {
    dicetest_crypto::suite_by_id(id).is_some_and(|s| s.kx == dicetest_crypto::KeyExchange::Psk)
}

/// One handshake over `link`, dicetest's engine in the other role.
fn handshake(
    link: &mut dyn Link,
    profile: &Profile,
    dut_role: DutRole,
    seed: u64,
) -> Result<String, PreflightFailure> {
    let psk = profile.psk();
    let identity = profile.credentials.psk_identity.as_bytes();
    // Only PSK suites: the pre-flight holds no certificate or raw public key.
    let psk_suites: Vec<u16> = claimed_suites(profile)
        .unwrap_or_default()
        .into_iter()
        .filter(|id| is_psk(*id))
        .collect();
    let mut cfg = match dut_role {
        DutRole::Server => Config::client(),
        DutRole::Client => Config::server(),
    }
    .with_psk(identity, &psk)
    .with_seed(seed ^ 0x9f1e);
    if !psk_suites.is_empty() {
        cfg.cipher_suites = psk_suites;
    }
    cfg.extended_master_secret = true;
    let mut conn = Connection::new(cfg);
    if dut_role == DutRole::Server {
        conn.start(link.now());
    }
    let limit = time_limit(profile);
    let give_up = link.now() + limit;
    let mut events = Vec::new();
    let mut unreachable = 0;
    let mut heard = false;
    // Whether our Finished went out and the DUT has not answered it yet, at any time.
    let mut after_finished = false;
    loop {
        while let Some(d) = conn.poll_transmit() {
            link.send(&d);
        }
        while let Some(e) = conn.poll_event() {
            events.push(e);
        }
        unreachable += link.take_unreachable();
        if conn.is_connected() {
            let suite = conn
                .cipher_suite()
                .and_then(dicetest_crypto::suite_by_id)
                .map(|s| s.name)
                .unwrap_or("?");
            conn.close();
            while let Some(d) = conn.poll_transmit() {
                link.send(&d);
            }
            return Ok(suite.to_string());
        }
        if let Some(sig) = crate::interrupt::requested() {
            return Err(PreflightFailure::Setup(format!(
                "interrupted ({})",
                crate::interrupt::name(sig)
            )));
        }
        let now = link.now();
        // Two ICMP port unreachables (our first datagram and its retransmission) and not a
        // byte back: nothing listens, no need to wait out the limit.
        let refused = unreachable >= 2 && !heard;
        if conn.is_finished() || now >= give_up || refused {
            let seen = Seen {
                events: &events,
                heard,
                unreachable,
                after_finished,
            };
            return Err(judge(&conn, &seen, dut_role, link, limit));
        }
        after_finished |= conn.state() == State::ClientWaitChangeCipherSpec;
        let wake = conn.poll_timeout().map_or(give_up, |t| t.min(give_up));
        match link.recv(wake) {
            Some(d) => {
                heard = true;
                conn.handle_datagram(link.now(), &d);
            }
            None => conn.handle_timeout(link.now()),
        }
    }
}

/// What the pre-flight handshake saw.
struct Seen<'a> {
    events: &'a [Event],
    /// Whether any datagram came from the DUT.
    heard: bool,
    /// ICMP port-unreachable errors.
    unreachable: u32,
    /// Whether the DUT was ever left to answer our Finished.
    after_finished: bool,
}

/// Names the question that failed, from what the handshake saw.
fn judge(
    conn: &Connection,
    seen: &Seen,
    dut_role: DutRole,
    link: &dyn Link,
    limit: Duration,
) -> PreflightFailure {
    let Seen {
        events,
        heard,
        unreachable,
        after_finished,
    } = *seen;
    let at = link
        .dut_address()
        .map(|a| a.to_string())
        .unwrap_or_else(|| "the DUT".into());
    if unreachable > 0 && !heard {
        return PreflightFailure::Unreachable(format!(
            "ICMP port unreachable from {at}: nothing listens on that UDP port"
        ));
    }
    let auth_failed = events
        .iter()
        .filter(|e| {
            matches!(e, Event::Record(r)
                if matches!(r.dropped, Some(DropReason::AuthenticationFailed(_))))
        })
        .count();
    let alert = events.iter().find_map(|e| match e {
        Event::Alert { description, .. } => Some(*description),
        _ => None,
    });
    let failure = events.iter().find_map(|e| match e {
        Event::Failed(f) => Some(f.clone()),
        _ => None,
    });
    // What shows a key mismatch: a Finished that does not verify, records that fail
    // authentication, the alerts RFC 5246 §7.2.2 and RFC 4279 §2 name for it, or a server
    // that goes quiet after our Finished (it could not verify it).
    let key_alert = alert.filter(|a| {
        matches!(
            a,
            AlertDescription::DecryptError
                | AlertDescription::BadRecordMac
                | AlertDescription::UnknownPskIdentity
                | AlertDescription::DecryptionFailed
        )
    });
    if matches!(
        failure,
        Some(HandshakeFailure::BadFinished) | Some(HandshakeFailure::UnknownPskIdentity(_))
    ) || auth_failed > 0
        || key_alert.is_some()
        || after_finished
    {
        let seen = if let Some(a) = key_alert {
            format!("the DUT sent a fatal {a:?} alert")
        } else if auth_failed > 0 {
            format!("{auth_failed} record(s) from the DUT failed authentication")
        } else if let Some(f) = &failure {
            f.to_string()
        } else {
            "the DUT went quiet after our Finished (it could not verify it)".into()
        };
        return PreflightFailure::Credentials(seen);
    }
    if !heard {
        return PreflightFailure::Silent(match dut_role {
            DutRole::Server => format!(
                "no datagram came back from {at} within {} s of our ClientHello",
                limit.as_secs()
            ),
            DutRole::Client => format!(
                "the DUT client sent the harness nothing within {} s of being started",
                limit.as_secs()
            ),
        });
    }
    let why = match (failure, alert) {
        (Some(f), _) => f.to_string(),
        (None, Some(a)) => format!("the DUT sent a fatal {a:?} alert"),
        (None, None) => format!(
            "no complete handshake within {} s (stopped in state {:?})",
            limit.as_secs(),
            conn.state()
        ),
    };
    PreflightFailure::Refused(why)
}
