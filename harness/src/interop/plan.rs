//! Whether a client × server pair can run an interop description, and which of the
//! client's commands it runs with which placeholders.

use super::model::InteropCase;
use crate::dut::profile::StartSpec;
use crate::dut::Profile;

/// What the session will do for this pair.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The client's command: client_start, or one of its `interop` commands.
    pub command: StartSpec,
    /// Placeholders beyond the profile's own ({text}, {coap_method} ...).
    pub extra: Vec<(&'static str, String)>,
    /// The CoAP request's Uri-Path, for a `coap:` description.
    pub coap_path: Option<String>,
    /// The client reads the session's text from its standard input once connected.
    pub text_on_stdin: bool,
}

/// Why the pair cannot run this case (`Err`, a not_applicable reason), or how it runs it.
pub fn plan(case: &InteropCase, client: &Profile, server: &Profile) -> Result<Plan, String> {
    if server.start.is_none() {
        return Err(format!("{} cannot be started as a server", server.name));
    }
    for p in [client, server] {
        let missing: Vec<&str> = case
            .claims
            .iter()
            .chain(case.suite.iter())
            .filter(|c| !p.claims(c))
            .map(|s| s.as_str())
            .collect();
        if !missing.is_empty() {
            return Err(format!("{} does not claim {}", p.name, missing.join(", ")));
        }
    }
    let text = ("{text}", case.send.clone());
    if let Some(x) = &case.coap {
        let Some(command) = client.interop.coap_client.clone() else {
            return Err(format!(
                "{} declares no CoAP client (interop.coap_client)",
                client.name
            ));
        };
        if !server.claims("coap") {
            return Err(format!("{} does not claim coap", server.name));
        }
        let path = match (&x.path, x.method.as_str()) {
            (Some(p), _) => p.clone(),
            (None, "GET") => server.probe_uri.clone(),
            (None, _) => server.interop.coap_put_path.clone().ok_or(format!(
                "{} declares no resource that takes a PUT (interop.coap_put_path)",
                server.name
            ))?,
        };
        return Ok(Plan {
            command,
            extra: vec![
                text,
                ("{coap_method}", x.method.to_lowercase()),
                ("{coap_path}", path.clone()),
                ("{coap_payload}", x.payload.clone()),
            ],
            coap_path: Some(path),
            text_on_stdin: false,
        });
    }
    if case.resume {
        let Some(command) = client.interop.resume_client.clone() else {
            return Err(format!(
                "{}'s client cannot be asked to resume a session (no interop.resume_client)",
                client.name
            ));
        };
        if !server.claims("resumption") {
            return Err(format!("{} does not claim resumption", server.name));
        }
        return Ok(Plan {
            command,
            extra: vec![text],
            coap_path: None,
            text_on_stdin: false,
        });
    }
    let Some(command) = client.client_start.clone() else {
        return Err(format!("{} has no client_start", client.name));
    };
    let text_on_stdin = !command.command.iter().any(|a| a.contains("{text}"));
    Ok(Plan {
        command,
        extra: vec![text],
        coap_path: None,
        text_on_stdin,
    })
}
