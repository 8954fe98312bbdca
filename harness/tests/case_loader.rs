//! The loader refuses what a case cannot mean (issue 13): one broken case per mistake seen
//! by a new user, each refused with file:line:column pointing at the key, and naming it.

use std::path::Path;

use dicetest::cases::load::load_case_str;

const HEAD: &str = "id: T-01\ntitle: t\nobjective: o\nrefs: [\"RFC 6347 §4.2.1\"]\nlevel: MUST\ndut: {role: server}\nsteps:\n";

/// (what the mistake is, the steps, the line the key is on, the key the message must name)
const BROKEN: &[(&str, &str, u64, &str)] = &[
    (
        "an unknown field under with: on a ClientHello",
        "  - send: ClientHello\n    with: {cookei: \"\"}\n",
        9,
        "cookei",
    ),
    (
        "an unknown field under with: on an Alert",
        "  - handshake: default\n  - send: Alert\n    with:\n      descripton: close_notify\n",
        11,
        "descripton",
    ),
    (
        "an alert level written Warning",
        "  - handshake: default\n  - send: Alert\n    with: {level: Warning, description: close_notify}\n",
        10,
        "level",
    ),
    (
        "a misspelt alert name in an expectation",
        "  - send: ClientHello\n  - expect: {alert: bad_recod_mac}\n",
        9,
        "bad_recod_mac",
    ),
    (
        "alert_level: warn",
        "  - send: ClientHello\n  - expect: {alert: any, alert_level: warn}\n",
        9,
        "alert_level",
    ),
    (
        "an unknown match field",
        "  - send: ClientHello\n  - expect:\n      message: HelloVerifyRequest\n      match: {server_verison: 0xfeff}\n",
        11,
        "server_verison",
    ),
    (
        "a record sequence number past 48 bits",
        "  - send: ClientHello\n    record: {sequence_number: 281474976710656}\n",
        9,
        "sequence_number",
    ),
    (
        "a CoAP message id past 16 bits",
        "  - handshake: default\n  - coap: {method: GET, uri: /x, message_id: 70000}\n",
        9,
        "message_id",
    ),
    (
        "fragments on application data",
        "  - handshake: default\n  - send: ApplicationData\n    fragments: {max_body: 10}\n",
        10,
        "fragments",
    ),
    (
        "a field a message does not have (cookie on a Finished)",
        "  - send: Finished\n    with: {cookie: \"00\"}\n",
        9,
        "cookie",
    ),
    (
        "a random of the wrong length",
        "  - send: ClientHello\n    with: {random: \"0011\"}\n",
        9,
        "random",
    ),
    (
        "a keep of a field the message does not have",
        "  - send: ClientHello\n  - expect: {message: HelloVerifyRequest, keep: {c: cipher_suite}}\n",
        9,
        "cipher_suite",
    ),
    (
        "an extension name that does not exist",
        "  - send: ClientHello\n    with: {add_extensions: [max_fragment_lenght]}\n",
        9,
        "add_extensions",
    ),
    (
        "a max_fragment_length RFC 6066 does not define",
        "  - send: ClientHello\n    with: {add_extensions: [{max_fragment_length: {length: 500}}]}\n",
        9,
        "max_fragment_length",
    ),
    (
        "a field a named extension does not have",
        "  - send: ClientHello\n    with:\n      extensions: [{heartbeat: {mdoe: 1}}]\n",
        10,
        "mdoe",
    ),
    (
        "a variable inside raw extension data before it is kept",
        "  - send: ClientHello\n    with: {add_extensions: [{type: 0x7a7a, data: \"00 $nope\"}]}\n",
        9,
        "$nope",
    ),
    (
        "an extension type to remove that does not exist",
        "  - send: ClientHello\n    with: {remove_extensions: [renegotiaton_info]}\n",
        9,
        "remove_extensions",
    ),
    (
        "a fragment with both len and bytes",
        "  - send: ClientHello\n    fragments:\n      list:\n        - {offset: 0, len: 4, bytes: \"00\"}\n",
        10,
        "fragments.list",
    ),
    (
        "fragment bytes that are not hex",
        "  - send: ClientHello\n    fragments:\n      list:\n        - {offset: 0, len: 4}\n        - {offset: 2, bytes: zz}\n",
        12,
        "bytes",
    ),
    (
        "a keep of a comparison",
        "  - send: ClientHello\n  - expect: {message: ServerHello, keep: {x: same_message_as}}\n",
        9,
        "same_message_as",
    ),
    (
        "same_message_as with something other than a kept datagram",
        "  - send: ClientHello\n  - expect: {message: ServerHello, match: {same_message_as: \"00\"}}\n",
        9,
        "same_message_as",
    ),
    (
        "a misspelt claim a case requires",
        "  - send: ClientHello\n",
        6,
        "psk_ccm8",
    ),
];

#[test]
fn every_mistake_is_refused_at_its_key() {
    let mut failures = Vec::new();
    for (what, steps, line, key) in BROKEN {
        let head = if *key == "psk_ccm8" {
            HEAD.replace(
                "dut: {role: server}",
                "dut: {role: server, claims: [psk_ccm8]}",
            )
        } else {
            HEAD.to_string()
        };
        let text = format!("{head}{steps}");
        match load_case_str(Path::new("broken.yaml"), &text) {
            Ok(_) => failures.push(format!("{what}: loaded")),
            Err(errors) => {
                let e = &errors[0];
                let s = e.to_string();
                if e.line != *line || e.column == 0 {
                    failures.push(format!(
                        "{what}: at {}:{}, expected line {line}: {s}",
                        e.line, e.column
                    ));
                }
                if !s.contains(key) {
                    failures.push(format!("{what}: does not name {key}: {s}"));
                }
                if !s.starts_with(&format!("broken.yaml:{}:{}:", e.line, e.column)) {
                    failures.push(format!("{what}: not file:line:column: {s}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A case made of `steps` loads; else the test fails with every error.
fn assert_loads(steps: &str) {
    let text = format!("{HEAD}{steps}");
    if let Err(e) = load_case_str(Path::new("good.yaml"), &text) {
        panic!(
            "{}",
            e.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

#[test]
fn what_the_language_allows_still_loads() {
    // Alerts by number and by name, levels as written, every field of the table on its
    // message: the strictness refuses mistakes, not meaning.
    let steps = "  - send: ClientHello\n    with: {cookie: null, client_version: 0xfefd, cipher_suites: [psk-ccm8, 0xc0a8], compression_methods: [0], extensions: [extended_master_secret]}\n    record: {sequence_number: 281474976710655}\n  - expect: {one_of: [{alert: 40}, {alert: any, alert_level: warning}, {message: HelloVerifyRequest, match: {server_version: 0xfeff, record.sequence_number: 0, message_seq: 0}, keep: {c: cookie}}]}\n  - send: Alert\n    with: {level: warning, description: 90}\n";
    assert_loads(steps);
}

#[test]
fn the_new_constructs_load() {
    // Extensions in every form (issue 13), fragments with bytes of their own, a drop that
    // keeps what it lost and a comparison with it.
    let steps = r#"  - send: ClientHello
    with:
      extensions:
        - renegotiation_info
        - { max_fragment_length: { length: 512 } }
        - { max_fragment_length: { code: 0 } }
        - { type: 0x7a7a, data: "0001 de ad" }
        - { server_name: { host_name: example.org } }
  - expect: { message: HelloVerifyRequest, keep: { cookie: cookie } }
  - send: ClientHello
    with:
      cookie: $cookie
      remove_extensions: [extended_master_secret, 0xff01]
      add_extensions: [{ type: 65000, data: ["00", $cookie] }, { type: 1, data: "01$cookie" }]
  - drop: 2
    keep_datagram: lost
  - send: Finished
    fragments:
      list:
        - { offset: 0, len: 8 }
        - { offset: 4, bytes: "0102030405060708", body_xor: "ff" }
  - expect: { message: ServerHello, match: { same_message_as: $lost } }
"#;
    assert_loads(steps);
}

#[test]
fn a_misspelt_claim_in_a_profile_is_refused_at_its_line() {
    let dir = std::env::temp_dir().join(format!("dicetest-claims-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("p.yaml");
    std::fs::write(
        &p,
        "name: p\ndescription: d\nkind: sim\nroles: [server]\ncredentials: { psk_identity: a, psk_hex: \"01\" }\nclaims: [ems, psk_ccm8]\n",
    )
    .unwrap();
    let e = dicetest::dut::profile::load_profile_file(&p).expect_err("refused");
    let s = e.to_string();
    assert_eq!((e.line, e.column), (6, 15), "{s}");
    assert!(
        s.contains("psk_ccm8") && s.contains("did you mean psk-ccm8"),
        "{s}"
    );
}
