//! The features a DUT profile may claim and a case may require (an ETSI ICS's items),
//! declared once: the profile and case loaders refuse any other, and the schema and docs
//! list these.

/// A claim and what it means.
pub struct Claim {
    pub name: &'static str,
    pub doc: &'static str,
}

/// Claims other than cipher suites (those are the suites' short names, see [`is_known`]).
pub const CLAIMS: &[Claim] = &[
    Claim {
        name: "ems",
        doc: "the extended master secret (RFC 7627), which RFC 7925 §16 asks for",
    },
    Claim {
        name: "cookie_exchange",
        doc: "a server that answers a ClientHello without a cookie with a HelloVerifyRequest (RFC 6347 §4.2.1)",
    },
    Claim {
        name: "renegotiation_info",
        doc: "the renegotiation_info extension (RFC 5746)",
    },
    Claim {
        name: "resumption",
        doc: "session resumption by session id (RFC 5246 §7.3)",
    },
    Claim {
        name: "max_fragment_length",
        doc: "the max_fragment_length extension (RFC 6066 §4)",
    },
    Claim {
        name: "coap",
        doc: "CoAP over DTLS (RFC 7252 §9)",
    },
    Claim {
        name: "coap:/PATH",
        doc: "a CoAP resource at /PATH the DUT serves (coap:/light)",
    },
];

/// Whether `claim` is one dicetest knows: a suite short name (psk-ccm8, ...), a claim of
/// [`CLAIMS`], or `coap:/` followed by a path.
pub fn is_known(claim: &str) -> bool {
    dicetest_crypto::suite_by_name(claim).is_some()
        || CLAIMS.iter().any(|c| c.name == claim)
        || claim.strip_prefix("coap:/").is_some_and(|p| !p.is_empty())
}

/// Every claim name as a profile writes it, for hints and the schema.
pub fn names() -> Vec<String> {
    dicetest_crypto::SUITES
        .iter()
        .map(|s| s.short_name.to_string())
        .chain(CLAIMS.iter().map(|c| c.name.to_string()))
        .collect()
}

/// Why `claim` is not known, with the closest known name when one is near.
pub fn unknown(claim: &str) -> String {
    let names = names();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    match super::load::closest(claim, &refs) {
        Some(n) => format!("unknown claim {claim:?} (did you mean {n}?)"),
        None => format!("unknown claim {claim:?} (claims: {})", names.join(", ")),
    }
}

/// Where an unknown `claim` is written in `text`: its first occurrence from the `claims`
/// key on (1-based line and column), so an error points at it and not at the same word in
/// a description above.
pub fn locate(text: &str, claim: &str) -> Option<(u64, u64)> {
    let from = text
        .lines()
        .position(|l| {
            l.trim_start()
                .trim_start_matches('{')
                .trim_start()
                .starts_with("claims")
        })
        .or_else(|| text.lines().position(|l| l.contains("claims:")))?;
    text.lines()
        .enumerate()
        .skip(from)
        .find_map(|(i, l)| l.find(claim).map(|c| (i as u64 + 1, c as u64 + 1)))
}

/// The JSON Schema of a list of claims: the known names, or `coap:/` and a path.
pub fn claims_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let docs: Vec<String> = CLAIMS
        .iter()
        .map(|c| format!("{}: {}", c.name, c.doc))
        .collect();
    let names: Vec<String> = names().into_iter().filter(|n| n != "coap:/PATH").collect();
    schemars::json_schema!({
        "type": "array",
        "description": format!(
            "Features claimed: cipher suite short names, and {}",
            docs.join("; ")
        ),
        "items": {
            "anyOf": [
                { "type": "string", "enum": names },
                { "type": "string", "pattern": "^coap:/.+" }
            ]
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_claim_is_found_under_its_key_not_in_the_text_above() {
        let profile = "name: p\ndescription: a coap server\nclaims: [ems, coap_]\n";
        assert_eq!(locate(profile, "coap_"), Some((3, 15)));
        let case = "objective: talks coap_ for a while\ndut: { role: server, claims: [coap_] }\n";
        assert_eq!(locate(case, "coap_"), Some((2, 31)));
    }

    #[test]
    fn claims_are_known_or_named_near() {
        assert!(is_known("psk-ccm8") && is_known("ems") && is_known("coap:/light"));
        assert!(!is_known("psk_ccm8") && !is_known("coap:/"));
        assert!(
            unknown("psk_ccm8").contains("did you mean psk-ccm8"),
            "{}",
            unknown("psk_ccm8")
        );
    }
}
