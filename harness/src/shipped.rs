//! The shipped suite (suites/, with its interop descriptions) and the shipped DUT profiles
//! (profiles/*.yaml), built into the binary by harness/build.rs, so that `dicetest` finds
//! them from any folder and an installed binary needs no checkout for them. A shipped name
//! (`--dut sim`) always means the shipped profile, whatever the working directory holds;
//! a user's own suite or profile is given as a path (`--suite DIR`, `--dut ./my.yaml`).
//!
//! Every file keeps its path relative to the checkout (`suites/handshake/HS-01.yaml`), so
//! errors still read file:line:column. What a process profile needs on disk (`{root}`,
//! `{bin:NAME}`: dut-sim, peers/build/bin) still comes from the checkout the binary was
//! built from.

use std::path::{Path, PathBuf};

use crate::cases::load::{load_case_texts, yaml_files};
use crate::cases::{load_suite_dir, LoadError, LoadedCase};
use crate::dut::profile::{load_all_profiles, load_profile_texts, Profile};
use crate::interop::model::load_interop_texts;
use crate::interop::{load_interop_dir, InteropCase};

mod table {
    include!(concat!(env!("OUT_DIR"), "/shipped.rs"));
}

/// How the shipped suite is named where a folder would be (`--case X matches no case in …`).
pub const SUITE_NAME: &str = "the shipped suite";

/// The shipped case files: under suites/, except schemas and interop descriptions (their
/// own format), as `load_suite_dir` skips them.
pub fn case_files() -> impl Iterator<Item = (&'static str, &'static str)> {
    table::SUITES.iter().copied().filter(|(p, _)| {
        !p.split('/')
            .skip(1)
            .any(|c| c == "schema" || c == "interop")
    })
}

/// The shipped interop descriptions: suites/interop/*.yaml (not its sub-folders, as
/// `load_interop_dir`).
pub fn interop_files() -> impl Iterator<Item = (&'static str, &'static str)> {
    table::SUITES.iter().copied().filter(|(p, _)| {
        p.strip_prefix("suites/interop/")
            .is_some_and(|rest| !rest.contains('/'))
    })
}

/// The shipped profiles: profiles/*.yaml.
pub fn profile_files() -> impl Iterator<Item = (&'static str, &'static str)> {
    table::PROFILES.iter().copied()
}

/// The shipped profile file named `name` (`sim` is profiles/sim.yaml): its path and text.
pub fn profile(name: &str) -> Option<(&'static str, &'static str)> {
    profile_files().find(|(p, _)| {
        p.strip_prefix("profiles/")
            .and_then(|f| f.strip_suffix(".yaml").or_else(|| f.strip_suffix(".yml")))
            == Some(name)
    })
}

/// The names of the shipped profiles, sorted.
pub fn profile_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = profile_files()
        .filter_map(|(p, _)| {
            let f = p.strip_prefix("profiles/")?;
            f.strip_suffix(".yaml").or_else(|| f.strip_suffix(".yml"))
        })
        .collect();
    names.sort_unstable();
    names
}

/// `--suite DIR` as given, or the shipped suite.
pub fn suite_name(suite: Option<&Path>) -> PathBuf {
    suite.map_or_else(|| PathBuf::from(SUITE_NAME), Path::to_path_buf)
}

/// The cases of `--suite DIR`, or of the shipped suite when there is none; duplicate ids
/// are errors either way.
pub fn load_cases(suite: Option<&Path>) -> (Vec<LoadedCase>, Vec<LoadError>) {
    match suite {
        Some(dir) => load_suite_dir(dir),
        None => load_case_texts(case_files()),
    }
}

/// The interop descriptions of `--suite DIR` (DIR/interop), or the shipped ones.
pub fn load_interop(suite: Option<&Path>) -> (Vec<(InteropCase, PathBuf)>, Vec<LoadError>) {
    match suite {
        Some(dir) => load_interop_dir(&dir.join("interop")),
        None => load_interop_texts(interop_files()),
    }
}

/// The profile files of `--profiles DIR` (its *.yaml, sorted), or the shipped ones: each
/// file's path and text (`dicetest check` points an error at the line of a key).
pub fn profile_sources(dir: Option<&Path>) -> (Vec<(PathBuf, String)>, Vec<LoadError>) {
    match dir {
        Some(dir) => yaml_files(dir),
        None => (
            profile_files()
                .map(|(p, t)| (PathBuf::from(p), t.to_string()))
                .collect(),
            Vec::new(),
        ),
    }
}

/// The profiles of `--profiles DIR`, or the shipped ones.
pub fn load_profiles(dir: Option<&Path>) -> (Vec<Profile>, Vec<LoadError>) {
    match dir {
        Some(dir) => load_all_profiles(dir),
        None => load_profile_texts(profile_files()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dut::profile::load_all_profiles;

    #[test]
    fn every_shipped_file_is_embedded_and_loads() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        // The embedded tables match the checkout the crate was built from.
        let (cases, errors) = load_cases(None);
        assert!(errors.is_empty(), "{errors:?}");
        let (on_disk, _) = load_suite_dir(&root.join("suites"));
        assert_eq!(cases.len(), on_disk.len());
        assert!(cases
            .iter()
            .all(|c| c.file.starts_with("suites/") && !c.file.is_absolute()));
        let (interop, errors) = load_interop(None);
        assert!(errors.is_empty(), "{errors:?}");
        let (interop_disk, _) = load_interop_dir(&root.join("suites/interop"));
        assert_eq!(interop.len(), interop_disk.len());
        let (profiles, errors) = load_profiles(None);
        assert!(errors.is_empty(), "{errors:?}");
        let (profiles_disk, _) = load_all_profiles(&root.join("profiles"));
        assert_eq!(profiles.len(), profiles_disk.len());
        assert!(profile_names().contains(&"sim"));
        assert_eq!(profile("sim").map(|(p, _)| p), Some("profiles/sim.yaml"));
        assert!(profile("schema").is_none() && profile("nope").is_none());
    }
}
