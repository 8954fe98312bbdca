//! The able-to-pass self-test, the mirror image of able-to-fail (harness/tests/suite_sim.rs):
//! every case against the simulated board with each legal-variation switch on
//! (dut-firmware/core/src/variations.rs: a behaviour the RFCs allow that the board does not
//! choose by default), and with all compatible ones together, must give `pass` or
//! `not_applicable`. A case that fails a legal variation blames a device for something the
//! RFCs allow: a defect of the case or the harness, never of the board.
//!
//! `cargo test --test able_to_pass -- psk_identity_hint::` runs one variation,
//! `-- ::CK-04` one case under every variation.

use std::path::PathBuf;

use dicetest::cases::{load_suite_dir, LoadedCase};
use dicetest::dut::profile::{find_profile, Profile};
use dicetest::runner::{run_case, Verdict};
use libtest_mimic::{Arguments, Failed, Trial};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn sim_profile() -> Profile {
    find_profile(root().join("profiles/sim.yaml").to_str().unwrap())
        .expect("profiles/sim.yaml loads")
}

/// How a user describes a device that makes this choice: what the profile of the board
/// says with the variation on. The one place that knows; a variation without a row here
/// fails `every_variation_has_a_row`.
struct Row {
    variation: &'static str,
    /// What changes in the profile.
    adjust: fn(&mut Profile),
    /// Left out of "all", and why: it hides or contradicts another variation.
    not_in_all: Option<&'static str>,
}

fn nothing(_: &mut Profile) {}

const TABLE: &[Row] = &[
    Row {
        variation: "psk_identity_hint",
        adjust: |p| p.application.identity_hint = Some("dicetest board".into()),
        not_in_all: None,
    },
    Row {
        variation: "hello_verify_request_version_1_2",
        adjust: nothing,
        not_in_all: None,
    },
    Row {
        variation: "hello_verify_request_record_version_1_2",
        adjust: nothing,
        not_in_all: None,
    },
    Row {
        variation: "hello_verify_request_server_version_1_2",
        adjust: nothing,
        not_in_all: None,
    },
    Row {
        // A device without the exchange does not claim it.
        variation: "no_cookie_exchange",
        adjust: |p| p.claims.retain(|c| c != "cookie_exchange"),
        not_in_all: Some("without a HelloVerifyRequest the other variations of it do nothing"),
    },
    Row {
        variation: "one_datagram_per_message",
        adjust: nothing,
        not_in_all: Some("contradicts messages_in_one_record (which takes precedence)"),
    },
    Row {
        variation: "messages_in_one_record",
        adjust: nothing,
        not_in_all: None,
    },
    Row {
        variation: "fragmented_flights",
        adjust: nothing,
        not_in_all: None,
    },
    Row {
        variation: "misses_datagram_after_hello_verify_request",
        adjust: nothing,
        not_in_all: None,
    },
    Row {
        variation: "early_retransmission",
        adjust: nothing,
        not_in_all: None,
    },
    Row {
        variation: "alerts_where_optional",
        adjust: nothing,
        not_in_all: None,
    },
    Row {
        variation: "unknown_identity_as_decrypt_error",
        adjust: nothing,
        not_in_all: None,
    },
    Row {
        variation: "closes_after_answer",
        adjust: |p| p.application.closes_after_answer = true,
        not_in_all: None,
    },
    Row {
        variation: "serial_server",
        adjust: |p| p.application.one_association_at_a_time = true,
        not_in_all: None,
    },
];

/// The board's profile with `rows` switched on, adjusted as a user would describe it.
fn varied_profile(label: &str, rows: &[&Row]) -> Profile {
    let mut p = sim_profile();
    p.name = format!("sim+{label}");
    for r in rows {
        p.variations.push(r.variation.to_string());
        (r.adjust)(&mut p);
    }
    p
}

/// The case must pass or not apply; otherwise its verdict, reason and trace.
fn judge(case: &LoadedCase, profile: &Profile) -> Result<(), Failed> {
    let r = run_case(case, profile, 1, &root());
    if matches!(r.verdict, Verdict::Pass | Verdict::NotApplicable) {
        Ok(())
    } else {
        Err(format!(
            "{} gave {} against a board with legal variations [{}] (expected pass or not_applicable): {}\n{}",
            case.case.id,
            r.verdict,
            profile.variations.join(", "),
            r.reason,
            r.trace.join("\n")
        )
        .into())
    }
}

fn main() {
    let args = Arguments::from_args();
    let (cases, errors) = load_suite_dir(&root().join("suites"));
    let mut trials = Vec::new();
    {
        let errors: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        trials.push(Trial::test(
            "able_to_pass::suites_load_without_errors",
            move || {
                if errors.is_empty() {
                    Ok(())
                } else {
                    Err(errors.join("\n").into())
                }
            },
        ));
    }
    trials.push(Trial::test(
        "able_to_pass::every_variation_has_a_row",
        || {
            let known = dut_sim::Variations::NAMES;
            let missing: Vec<&&str> = known
                .iter()
                .filter(|n| !TABLE.iter().any(|r| r.variation == **n))
                .collect();
            let unknown: Vec<&str> = TABLE
                .iter()
                .map(|r| r.variation)
                .filter(|n| !known.contains(n))
                .collect();
            if missing.is_empty() && unknown.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "variations without a row in TABLE: {missing:?}; rows naming no variation: {unknown:?}"
                )
                .into())
            }
        },
    ));
    let mut sets: Vec<(String, Profile)> = TABLE
        .iter()
        .map(|r| (r.variation.to_string(), varied_profile(r.variation, &[r])))
        .collect();
    let all: Vec<&Row> = TABLE.iter().filter(|r| r.not_in_all.is_none()).collect();
    sets.push(("all".to_string(), varied_profile("all", &all)));
    // Pairs not yet able to pass, listed with the reason (never hidden): they must still
    // fail, so the list cannot go stale.
    let gaps: Vec<(String, String)> =
        std::fs::read_to_string(root().join("suites/able-to-pass-gaps.txt"))
            .unwrap_or_default()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter_map(|l| {
                let mut w = l.split_whitespace();
                Some((w.next()?.to_string(), w.next()?.to_string()))
            })
            .collect();
    for (label, profile) in sets {
        for case in cases.iter().cloned() {
            let p = profile.clone();
            let listed = gaps.contains(&(label.clone(), case.case.id.clone()));
            trials.push(Trial::test(
                format!("able_to_pass::{label}::{}", case.case.id),
                move || match (judge(&case, &p), listed) {
                    (Ok(()), false) | (Err(_), true) => Ok(()),
                    (Err(e), false) => Err(e),
                    (Ok(()), true) => Err(format!(
                        "{} now passes under this variation: remove it from suites/able-to-pass-gaps.txt",
                        case.case.id
                    )
                    .into()),
                },
            ));
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
