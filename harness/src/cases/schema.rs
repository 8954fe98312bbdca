//! JSON Schemas of the case and profile formats, generated from the Rust types the loader
//! uses, so editors complete and validate files with exactly what `dicetest check` accepts.
//! Published as suites/schema/case.schema.json and profiles/schema/profile.schema.json.

use crate::cases::Case;
use crate::dut::Profile;

pub fn case_schema() -> String {
    let s = schemars::schema_for!(Case);
    serde_json::to_string_pretty(&s).unwrap_or_default() + "\n"
}

pub fn profile_schema() -> String {
    let s = schemars::schema_for!(Profile);
    serde_json::to_string_pretty(&s).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    /// The published schema files are regenerated with `dicetest schema > ...`; this test
    /// fails when the formats changed and the files were not.
    #[test]
    fn published_schemas_are_current() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let case = std::fs::read_to_string(root.join("suites/schema/case.schema.json"))
            .unwrap_or_default();
        assert_eq!(
            case,
            super::case_schema(),
            "run: dicetest schema > suites/schema/case.schema.json"
        );
        let profile = std::fs::read_to_string(root.join("profiles/schema/profile.schema.json"))
            .unwrap_or_default();
        assert_eq!(
            profile,
            super::profile_schema(),
            "run: dicetest schema --profile > profiles/schema/profile.schema.json"
        );
        assert!(case.contains("\"steps\"") && case.contains("\"expect\""));
    }
}
