use std::path::PathBuf;

use super::*;

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../vectors/crypto")
}

/// Writes `text` to a fresh temporary file and returns its path.
fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dicetest-crypto-kat-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn every_vector_file_passes() {
    let dir = vectors_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no vector files in {}", dir.display());

    let mut total = 0;
    for file in &files {
        let outcomes = check_kat_file(file).unwrap_or_else(|e| panic!("{e}"));
        assert!(!outcomes.is_empty());
        for o in &outcomes {
            assert!(!o.source.trim().is_empty());
            assert_eq!(&o.file, file);
            if let Err(why) = &o.result {
                panic!("{}: {}: {why}", file.display(), o.name);
            }
        }
        total += outcomes.len();
    }
    assert!(total >= 20, "only {total} known-answer vectors");
    assert_eq!(check_kat_dir(&dir).unwrap().len(), total);
}

#[test]
fn every_kind_is_covered_by_a_file() {
    let outcomes = check_kat_dir(&vectors_dir()).unwrap();
    let text: Vec<String> = outcomes
        .iter()
        .map(|o| std::fs::read_to_string(&o.file).unwrap())
        .collect();
    for kind in [
        "aes128",
        "aes-ccm",
        "hmac-sha256",
        "tls12-prf-sha256",
        "psk-premaster",
        "dtls-ccm8-record",
        "dtls-ccm-record",
        "dtls-cbc-sha256-record",
        "ecdh-p256",
        "ecdsa-p256-sha256",
    ] {
        let line = format!("kind = \"{kind}\"");
        assert!(
            text.iter().any(|t| t.contains(&line)),
            "no file of kind {kind}"
        );
    }
}

const GOOD_PRF: &str = r#"source = "test"
kind = "tls12-prf-sha256"

[[vector]]
name = "prf"
secret = "9bbe436ba940f017b17652849a71db35"
label = "test label"
seed = "a0ba9f936cda311827a6f796ffd5198c"
output = "e3f229ba727be17b8d122620557cd453"
"#;

#[test]
fn a_wrong_expected_value_fails() {
    let ok = check_kat_file(&temp_file("good.toml", GOOD_PRF)).unwrap();
    assert_eq!(ok.len(), 1);
    assert_eq!(ok[0].result, Ok(()));
    assert_eq!(ok[0].name, "prf");
    assert_eq!(ok[0].source, "test");

    let bad = GOOD_PRF.replace("e3f229ba", "e3f229bb");
    let outcomes = check_kat_file(&temp_file("bad.toml", &bad)).unwrap();
    let err = outcomes[0].result.as_ref().unwrap_err();
    assert!(err.contains("PRF output differs"), "{err}");
}

#[test]
fn wrong_values_fail_for_every_kind() {
    // Flip one hex digit of the last expected field of each real vector
    // file's first vector, and see the check fail.
    for file in check_kat_dir(&vectors_dir())
        .unwrap()
        .into_iter()
        .map(|o| o.file)
        .collect::<std::collections::BTreeSet<_>>()
    {
        let text = std::fs::read_to_string(&file).unwrap();
        let expected_field = [
            "ciphertext = \"",
            "mac = \"",
            "output = \"\"\"\n",
            "premaster = \"",
            "fragment = \"",
            "shared = \"",
            "\ns = \"",
        ]
        .into_iter()
        .find_map(|f| text.find(f).map(|i| i + f.len()))
        .unwrap_or_else(|| panic!("no expected field in {}", file.display()));
        let mut bytes = text.into_bytes();
        bytes[expected_field] = if bytes[expected_field] == b'0' {
            b'1'
        } else {
            b'0'
        };
        let corrupted = String::from_utf8(bytes).unwrap();
        let name = file.file_name().unwrap().to_str().unwrap();
        let outcomes = check_kat_file(&temp_file(name, &corrupted)).unwrap();
        assert!(
            outcomes[0].result.is_err(),
            "{name}: corrupted first vector still passes"
        );
    }
}

#[test]
fn malformed_hex_has_a_line_and_column() {
    let bad = GOOD_PRF.replace("seed = \"a0ba", "seed = \"x0ba");
    let err = check_kat_file(&temp_file("hex.toml", &bad)).unwrap_err();
    match &err {
        KatError::Malformed {
            line,
            column,
            message,
            ..
        } => {
            assert_eq!(*line, Some(8));
            assert_eq!(*column, Some(8));
            assert!(message.contains("hex"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("hex.toml:8:8"), "{err}");
}

#[test]
fn unknown_kind_field_or_missing_field_is_malformed() {
    let cases = [
        (GOOD_PRF.replace("tls12-prf-sha256", "tls13-hkdf"), 2),
        (GOOD_PRF.replace("label =", "lable ="), 7),
        (
            GOOD_PRF.replace("seed = \"a0ba9f936cda311827a6f796ffd5198c\"\n", ""),
            4,
        ),
        (GOOD_PRF.replace("source", "sauce"), 1),
        (GOOD_PRF.replace("secret = \"", "secret = 1 #\""), 6),
    ];
    for (i, (text, expected_line)) in cases.iter().enumerate() {
        let err = check_kat_file(&temp_file(&format!("m{i}.toml"), text)).unwrap_err();
        match err {
            KatError::Malformed { line, .. } => {
                assert_eq!(line, Some(*expected_line), "case {i}: {text}")
            }
            other => panic!("case {i}: {other:?}"),
        }
    }
}

#[test]
fn empty_files_and_sources_are_malformed() {
    let no_vectors = "source = \"x\"\nkind = \"aes128\"\n";
    assert!(matches!(
        check_kat_file(&temp_file("empty.toml", no_vectors)),
        Err(KatError::Malformed { ref message, .. }) if message.contains("no [[vector]]")
    ));
    let no_source = GOOD_PRF.replace("source = \"test\"", "source = \" \"");
    assert!(matches!(
        check_kat_file(&temp_file("nosource.toml", &no_source)),
        Err(KatError::Malformed { ref message, .. }) if message.contains("source")
    ));
    assert!(matches!(
        check_kat_file(&temp_file("syntax.toml", "source = \n")),
        Err(KatError::Malformed { line: Some(1), .. })
    ));
}

#[test]
fn missing_file_is_unreadable() {
    let path = Path::new("/nonexistent/dicetest/vectors.toml");
    let err = check_kat_file(path).unwrap_err();
    assert!(matches!(err, KatError::Unreadable { .. }));
    assert!(err
        .to_string()
        .starts_with("/nonexistent/dicetest/vectors.toml: cannot read"));
}

#[test]
fn line_column_counts_from_one() {
    assert_eq!(line_column("abc\ndef", 0), (1, 1));
    assert_eq!(line_column("abc\ndef", 5), (2, 2));
    assert_eq!(line_column("é\nx", 3), (2, 1));
}
