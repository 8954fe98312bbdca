//! `dicetest check`: the suite in use (shipped, or `--suite DIR`), its interop descriptions,
//! and DUT profiles (shipped with the shipped suite, or one's own: `--profiles DIR`,
//! `--profile FILE`), each on its own terms; every error names file:line:column.

use std::path::{Path, PathBuf};

use clap::Args;

use super::suite_cmds::SuiteArgs;
use super::{EXIT_FAILED, EXIT_OK};
use crate::shipped;

#[derive(Args, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    pub suite: SuiteArgs,
    /// Folder of one's own DUT profiles (*.yaml) to validate; their baselines
    /// (expected_deviations) must name cases of the suite in use. Without it and without
    /// --profile, the shipped profiles are checked against the shipped suite (and not at all
    /// when --suite names another suite).
    #[arg(long, value_name = "DIR")]
    pub profiles: Option<PathBuf>,
    /// One DUT profile file to validate (repeatable); its baseline must name cases of the
    /// suite in use.
    #[arg(long = "profile", value_name = "FILE")]
    pub profile: Vec<PathBuf>,
}

/// Line and column (1-based) of the key `key` in a YAML text, the first one after the key
/// `after` (block or flow style); (1, 1) when it cannot be found.
pub fn key_position(text: &str, after: &str, key: &str) -> (u64, u64) {
    let is_key_at = |at: usize, k: &str| {
        let before = text[..at].chars().next_back();
        let rest = &text[at + k.len()..];
        let rest = rest
            .strip_prefix('"')
            .or_else(|| rest.strip_prefix('\''))
            .unwrap_or(rest);
        before.is_none_or(|c| c.is_whitespace() || "{,\"'".contains(c))
            && rest.trim_start_matches([' ', '\t']).starts_with(':')
    };
    let find = |from: usize, k: &str| {
        text[from..]
            .match_indices(k)
            .map(|(i, _)| from + i)
            .find(|&i| is_key_at(i, k))
    };
    let Some(at) = find(0, after).and_then(|a| find(a + after.len(), key)) else {
        return (1, 1);
    };
    let line = text[..at].matches('\n').count() + 1;
    let column = at - text[..at].rfind('\n').map_or(0, |n| n + 1) + 1;
    (line as u64, column as u64)
}

pub fn check(a: CheckArgs) -> i32 {
    let suite = a.suite.suite.as_deref();
    let (cases, mut errors) = shipped::load_cases(suite);
    let (interop, ierrs) = shipped::load_interop(suite);
    errors.extend(ierrs);
    // The profiles to validate: the user's own, or the shipped ones with the shipped suite.
    // A shipped profile's baseline names shipped cases; held against another suite it
    // would only report that suite's differences.
    let own = a.profiles.is_some() || !a.profile.is_empty();
    let mut sources = Vec::new();
    if own {
        if let Some(dir) = &a.profiles {
            let (files, errs) = shipped::profile_sources(Some(dir));
            if files.is_empty() && errs.is_empty() {
                errors.push(crate::cases::LoadError {
                    file: dir.clone(),
                    line: 0,
                    column: 0,
                    message: "no profile (*.yaml) in this folder".into(),
                    hint: None,
                });
            }
            sources.extend(files);
            errors.extend(errs);
        }
        for f in &a.profile {
            match std::fs::read_to_string(f) {
                Ok(t) => sources.push((f.clone(), t)),
                Err(e) => errors.push(crate::cases::LoadError::unreadable(f, &e)),
            }
        }
    } else if suite.is_none() {
        sources = shipped::profile_sources(None).0;
    }
    let mut profiles = Vec::new();
    for (file, text) in &sources {
        match crate::dut::profile::load_profile_str(file, text) {
            Ok(p) => profiles.push((p, file, text)),
            Err(e) => errors.push(e),
        }
    }
    // A profile's baseline may only name cases that exist.
    let ids: std::collections::HashSet<&str> = cases.iter().map(|c| c.case.id.as_str()).collect();
    for (p, file, text) in &profiles {
        for id in p.expected_deviations.keys() {
            if !ids.contains(id.as_str()) {
                let (line, column) = key_position(text, "expected_deviations", id);
                errors.push(crate::cases::LoadError {
                    file: file.to_path_buf(),
                    line,
                    column,
                    message: format!(
                        "expected_deviations names case {id}, which {} does not have",
                        a.suite.name().display()
                    ),
                    hint: Some(
                        "a baseline names case ids of the suite it is checked with (--suite DIR)"
                            .into(),
                    ),
                });
            }
        }
    }
    // An interop description's breaking pair names profiles that can play it: the ones
    // checked here, else shipped ones (names resolve as `interop --client NAME` does).
    let shipped_profiles = shipped::load_profiles(None).0;
    for (c, file) in &interop {
        let Some(pair) = &c.able_to_fail else {
            continue;
        };
        for (role, name) in [("client", &pair.client), ("server", &pair.server)] {
            let found = profiles
                .iter()
                .map(|(p, _, _)| p)
                .chain(&shipped_profiles)
                .find(|p| &p.name == name);
            let why = match found {
                None => Some(format!(
                    "able_to_fail {role} {name:?} is no profile (shipped: {}{})",
                    shipped::profile_names().join(", "),
                    a.profiles
                        .as_ref()
                        .map(|d| format!("; or in {}", d.display()))
                        .unwrap_or_default()
                )),
                Some(p) if role == "server" && p.start.is_none() => Some(format!(
                    "able_to_fail server {name} cannot be started as a server"
                )),
                Some(p)
                    if role == "client"
                        && p.client_start.is_none()
                        && p.interop.coap_client.is_none()
                        && p.interop.resume_client.is_none() =>
                {
                    Some(format!("able_to_fail client {name} has no client command"))
                }
                Some(_) => None,
            };
            if let Some(message) = why {
                let text = match suite {
                    None => shipped::interop_files()
                        .find(|(p, _)| Path::new(p) == file)
                        .map(|(_, t)| t.to_string()),
                    Some(_) => std::fs::read_to_string(file).ok(),
                };
                let (line, column) = text
                    .map(|t| key_position(&t, "able_to_fail", role))
                    .unwrap_or((1, 1));
                errors.push(crate::cases::LoadError {
                    file: file.clone(),
                    line,
                    column,
                    message,
                    hint: None,
                });
            }
        }
    }
    for e in &errors {
        eprintln!("{e}");
    }
    println!(
        "{} cases, {} interop cases and {} profiles checked, {} error(s)",
        cases.len(),
        interop.len(),
        profiles.len(),
        errors.len()
    );
    if errors.is_empty() {
        EXIT_OK
    } else {
        EXIT_FAILED
    }
}

#[cfg(test)]
mod tests {
    use super::key_position;

    #[test]
    fn key_position_finds_the_key_after_its_parent_in_block_and_flow_style() {
        let block = "name: a\nexpected_deviations:\n  CK-01: x\n  \"CK-02\": y\n";
        assert_eq!(key_position(block, "expected_deviations", "CK-01"), (3, 3));
        assert_eq!(key_position(block, "expected_deviations", "CK-02"), (4, 4));
        // A key of the same name before the parent, or a value, is not it.
        let t = "note: CK-01 is old\nCK-01: 1\nexpected_deviations: { CK-01: x }\n";
        assert_eq!(key_position(t, "expected_deviations", "CK-01"), (3, 24));
        assert_eq!(key_position(t, "expected_deviations", "CK-09"), (1, 1));
        let i = "id: I\nable_to_fail:\n  client: a\n  server: b\n";
        assert_eq!(key_position(i, "able_to_fail", "server"), (4, 3));
    }
}
