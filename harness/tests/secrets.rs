//! Secrets stay secret: a PSK never appears in any file dicetest writes (reports of every
//! format, journals, evidence traces, pcapng captures, fuzzing findings and reproducers,
//! interop folders) nor in what it prints, unless the user asks for key logs.
//!
//! Every run uses a PSK found nowhere else (copies of the shipped profiles with the key
//! replaced), and every output file and the command's stdout/stderr are searched for it
//! in ASCII, lower- and upper-case hex and base64. Without `--keylog` no NSS key log line
//! may appear either; with `--keylog` it must (so the search demonstrably finds what is
//! there), while the PSK still must not.
//!
//! The runs: the suite against the in-process board, against a process DUT (dut-sim), an
//! interop session (GnuTLS client, dut-sim server; gnutls-cli missing fails the test with
//! the fix)
//! and a `dicetest fuzz` campaign against a board with fault switches on, so findings,
//! reproducer YAML and their captures are written too. A new command that writes files is
//! one more entry in `runs()`.
//!
//! The key files dicetest hands to DUT programs (`{pskfile}`): mode 0600 in a 0700
//! directory with a random name, gone once the DUT process is dropped, and a directory
//! left by a process killed with SIGKILL removed at the next start. And no process
//! listing (every /proc/PID/cmdline) of a running dut-sim profile holds the key.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The key: printable, so its ASCII form is a meaningful needle.
const PSK_ASCII: &str = "Zq7-dicetest-PSK-never-shown";

fn psk_hex() -> String {
    PSK_ASCII.bytes().map(|b| format!("{b:02x}")).collect()
}

fn base64(b: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in b.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..=c.len() {
            out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// Every form the PSK could take in a file.
fn psk_forms() -> Vec<(&'static str, Vec<u8>)> {
    forms(PSK_ASCII)
}

/// Every form key `ascii` could take in a file.
fn forms(ascii: &str) -> Vec<(&'static str, Vec<u8>)> {
    let hex: String = ascii.bytes().map(|b| format!("{b:02x}")).collect();
    // Base64 of the key minus its last byte: a prefix of every alignment-0 encoding,
    // without the padding-dependent tail.
    let b64 = base64(&ascii.as_bytes()[..ascii.len() / 3 * 3]);
    vec![
        ("ascii", ascii.as_bytes().to_vec()),
        ("hex", hex.clone().into_bytes()),
        ("HEX", hex.to_uppercase().into_bytes()),
        ("base64", b64.into_bytes()),
    ]
}

/// What an NSS key log line starts with (RFC 5246 master secrets, as Wireshark reads them).
const KEYLOG_NEEDLE: &[u8] = b"CLIENT_RANDOM ";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn scratch(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("dicetest-secrets-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).expect("scratch");
    p
}

/// A copy of a shipped profile with the secrets test's PSK (and any extra lines).
fn profile(dir: &Path, shipped: &str, extra: &str) -> PathBuf {
    let text = std::fs::read_to_string(root().join("profiles").join(format!("{shipped}.yaml")))
        .expect("shipped profile");
    assert!(text.contains("psk_hex: 73656372657450534b"), "{shipped}");
    let text = text.replace(
        "psk_hex: 73656372657450534b",
        &format!("psk_hex: {}", psk_hex()),
    ) + extra;
    let p = dir.join(format!("{shipped}-secret.yaml"));
    std::fs::write(&p, text).expect("profile copy");
    p
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// (file, form) for every needle found in any file under `dir`.
fn find(dir: &Path, needles: &[(&'static str, Vec<u8>)]) -> Vec<(PathBuf, &'static str)> {
    let mut hits = Vec::new();
    for f in files(dir) {
        let bytes = std::fs::read(&f).unwrap_or_default();
        for (form, n) in needles {
            if contains(&bytes, n) {
                hits.push((f.clone(), *form));
            }
        }
    }
    hits
}

/// Runs dicetest; its stdout and stderr are kept in `out` as files, so they are searched
/// like everything it wrote.
fn dicetest(out: &Path, args: &[&str]) -> i32 {
    let o = Command::new(env!("CARGO_BIN_EXE_dicetest"))
        .current_dir(root())
        .args(args)
        .output()
        .expect("dicetest runs");
    std::fs::create_dir_all(out).expect("out");
    std::fs::write(out.join("dicetest.stdout"), &o.stdout).expect("stdout");
    std::fs::write(out.join("dicetest.stderr"), &o.stderr).expect("stderr");
    o.status.code().unwrap_or(-1)
}

fn build_dut_sim() {
    let status = Command::new(env!("CARGO"))
        .current_dir(root())
        .args(["build", "-q", "-p", "dut-sim"])
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building dut-sim failed");
}

fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// One run: its name, the folder it writes, and whether it must have produced files.
struct Run {
    name: &'static str,
    out: PathBuf,
    code: i32,
}

fn runs(dir: &Path) -> Vec<Run> {
    let sim = profile(dir, "sim", "");
    let dut_sim = profile(dir, "dut-sim", "");
    let mut runs = Vec::new();
    let mut go = |name: &'static str, args: Vec<String>| {
        let out = dir.join(name);
        let mut a: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = out.display().to_string();
        a.extend(["--out", o.as_str()]);
        let code = dicetest(&out, &a);
        runs.push(Run { name, out, code });
    };
    let cases = |ids: &[&str]| -> Vec<String> {
        ids.iter()
            .flat_map(|c| ["--case".to_string(), (*c).to_string()])
            .collect()
    };
    let mut a = vec!["run".into(), "--dut".into(), sim.display().to_string()];
    a.extend(cases(&[
        "CK-01", "HS-01", "HS-02", "COAPS-01", "RES-01", "ALRT-01", "ALRT-05", "DOS-02",
    ]));
    go("suite-sim", a);

    let mut a = vec!["run".into(), "--dut".into(), dut_sim.display().to_string()];
    a.extend(cases(&["HS-01", "COAPS-01", "ALRT-05"]));
    go("suite-dut-sim", a);

    assert!(
        have("gnutls-cli"),
        "gnutls-cli is not installed: run scripts/install-peers.sh (the interop session is searched too)"
    );
    {
        let gnutls = profile(dir, "gnutls", "");
        go(
            "interop",
            vec![
                "interop".into(),
                "--client".into(),
                gnutls.display().to_string(),
                "--server".into(),
                dut_sim.display().to_string(),
                "--case".into(),
                "INT-EMS-01".into(),
            ],
        );
    }

    // A campaign that finds something, so findings and reproducers are written too.
    let faulty = profile(dir, "sim", "");
    let text = std::fs::read_to_string(&faulty)
        .expect("copy")
        .replace(
            "faults: []",
            "faults: [no_replay_window, accept_unencrypted_finished]",
        )
        .replace("name: sim", "name: sim-faulty");
    let faulty = dir.join("sim-faulty.yaml");
    std::fs::write(&faulty, text).expect("faulty profile");
    go(
        "fuzz",
        vec![
            "fuzz".into(),
            "--dut".into(),
            faulty.display().to_string(),
            "--iterations".into(),
            "300".into(),
            "--seed".into(),
            "7".into(),
        ],
    );
    runs
}

#[test]
fn the_search_finds_every_form_of_the_psk_when_it_is_there() {
    let dir = scratch("planted");
    std::fs::create_dir_all(dir.join("deep")).expect("dir");
    for (form, needle) in psk_forms() {
        let mut junk = vec![0u8, 0xff, 7];
        junk.extend(&needle);
        junk.extend([1, 2, 3]);
        std::fs::write(dir.join("deep").join(form), &junk).expect("plant");
    }
    let hits = find(&dir, &psk_forms());
    assert_eq!(hits.len(), psk_forms().len(), "{hits:?}");
    for (f, form) in &hits {
        assert!(f.ends_with(form), "{} found in {}", form, f.display());
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn no_output_of_any_command_contains_the_psk_and_key_logs_appear_only_on_request() {
    build_dut_sim();
    let dir = scratch("runs");
    let runs = runs(&dir);
    let mut needles = psk_forms();
    needles.push(("key log", KEYLOG_NEEDLE.to_vec()));
    for r in &runs {
        // Exit 1 is fine (verdicts against the baseline; a campaign's findings); 2 is not.
        assert!(
            matches!(r.code, 0 | 1),
            "{} exited {}: {}",
            r.name,
            r.code,
            std::fs::read_to_string(r.out.join("dicetest.stderr")).unwrap_or_default()
        );
        let written = files(&r.out);
        assert!(
            written.len() > 4,
            "{} wrote almost nothing: {written:?}",
            r.name
        );
        let hits = find(&r.out, &needles);
        assert!(
            hits.is_empty(),
            "{}: secrets in its output: {:?}",
            r.name,
            hits
        );
        let said = std::fs::read_to_string(r.out.join("dicetest.stdout")).unwrap_or_default();
        eprintln!(
            "{}: {} files, no secret; {}",
            r.name,
            written.len(),
            said.lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or_default()
        );
    }
    // The campaign found its faults, so reproducers and their captures were searched too.
    let fuzz = runs.iter().find(|r| r.name == "fuzz").expect("fuzz run");
    let reproducers = files(&fuzz.out)
        .into_iter()
        .filter(|f| f.extension().is_some_and(|e| e == "yaml"))
        .count();
    assert!(reproducers > 0, "the campaign wrote no reproducer");

    // With --keylog the key log is there (in the capture), and the PSK still is not.
    let sim = profile(&dir, "sim", "");
    let out = dir.join("keylog");
    let o = out.display().to_string();
    let s = sim.display().to_string();
    let code = dicetest(
        &out,
        &[
            "run", "--dut", &s, "--case", "HS-01", "--keylog", "--out", &o,
        ],
    );
    assert_eq!(code, 0);
    let hits = find(&out, &needles);
    assert!(
        hits.iter()
            .any(|(f, form)| *form == "key log" && f.extension().is_some_and(|e| e == "pcapng")),
        "--keylog wrote no key log into the capture: {hits:?}"
    );
    assert!(
        hits.iter().all(|(_, form)| *form == "key log"),
        "the PSK leaked with --keylog: {hits:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A pid that no process has right now.
fn dead_pid() -> u32 {
    let max: u32 = std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(32768);
    (2..max)
        .rev()
        .find(|p| !Path::new(&format!("/proc/{p}")).exists())
        .expect("a free pid")
}

fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}

/// Every process's command line, as `ps` or any user of the machine sees them.
fn all_cmdlines() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if name.bytes().all(|b| b.is_ascii_digit()) {
            if let Ok(c) = std::fs::read(e.path().join("cmdline")) {
                out.push((name, c));
            }
        }
    }
    out
}

#[cfg(target_os = "linux")]
#[test]
fn the_key_file_is_private_unpredictable_gone_after_drop_and_never_on_a_command_line() {
    use dicetest::dut::process::DutProcess;
    build_dut_sim();
    let dir = scratch("keyfile");
    // A key of this test's own: the other test runs third-party clients (gnutls-cli
    // --pskkey) that do put the run's key on their command lines.
    const KEY: &str = "Zq7-keyfile-test-only-PSK";
    let key_hex: String = KEY.bytes().map(|b| format!("{b:02x}")).collect();
    let path = profile(&dir, "dut-sim", "");
    let text = std::fs::read_to_string(&path)
        .expect("copy")
        .replace(&psk_hex(), &key_hex);
    std::fs::write(&path, text).expect("profile");
    let p = dicetest::dut::profile::load_profile_file(&path).expect("profile");
    let a = DutProcess::start(&p, &root()).expect("dut-sim starts");
    let b = DutProcess::start(&p, &root()).expect("a second dut-sim starts");
    let (fa, fb) = (
        a.pskfile()
            .expect("the profile uses {pskfile}")
            .to_path_buf(),
        b.pskfile().expect("{pskfile}").to_path_buf(),
    );
    let (da, db) = (fa.parent().unwrap(), fb.parent().unwrap());

    // The file holds the key (so it is the file to protect), 0600, in a 0700 directory.
    let text = std::fs::read_to_string(&fa).expect("key file");
    assert!(text.contains(&key_hex), "not the key file");
    assert_eq!(mode(&fa), 0o600, "{}", fa.display());
    assert_eq!(mode(da), 0o700, "{}", da.display());
    // Not a predictable path: a directory of its own per process, named with a random
    // part, under the temp folder (the old name was dicetest-psk-PID-PORT there).
    assert_ne!(da, db, "two DUT processes share a key directory");
    assert_eq!(da.parent(), Some(std::env::temp_dir().as_path()));
    let name = da.file_name().unwrap().to_string_lossy().to_string();
    let prefix = format!("dicetest-keys-{}-", std::process::id());
    assert!(
        name.starts_with(&prefix) && name.len() >= prefix.len() + 8,
        "{name}"
    );
    assert!(!name.contains(&a.port.to_string()), "{name}");

    // The search finds the key on a command line where it is: a process of ours with it.
    // `read` is a builtin: the shell never execs another program, so its command line
    // (with the key) stays what it is until it is killed.
    let mut planted = Command::new("sh")
        .args(["-c", "read x", "planted", &key_hex])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("sh");
    // Between fork and exec the child still shows this test's command line: look again
    // until it has exec'd (a bound, not a timing assertion).
    let mut hits: Vec<String> = Vec::new();
    for _ in 0..100 {
        hits = all_cmdlines()
            .into_iter()
            .filter(|(_, c)| forms(KEY).iter().any(|(_, n)| contains(c, n)))
            .map(|(pid, _)| pid)
            .collect();
        if !hits.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = planted.kill();
    let _ = planted.wait();
    assert_eq!(
        hits,
        vec![planted.id().to_string()],
        "the listing search is blind"
    );

    // No command line of any process holds the key; the dut-sim ones are among those
    // read (each names its key file), so the search looked where the key would be.
    let listing = all_cmdlines();
    for (dut, file) in [(&a, &fa), (&b, &fb)] {
        let own = listing
            .iter()
            .find(|(pid, _)| *pid == dut.pid().to_string())
            .expect("dut-sim in the listing");
        assert!(contains(&own.1, file.to_str().unwrap().as_bytes()));
    }
    for (pid, cmdline) in &listing {
        for (form, n) in forms(KEY) {
            assert!(
                !contains(cmdline, &n),
                "the PSK ({form}) on the command line of pid {pid}"
            );
        }
    }

    drop(a);
    assert!(!fa.exists() && !da.exists(), "{} left", da.display());
    assert!(fb.exists(), "one drop removed another process's key");
    drop(b);
    assert!(!fb.exists() && !db.exists(), "{} left", db.display());
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(target_os = "linux")]
#[test]
fn a_key_directory_left_by_a_killed_run_is_removed_at_the_next_start() {
    build_dut_sim();
    let dir = scratch("stale");
    let tmp = dir.join("tmp");
    std::fs::create_dir_all(&tmp).expect("tmp");
    // What a dicetest killed with SIGKILL leaves: its key directory, its pid gone.
    let stale = tmp.join(format!("dicetest-keys-{}-Qx81kfAz09Lm", dead_pid()));
    std::fs::create_dir(&stale).expect("stale dir");
    std::fs::write(
        stale.join("psk"),
        format!("Client_identity:{}\n", psk_hex()),
    )
    .expect("psk");
    // A directory of a process still alive (this test) stays.
    let live = tmp.join(format!("dicetest-keys-{}-LiveLiveLive", std::process::id()));
    std::fs::create_dir(&live).expect("live dir");

    let dut_sim = profile(&dir, "dut-sim", "");
    let out = dir.join("run");
    let o = Command::new(env!("CARGO_BIN_EXE_dicetest"))
        .current_dir(root())
        .env("TMPDIR", &tmp)
        .args(["run", "--dut", dut_sim.to_str().unwrap(), "--case", "HS-01"])
        .arg("--out")
        .arg(&out)
        .output()
        .expect("dicetest runs");
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        !stale.exists(),
        "the dead run's key directory is still there"
    );
    assert!(live.exists(), "a live process's key directory was removed");
    // The run's own key directory went with its DUT process.
    let left: Vec<_> = std::fs::read_dir(&tmp)
        .expect("tmp")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("dicetest-keys-") && !n.ends_with("LiveLiveLive"))
        .collect();
    assert!(left.is_empty(), "key directories left: {left:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
