//! The valid exchanges the campaign starts from, flight by flight, and how a batch of
//! (mutated) exchanges becomes one test description.
//!
//! Two templates: `handshake`, a handshake driven message by message (RFC 6347 §4.2.1
//! cookie exchange when the DUT claims it, then flight 5 by hand), and `session`, an
//! established association carrying application data (probes, a CoAP request). A mutated
//! exchange plays the flights before its target as they are, the target flight mutated,
//! and then whatever [`oracle::judge`] says the RFC requires of the DUT's answer.

use serde::Serialize;

use super::mutate::Op;
use super::oracle::{self, Equiv, Judge, Rule};
use crate::cases::model::{CoapRequest, CoapResponse, Expect, Level, Step};
use crate::dut::profile::Profile;

/// What the DUT offers, as far as the templates care.
#[derive(Clone, Debug)]
pub struct Env {
    /// It claims the cookie exchange (flight 1 is answered with a HelloVerifyRequest).
    pub cookie: bool,
    /// It shows that it took application data (`probe: echo|coap`).
    pub probe: bool,
    /// It serves CoAP.
    pub coap: bool,
    pub probe_uri: String,
}

impl Env {
    pub fn of(p: &Profile) -> Env {
        Env {
            cookie: p.claims("cookie_exchange"),
            probe: p.probe != "none",
            coap: p.claims("coap"),
            probe_uri: p.probe_uri.clone(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Template {
    Handshake,
    Session,
}

impl Template {
    pub const ALL: [Template; 2] = [Template::Handshake, Template::Session];

    pub fn name(self) -> &'static str {
        match self {
            Template::Handshake => "handshake",
            Template::Session => "session",
        }
    }
}

/// One flight of a template: what the harness sends and what a correct DUT answers.
#[derive(Clone, Debug)]
pub struct Flight {
    pub name: &'static str,
    pub sends: Vec<Step>,
    pub answer: Vec<Step>,
    /// The clauses that make the answer what it is, and their level.
    pub refs: Vec<&'static str>,
    pub level: Level,
}

pub fn send(name: &str) -> Step {
    Step {
        send: Some(name.into()),
        ..Default::default()
    }
}

pub fn expect(e: Expect) -> Step {
    Step {
        expect: Some(e),
        ..Default::default()
    }
}

pub fn expect_message(name: &str) -> Step {
    expect(Expect {
        message: Some(name.into()),
        ..Default::default()
    })
}

pub fn probe_reply() -> Step {
    expect(Expect {
        probe_reply: Some(true),
        ..Default::default()
    })
}

/// The variable the cookie of the HelloVerifyRequest is kept in.
pub const COOKIE_VAR: &str = "cookie";

pub fn coap_get(uri: &str) -> Step {
    Step {
        coap: Some(CoapRequest {
            method: "GET".into(),
            uri: uri.into(),
            r#type: "CON".into(),
            token: None,
            payload: None,
            message_id: None,
            options: Default::default(),
        }),
        ..Default::default()
    }
}

/// Any well-formed CoAP response that matches the request (token, Message ID).
pub fn coap_answer() -> Step {
    expect(Expect {
        coap: Some(CoapResponse::default()),
        ..Default::default()
    })
}

/// What comes before the first flight.
pub fn setup(t: Template) -> Vec<Step> {
    match t {
        Template::Handshake => vec![Step {
            new_client: Some(true),
            ..Default::default()
        }],
        Template::Session => vec![Step {
            handshake: Some("default".into()),
            ..Default::default()
        }],
    }
}

pub fn flights(t: Template, env: &Env) -> Vec<Flight> {
    match t {
        Template::Handshake => {
            let mut f = Vec::new();
            if env.cookie {
                let mut hvr = Expect {
                    message: Some("HelloVerifyRequest".into()),
                    ..Default::default()
                };
                hvr.keep.insert(COOKIE_VAR.into(), "cookie".into());
                f.push(Flight {
                    name: "flight 1 (ClientHello)",
                    sends: vec![send("ClientHello")],
                    answer: vec![expect(hvr)],
                    refs: vec!["RFC 6347 §4.2.1"],
                    level: Level::SHOULD,
                });
                let mut ch = send("ClientHello");
                ch.with
                    .insert("cookie".into(), format!("${COOKIE_VAR}").into());
                f.push(Flight {
                    name: "flight 3 (ClientHello with the cookie)",
                    sends: vec![ch],
                    answer: vec![
                        expect_message("ServerHello"),
                        expect_message("ServerHelloDone"),
                    ],
                    refs: vec!["RFC 6347 §4.2.1", "RFC 6347 §4.2.2"],
                    level: Level::MUST,
                });
            } else {
                f.push(Flight {
                    name: "flight 1 (ClientHello)",
                    sends: vec![send("ClientHello")],
                    answer: vec![
                        expect_message("ServerHello"),
                        expect_message("ServerHelloDone"),
                    ],
                    refs: vec!["RFC 6347 §4.2.2"],
                    level: Level::MUST,
                });
            }
            f.push(Flight {
                name: "flight 5 (ClientKeyExchange, ChangeCipherSpec, Finished)",
                sends: vec![
                    send("ClientKeyExchange"),
                    send("ChangeCipherSpec"),
                    send("Finished"),
                ],
                answer: vec![expect(Expect {
                    connected: Some(true),
                    ..Default::default()
                })],
                refs: vec!["RFC 6347 §4.2.2", "RFC 5246 §7.4.9"],
                level: Level::MUST,
            });
            f
        }
        Template::Session => {
            let mut f = Vec::new();
            if env.probe {
                for name in ["first probe", "second probe"] {
                    f.push(Flight {
                        name,
                        sends: vec![send("Probe")],
                        answer: vec![probe_reply()],
                        refs: vec!["RFC 6347 §4.1"],
                        level: Level::MUST,
                    });
                }
            }
            if env.coap {
                f.push(Flight {
                    name: "CoAP request",
                    sends: vec![coap_get(&env.probe_uri)],
                    answer: vec![coap_answer()],
                    refs: vec!["RFC 7252 §5.3.2", "RFC 7252 §5.2.1"],
                    level: Level::MUST,
                });
            }
            f
        }
    }
}

/// The flights of a template a mutation may target: every handshake flight; of a session,
/// every flight but the first (which gives the records before it a history).
pub fn targets(t: Template, env: &Env) -> Vec<usize> {
    let n = flights(t, env).len();
    match t {
        Template::Handshake => (0..n).collect(),
        Template::Session => (1..n).collect(),
    }
}

/// A template, the flight that is mutated (`None`: the exchange as it is) and the mutations.
#[derive(Clone, Debug, Serialize)]
pub struct Exchange {
    pub template: Template,
    pub target: Option<usize>,
    pub ops: Vec<Op>,
}

/// One batch: exchanges one after the other on the same DUT, then the liveness probe.
#[derive(Clone, Debug, Serialize)]
pub struct Batch {
    pub exchanges: Vec<Exchange>,
    pub liveness: bool,
}

/// What a step of a compiled batch is for: how its failure is read.
#[derive(Clone, Debug, PartialEq)]
pub enum Role {
    /// Setup or an unmutated flight of exchange `ex`.
    Prefix { ex: usize, flight: Option<usize> },
    /// A mutated flight's own steps.
    Mutated { ex: usize },
    /// The judgement of a mutated flight.
    Oracle { ex: usize, rule: Rule },
    /// After a record that had to be discarded: the association still carries data.
    FollowUp { ex: usize },
    /// A flight changed only in ways the RFC allows: the exchange must go on as usual.
    Equivalent { ex: usize, kind: Equiv },
    /// A fresh handshake after the batch.
    Liveness,
    /// Data on it: a CoAP GET, or the profile's probe.
    LivenessData,
}

#[derive(Clone, Debug)]
pub struct Compiled {
    pub steps: Vec<Step>,
    pub roles: Vec<Role>,
}

impl Compiled {
    fn push(&mut self, s: Step, r: Role) {
        self.steps.push(s);
        self.roles.push(r);
    }
}

/// The flights of an exchange after its mutations.
pub fn mutated_flights(x: &Exchange, env: &Env) -> Vec<Flight> {
    let mut fl = flights(x.template, env);
    if let Some(t) = x.target {
        for op in &x.ops {
            op.apply(&mut fl, t, env);
        }
    }
    fl
}

/// The batch as steps, each with its role.
pub fn compile(batch: &Batch, env: &Env) -> Compiled {
    let mut c = Compiled {
        steps: Vec::new(),
        roles: Vec::new(),
    };
    for (ex, x) in batch.exchanges.iter().enumerate() {
        compile_exchange(&mut c, ex, x, env);
    }
    if batch.liveness {
        c.push(
            Step {
                liveness: Some(true),
                ..Default::default()
            },
            Role::Liveness,
        );
        if env.coap {
            c.push(coap_get(&env.probe_uri), Role::LivenessData);
            c.push(coap_answer(), Role::LivenessData);
        } else if env.probe {
            c.push(send("Probe"), Role::LivenessData);
            c.push(probe_reply(), Role::LivenessData);
        }
    }
    c
}

fn compile_exchange(c: &mut Compiled, ex: usize, x: &Exchange, env: &Env) {
    for s in setup(x.template) {
        c.push(s, Role::Prefix { ex, flight: None });
    }
    let original = flights(x.template, env);
    let fl = mutated_flights(x, env);
    let Some(target) = x.target.filter(|t| *t < fl.len()) else {
        for (i, f) in fl.into_iter().enumerate() {
            for s in f.sends.into_iter().chain(f.answer) {
                c.push(
                    s,
                    Role::Prefix {
                        ex,
                        flight: Some(i),
                    },
                );
            }
        }
        return;
    };
    for (i, f) in fl.iter().enumerate().take(target) {
        for s in f.sends.iter().chain(&f.answer) {
            c.push(
                s.clone(),
                Role::Prefix {
                    ex,
                    flight: Some(i),
                },
            );
        }
    }
    let judged = oracle::judge(x.template, &original, &fl, target, env);
    for s in &fl[target].sends {
        // A lost answer is only part of a flight that must be answered as usual: elsewhere
        // the loss would take the next exchange's first answer instead.
        if s.drop.is_some() && !matches!(judged, Judge::Equivalent(_)) {
            continue;
        }
        c.push(s.clone(), Role::Mutated { ex });
    }
    match judged {
        Judge::Accept { rule, follow_up } => {
            c.push(
                oracle::oracle_step(rule, follow_up, env),
                Role::Oracle { ex, rule },
            );
            if follow_up {
                c.push(send("Probe"), Role::FollowUp { ex });
                c.push(probe_reply(), Role::FollowUp { ex });
            }
        }
        Judge::Equivalent(kind) => {
            for s in &fl[target].answer {
                c.push(s.clone(), Role::Equivalent { ex, kind });
            }
            for f in &fl[target + 1..] {
                for s in f.sends.iter().chain(&f.answer) {
                    c.push(s.clone(), Role::Equivalent { ex, kind });
                }
            }
        }
        Judge::Robust => c.push(
            Step {
                wait: Some("500ms".into()),
                ..Default::default()
            },
            Role::Mutated { ex },
        ),
    }
}
