//! DUT profiles: what an implementation claims and how to reach or start it, in the spirit
//! of an ETSI ICS (claims) and IXIT (addresses, commands, credentials, timers). Data, not code.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::cases::load::LoadError;
use crate::cases::DutRole;

#[derive(Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    #[serde(default = "default_identity")]
    pub psk_identity: String,
    /// Hex. Never printed or reported.
    pub psk_hex: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("psk_identity", &self.psk_identity)
            .field("psk_hex", &"<redacted>")
            .finish()
    }
}

fn default_identity() -> String {
    "Client_identity".into()
}

/// Retransmission timers the DUT declares (RFC 6347 §4.2.4.1; RFC 7925 §11).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Timers {
    #[serde(default = "default_initial")]
    pub initial_retransmit_ms: u64,
    #[serde(default = "default_max")]
    pub max_retransmit_ms: u64,
    /// How long the harness waits for an answer by default.
    #[serde(default = "default_response")]
    pub response_ms: u64,
}

fn default_initial() -> u64 {
    1000
}
fn default_max() -> u64 {
    60_000
}
fn default_response() -> u64 {
    3000
}

impl Default for Timers {
    fn default() -> Self {
        Timers {
            initial_retransmit_ms: default_initial(),
            max_retransmit_ms: default_max(),
            response_ms: default_response(),
        }
    }
}

/// How the DUT is started, when dicetest starts it.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StartSpec {
    /// argv; placeholders: {port}, {port-1}, {psk_identity}, {psk_hex}, {psk_ascii},
    /// {pskfile}, {root}, {bin:NAME} (a program of this workspace), {text} (what an interop
    /// client sends). {pskfile} is a file holding `identity:hex`, mode 0600 in a private
    /// directory, removed when the process is stopped: prefer it to {psk_hex} and
    /// {psk_ascii}, which put the key on a command line any user can read.
    pub command: Vec<String>,
    /// When the DUT is ready: `udp_port` (it bound its port) or `stdout:TEXT`.
    #[serde(default = "default_ready")]
    pub ready: String,
    /// `per_case` (default: every case meets a fresh DUT) or `per_run`.
    #[serde(default = "default_restart")]
    pub restart: String,
    /// Keep stdin open (OpenSSL's s_server quits when it closes).
    #[serde(default)]
    pub keep_stdin: bool,
}

fn default_probe() -> String {
    "echo".into()
}

fn default_probe_uri() -> String {
    "/.well-known/core".into()
}

fn default_ready() -> String {
    "udp_port".into()
}
fn default_restart() -> String {
    "per_case".into()
}

/// How dicetest reaches a DUT; `dut::open` is the one place that acts on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DutKind {
    /// The reference board's core, in-process on a virtual clock.
    Sim,
    /// dicetest's own engine as the DUT (for testing the runner itself).
    EngineSim,
    /// A program dicetest starts (`start` as a server, `client_start` as a client).
    Process,
    /// A device already running at `address`.
    Address,
}

impl DutKind {
    pub fn name(self) -> &'static str {
        match self {
            DutKind::Sim => "sim",
            DutKind::EngineSim => "engine-sim",
            DutKind::Process => "process",
            DutKind::Address => "address",
        }
    }

    /// Whether the DUT runs inside dicetest (virtual time, nothing to reach).
    pub fn in_process(self) -> bool {
        matches!(self, DutKind::Sim | DutKind::EngineSim)
    }
}

impl std::fmt::Display for DutKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub name: String,
    pub description: String,
    /// How the DUT is reached: see [`DutKind`].
    pub kind: DutKind,
    pub roles: Vec<DutRole>,
    /// For `address`: HOST:PORT.
    pub address: Option<String>,
    pub start: Option<StartSpec>,
    /// How to start the DUT as a client towards the harness ({port} is the harness's port).
    pub client_start: Option<StartSpec>,
    pub credentials: Credentials,
    /// Features claimed: suite short names (psk-ccm8, ...), ems, cookie_exchange,
    /// renegotiation_info, max_fragment_length, coap, coap:/path ...
    #[schemars(schema_with = "crate::cases::claims::claims_schema")]
    pub claims: Vec<String>,
    #[serde(default)]
    pub timers: Timers,
    /// How the harness sees that the DUT took application data: `echo` (it sends it back),
    /// `coap` (it answers a CoAP GET of `probe_uri`), or `none`.
    #[serde(default = "default_probe")]
    pub probe: String,
    #[serde(default = "default_probe_uri")]
    pub probe_uri: String,
    /// Self-test misbehaviour to turn on: for `sim`, the board's fault switches
    /// (dut-firmware/core/src/faults.rs); for `engine-sim` as a DUT client, the engine's
    /// deliberate deviations (`Deviations` in harness/src/engine/config.rs).
    #[serde(default)]
    pub faults: Vec<String>,
    /// Sim only, for self-test profiles: the timers the board really runs with, when they
    /// differ from the `timers` the profile declares (a board that breaks its own claimed
    /// retransmission timer). Defaults to `timers`.
    #[serde(default)]
    pub sim_board_timers: Option<Timers>,
    /// Case id → why this DUT is expected to deviate (fail or inconclusive). The CI
    /// baseline. A reason that starts with `flaky:` names a race of the DUT's own that the
    /// case cannot avoid: then pass is as expected too (never error).
    #[serde(default)]
    pub expected_deviations: BTreeMap<String, String>,
    /// What interop descriptions (suites/interop) may ask of this implementation beyond
    /// `client_start`.
    #[serde(default)]
    pub interop: InteropSpec,
    /// What the program around the DTLS stack does (a demo server that answers once and
    /// closes, one that serves one client at a time): behaviour of the application, not of
    /// the protocol, which cases adapt to instead of judging.
    #[serde(default)]
    pub application: Application,
    /// Sim only: legal-variation switches of the reference board (each a behaviour the
    /// RFCs allow, dut-firmware/core/src/variations.rs), for the able-to-pass self-test.
    #[serde(default)]
    pub variations: Vec<String>,
}

/// What the application around the DTLS stack does, as far as cases must know it (the
/// IXIT part of a profile). None of it is a deviation from an RFC.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Application {
    /// The server sends this PSK identity hint in a ServerKeyExchange (RFC 4279 §2);
    /// informational: every case accepts a hint or none.
    pub identity_hint: Option<String>,
    /// After answering one request the application ends the association with close_notify
    /// (an echo-once demo). Cases that need a second answer on one association open a new
    /// one, or become not applicable with this reason.
    #[serde(default)]
    pub closes_after_answer: bool,
    /// The server serves one association at a time (a serial demo server): a second
    /// client waits until the first closes. Cases that need two at once become not
    /// applicable with this reason.
    #[serde(default)]
    pub one_association_at_a_time: bool,
}

/// How an implementation does what some interop descriptions ask of it. A description
/// that needs something a profile does not declare is not applicable to that pair.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InteropSpec {
    /// As a client: send one CoAP request over DTLS to {port} and exit. Placeholders as
    /// for client_start, and {coap_method} (get, put), {coap_path} (/a/b),
    /// {coap_payload}.
    pub coap_client: Option<StartSpec>,
    /// As a client: a full handshake, then a second session from a new socket that offers
    /// to resume the first (session id or ticket).
    pub resume_client: Option<StartSpec>,
    /// As a CoAP server: a resource that takes a PUT (its Uri-Path, e.g. /light).
    pub coap_put_path: Option<String>,
}

impl Profile {
    pub fn claims(&self, feature: &str) -> bool {
        self.claims.iter().any(|c| c == feature)
    }

    /// The first suite the DUT claims (for `handshake: default`).
    pub fn default_suite(&self) -> Option<u16> {
        self.claims
            .iter()
            .find_map(|c| dicetest_crypto::suite_by_name(c))
            .map(|s| s.id)
    }

    pub fn psk(&self) -> Vec<u8> {
        hex::decode(&self.credentials.psk_hex).unwrap_or_default()
    }
}

/// Loads a profile from a file, with file:line:column on error.
pub fn load_profile_file(path: &Path) -> Result<Profile, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|e| LoadError::unreadable(path, &e))?;
    load_profile_str(path, &text)
}

/// Loads a profile from its text; `path` is what errors name (a shipped profile's is
/// `profiles/NAME.yaml`, `crate::shipped`).
pub fn load_profile_str(path: &Path, text: &str) -> Result<Profile, LoadError> {
    let p: Profile = serde_saphyr::from_str(text).map_err(|e| {
        let hint = "see profiles/sim.yaml for a complete profile";
        LoadError::yaml(path, &e, Some(hint.into()))
    })?;
    let bad = |m: String| LoadError {
        file: path.to_path_buf(),
        line: 1,
        column: 1,
        message: m,
        hint: None,
    };
    match p.kind {
        DutKind::Sim | DutKind::EngineSim => {}
        // A client-only implementation (a CoAP client tool) has only client_start.
        DutKind::Process if p.start.is_some() || p.client_start.is_some() => {}
        DutKind::Address if p.address.is_some() => {}
        DutKind::Process => {
            return Err(bad(
                "kind process needs start (the DUT as a server) or client_start (as a client)"
                    .into(),
            ))
        }
        DutKind::Address => return Err(bad("kind address needs address: HOST:PORT".into())),
    }
    // Fault switches exist only where dicetest builds the DUT itself: the reference board
    // (`sim`) and the engine as a client (`engine-sim`, its deliberate deviations). Anywhere
    // else they would be silently ignored and a self-test would prove nothing.
    for f in &p.faults {
        let known: &[&str] = match p.kind {
            DutKind::Sim => dut_sim::Faults::NAMES,
            DutKind::EngineSim if p.roles == [DutRole::Client] => {
                crate::engine::config::Deviations::NAMES
            }
            k => {
                return Err(bad(format!(
                    "faults: a {k} profile{} cannot switch faults on (only sim, and engine-sim as a client only)",
                    if k == DutKind::EngineSim { " with a server role" } else { "" }
                )))
            }
        };
        if !known
            .iter()
            .any(|n| n.replace('-', "_") == f.replace('-', "_"))
        {
            return Err(bad(format!(
                "faults: unknown switch {f:?} for a {} profile (known: {})",
                p.kind,
                known.join(", ")
            )));
        }
    }
    // Legal-variation switches exist only on the reference board, which dicetest builds.
    for v in &p.variations {
        if p.kind != DutKind::Sim {
            return Err(bad(format!(
                "variations: a {} profile cannot switch variations on (only sim)",
                p.kind
            )));
        }
        if !dut_sim::Variations::NAMES
            .iter()
            .any(|n| n.replace('-', "_") == v.replace('-', "_"))
        {
            return Err(bad(format!(
                "variations: unknown switch {v:?} (known: {})",
                dut_sim::Variations::NAMES.join(", ")
            )));
        }
    }
    // A misspelt claim would silently turn cases into not_applicable.
    for c in &p.claims {
        if !crate::cases::claims::is_known(c) {
            let (line, column) = crate::cases::claims::locate(text, c).unwrap_or((1, 1));
            return Err(LoadError {
                file: path.to_path_buf(),
                line,
                column,
                message: format!("claims: {}", crate::cases::claims::unknown(c)),
                hint: Some("claims are cipher suite short names and the features listed in profiles/README or `dicetest schema --profile`".into()),
            });
        }
    }
    if !["echo", "coap", "none"].contains(&p.probe.as_str()) {
        return Err(bad(format!(
            "probe {:?} must be echo, coap or none",
            p.probe
        )));
    }
    if hex::decode(&p.credentials.psk_hex).is_err() {
        return Err(bad("credentials.psk_hex is not hex".into()));
    }
    Ok(p)
}

/// `--dut NAME|FILE`: the name of a shipped profile (built into dicetest, `crate::shipped`;
/// whatever the working directory holds), or a path to a file of one's own.
pub fn find_profile(name_or_file: &str) -> Result<Profile, LoadError> {
    let p = Path::new(name_or_file);
    // Something written as a path is a file the user meant, not a shipped name.
    let looks_like_path = name_or_file.contains(std::path::MAIN_SEPARATOR)
        || name_or_file.contains('/')
        || name_or_file.ends_with(".yaml")
        || name_or_file.ends_with(".yml");
    if !looks_like_path {
        if let Some((path, text)) = crate::shipped::profile(name_or_file) {
            return load_profile_str(Path::new(path), text);
        }
    }
    if p.is_file() {
        return load_profile_file(p);
    }
    let shipped = crate::shipped::profile_names().join(", ");
    if looks_like_path {
        return Err(LoadError {
            file: p.to_path_buf(),
            line: 0,
            column: 0,
            message: format!(
                "DUT profile file not found: {name_or_file} ({})",
                if p.exists() {
                    "it is not a regular file"
                } else {
                    "no such file"
                }
            ),
            hint: Some(format!(
                "shipped profiles are named without a path: {shipped}"
            )),
        });
    }
    Err(LoadError {
        file: p.to_path_buf(),
        line: 0,
        column: 0,
        message: format!("no DUT profile named {name_or_file:?}"),
        hint: Some(format!(
            "shipped profiles: {shipped}; or pass a file path (./my-dut.yaml)"
        )),
    })
}

/// Every profile (*.yaml) of a folder.
pub fn load_all_profiles(dir: &Path) -> (Vec<Profile>, Vec<LoadError>) {
    let (files, mut errs) = crate::cases::load::yaml_files(dir);
    let (out, more) = load_profile_texts(files);
    errs.extend(more);
    (out, errs)
}

/// Profiles from (path, text) pairs, on disk or built into dicetest.
pub fn load_profile_texts<P: AsRef<Path>, T: AsRef<str>>(
    files: impl IntoIterator<Item = (P, T)>,
) -> (Vec<Profile>, Vec<LoadError>) {
    let mut out = Vec::new();
    let mut errs = Vec::new();
    for (f, text) in files {
        match load_profile_str(f.as_ref(), text.as_ref()) {
            Ok(p) => out.push(p),
            Err(e) => errs.push(e),
        }
    }
    (out, errs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(name: &str, body: &str) -> Result<Profile, LoadError> {
        let dir = std::env::temp_dir().join(format!("dicetest-profile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.yaml"));
        std::fs::write(
            &path,
            format!(
                "name: {name}\ndescription: d\ncredentials: {{ psk_identity: a, psk_hex: \"01\" }}\nclaims: []\n{body}"
            ),
        )
        .unwrap();
        load_profile_file(&path)
    }

    #[test]
    fn fault_switches_are_known_and_only_where_dicetest_builds_the_dut() {
        assert!(load(
            "a",
            "kind: sim\nroles: [server]\nfaults: [no_replay_window]\n"
        )
        .is_ok());
        let e = load(
            "b",
            "kind: sim\nroles: [server]\nfaults: [no_such_switch]\n",
        )
        .unwrap_err();
        assert!(
            e.message.contains("unknown switch \"no_such_switch\""),
            "{}",
            e.message
        );
        let e = load(
            "c",
            "kind: address\naddress: \"127.0.0.1:1\"\nroles: [server]\nfaults: [no_replay_window]\n",
        )
        .unwrap_err();
        assert!(
            e.message.contains("cannot switch faults on"),
            "{}",
            e.message
        );
        let e = load(
            "d",
            "kind: engine-sim\nroles: [server]\nfaults: [keep_first_cookie]\n",
        )
        .unwrap_err();
        assert!(e.message.contains("server role"), "{}", e.message);
        assert!(load(
            "e",
            "kind: engine-sim\nroles: [client]\nfaults: [keep_first_cookie]\n"
        )
        .is_ok());
    }

    #[test]
    fn variation_switches_are_known_and_only_on_the_sim_board() {
        assert!(load(
            "f",
            "kind: sim\nroles: [server]\nvariations: [psk_identity_hint, no-cookie-exchange]\n"
        )
        .is_ok());
        let e = load(
            "g",
            "kind: sim\nroles: [server]\nvariations: [no_such_variation]\n",
        )
        .unwrap_err();
        assert!(
            e.message.contains("unknown switch \"no_such_variation\"")
                && e.message.contains("psk_identity_hint"),
            "{}",
            e.message
        );
        let e = load(
            "h",
            "kind: engine-sim\nroles: [server]\nvariations: [psk_identity_hint]\n",
        )
        .unwrap_err();
        assert!(e.message.contains("only sim"), "{}", e.message);
    }
}
