//! Interop test descriptions (`suites/interop/*.yaml`): two real implementations, dicetest
//! on the path between them as a relay that impairs and watches.

use std::collections::BTreeSet;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::cases::Level;

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InteropCase {
    pub id: String,
    pub title: String,
    pub objective: String,
    pub refs: Vec<String>,
    pub level: Level,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Features both implementations must claim.
    #[serde(default)]
    pub claims: Vec<String>,
    /// The cipher suite the session must run on (a short name: psk-ccm8, psk-ccm,
    /// psk-cbc-sha256). Both implementations must claim it; a pair that negotiates another
    /// suite is inconclusive, naming it. Interop descriptions demand a PSK suite because
    /// the monitor follows a session only with keys it can derive from the PSK (see
    /// monitor: ECDHE_PSK cannot be followed by a passive observer).
    pub suite: Option<String>,
    /// The client sends this CoAP request over DTLS (its profile's `interop.coap_client`)
    /// and the monitor checks the request and the server's matching response.
    pub coap: Option<CoapExchange>,
    /// The client makes a second session that resumes the first (its profile's
    /// `interop.resume_client`); the monitor must see an abbreviated handshake complete.
    #[serde(default)]
    pub resume: bool,
    /// Both hellos must carry extended_master_secret (RFC 7627 §5.1), and the monitor's
    /// Finished check then proves the session hash was used.
    #[serde(default)]
    pub extended_master_secret: bool,
    /// The client uses this PSK (hex) instead of the shared one (a wrong-key session).
    pub client_psk_hex: Option<String>,
    #[serde(default)]
    pub impair: Impairments,
    /// What the client sends once the handshake completes.
    #[serde(default = "default_text")]
    pub send: String,
    /// `success` (default) or `failure`.
    #[serde(default = "default_outcome")]
    pub outcome: String,
    /// How long the session may take (default 30s).
    pub within: Option<String>,
    /// The pair that shows this description able to fail: real implementations started
    /// from their profiles, one of which breaks the requirement the description checks.
    /// The able-to-fail self-test (harness/tests/interop_able_to_fail.rs) runs it and
    /// asserts the verdict and the judge's check that decided it. A description without
    /// one is listed, with the reason, in suites/interop/able-to-fail-gaps.txt.
    pub able_to_fail: Option<AbleToFail>,
}

/// A client × server pair under which a description must give `verdict`, decided by
/// `check` (suites/interop/README.md).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AbleToFail {
    /// The client's profile, by the name of a shipped one (profiles/).
    pub client: String,
    /// The server's profile, by the name of a shipped one (profiles/).
    pub server: String,
    /// The verdict the pair must give (default fail).
    #[serde(default = "default_fail")]
    pub verdict: String,
    /// The judge's check that must decide it: the one about this description's
    /// requirement (followable, no_handshake, handshake, suite, extended_master_secret,
    /// coap_request, coap_response, coap_code, resumption, data, echo).
    pub check: crate::interop::judge::Check,
}

fn default_fail() -> String {
    "fail".into()
}

fn default_text() -> String {
    "hello interop".into()
}

fn default_outcome() -> String {
    "success".into()
}

/// One CoAP request and what answers it (RFC 7252 §5.8).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CoapExchange {
    /// GET or PUT.
    pub method: String,
    /// Uri-Path, e.g. /.well-known/core. Default: the server profile's `probe_uri` for a
    /// GET, its `interop.coap_put_path` for a PUT.
    pub path: Option<String>,
    /// The request's payload (a PUT's new state).
    #[serde(default)]
    pub payload: String,
    /// Response codes that count as success, e.g. ["2.05"].
    pub response: Vec<String>,
}

/// What the relay does to the datagrams, counted from 1 across both directions.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Impairments {
    /// Datagram numbers to lose.
    #[serde(default)]
    pub drop: BTreeSet<u32>,
    /// Datagram numbers to deliver twice.
    #[serde(default)]
    pub duplicate: BTreeSet<u32>,
    /// Datagram numbers to hold back and deliver after the next one (reordering).
    #[serde(default)]
    pub reorder: BTreeSet<u32>,
    /// Datagrams larger than this are lost (a small path MTU).
    pub max_datagram: Option<usize>,
}

/// What is wrong with a description that parsed, if anything.
fn invalid(c: &InteropCase) -> Option<String> {
    if let Some(a) = &c.able_to_fail {
        if crate::runner::Verdict::parse(&a.verdict).is_none() {
            return Some(format!(
                "able_to_fail verdict {:?} is not one of pass, fail, inconclusive, error, not_applicable",
                a.verdict
            ));
        }
        if a.client.trim().is_empty() || a.server.trim().is_empty() {
            return Some("able_to_fail names no client or no server profile".into());
        }
    }
    if let Some(s) = &c.suite {
        if dicetest_crypto::suite_by_name(s).is_none() {
            return Some(format!(
                "suite {s:?} is not a suite short name (psk-ccm8, ...)"
            ));
        }
    }
    let x = c.coap.as_ref()?;
    if !matches!(x.method.as_str(), "GET" | "PUT") {
        return Some(format!("coap method {:?} is neither GET nor PUT", x.method));
    }
    if x.response.is_empty() {
        return Some("coap response lists no code".into());
    }
    if let Some(bad) = x
        .response
        .iter()
        .find(|r| crate::coap::Code::parse(r).is_none_or(|k| k.class() < 2))
    {
        return Some(format!("coap response {bad:?} is not a response code c.dd"));
    }
    if c.resume {
        return Some("a description asks for a CoAP request or a resumption, not both".into());
    }
    None
}

/// Loads every interop case under `dir`.
pub fn load_interop_dir(
    dir: &std::path::Path,
) -> (
    Vec<(InteropCase, std::path::PathBuf)>,
    Vec<crate::cases::LoadError>,
) {
    let (files, mut errs) = crate::cases::load::yaml_files(dir);
    let (out, more) = load_interop_texts(files);
    errs.extend(more);
    (out, errs)
}

/// Interop descriptions from (path, text) pairs, on disk or built into dicetest.
pub fn load_interop_texts<P: AsRef<std::path::Path>, T: AsRef<str>>(
    files: impl IntoIterator<Item = (P, T)>,
) -> (
    Vec<(InteropCase, std::path::PathBuf)>,
    Vec<crate::cases::LoadError>,
) {
    let mut out = Vec::new();
    let mut errs = Vec::new();
    for (f, text) in files {
        let f = f.as_ref().to_path_buf();
        match load_interop_str(&f, text.as_ref()) {
            Ok(c) => out.push((c, f)),
            Err(e) => errs.push(e),
        }
    }
    (out, errs)
}

/// Loads one interop description from its text; `f` is what errors name (a shipped one's
/// is `suites/interop/NAME.yaml`, `crate::shipped`).
pub fn load_interop_str(
    f: &std::path::Path,
    text: &str,
) -> Result<InteropCase, crate::cases::LoadError> {
    let at_top = |message: String, hint: Option<String>| crate::cases::LoadError {
        file: f.to_path_buf(),
        line: 1,
        column: 1,
        message,
        hint,
    };
    let c = serde_saphyr::from_str::<InteropCase>(text)
        .map_err(|e| crate::cases::LoadError::yaml(f, &e, None))?;
    if c.outcome != "success" && c.outcome != "failure" {
        Err(at_top(
            format!("outcome {:?} is neither success nor failure", c.outcome),
            None,
        ))
    } else if let Some(why) = invalid(&c) {
        Err(at_top(why, None))
    } else if c
        .within
        .as_deref()
        .is_some_and(|w| crate::cases::parse_duration(w).is_none())
    {
        Err(at_top(
            "within is not a duration".into(),
            Some("write e.g. 20s".into()),
        ))
    } else {
        Ok(c)
    }
}
