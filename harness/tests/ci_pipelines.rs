//! The CI pipeline definitions under ci/ (GitHub Actions and GitLab CI) are parsed, and
//! every command they run must exist in this project: each script path, each `cd`
//! folder, each `dicetest` subcommand and flag (asked of the real binary's `--help`), each
//! inventory file they name, each cargo package and feature. A tool outside the project
//! must be one of a short list of standard ones, so a typo cannot hide there either.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("workspace root")
}

/// Standard tools a pipeline may call besides the project's own commands.
const STANDARD: &[&str] = &["echo", "test", "cat", "mkdir", "cp", "ls", "true", "export"];

fn load_yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).expect("pipeline file");
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every shell script of a pipeline, with its CI variables filled in with sample values.
fn scripts(path: &Path, doc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let map = doc.as_object().expect("a mapping");
    if let Some(jobs) = map.get("jobs").and_then(Value::as_object) {
        // GitHub Actions: jobs.*.steps[].run; ${{ ... }} expressions become a sample value.
        for job in jobs.values() {
            for step in job["steps"].as_array().into_iter().flatten() {
                if let Some(run) = step["run"].as_str() {
                    out.push(github_expressions(run));
                }
            }
        }
    } else {
        // GitLab CI: every other top-level key with a script is a job.
        let mut vars: BTreeMap<String, String> = BTreeMap::new();
        if let Some(v) = map.get("variables").and_then(Value::as_object) {
            for (k, x) in v {
                vars.insert(k.clone(), x.as_str().unwrap_or_default().to_string());
            }
        }
        for (name, job) in map {
            let mut vars = vars.clone();
            if let Some(first) = job["parallel"]["matrix"][0].as_object() {
                for (k, x) in first {
                    vars.insert(k.clone(), x.as_str().unwrap_or_default().to_string());
                }
            }
            for key in ["before_script", "script", "after_script"] {
                for line in job[key].as_array().into_iter().flatten() {
                    let line = line
                        .as_str()
                        .unwrap_or_else(|| panic!("{}: {name}.{key}", path.display()));
                    out.push(gitlab_variables(line, &vars));
                }
            }
        }
    }
    out
}

fn github_expressions(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("${{") {
        out.push_str(&rest[..i]);
        let end = rest[i..]
            .find("}}")
            .map(|j| i + j + 2)
            .unwrap_or(rest.len());
        out.push('1');
        rest = &rest[end..];
    }
    out + rest
}

fn gitlab_variables(s: &str, vars: &BTreeMap<String, String>) -> String {
    let mut s = s.to_string();
    // Longest names first, so $SHARD does not eat part of $SHARD_COUNT.
    let mut names: Vec<&String> = vars.keys().collect();
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    for k in names {
        s = s.replace(&format!("${k}"), &vars[k]);
    }
    s
}

/// Shell words of one command: quotes removed, no expansion.
fn words(cmd: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for ch in cmd.chars() {
        match (quote, ch) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(ch);
                any = true;
            }
            (None, c) if c.is_whitespace() => {
                if !cur.is_empty() || any {
                    out.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            (None, c) => cur.push(c),
        }
    }
    if !cur.is_empty() || any {
        out.push(cur);
    }
    out
}

/// The commands of a script: lines (with `\` continuations joined) split at `;`, `&&`,
/// `||` and `|`; a group's parentheses dropped.
fn commands(script: &str) -> Vec<Vec<String>> {
    let joined = script.replace("\\\n", " ");
    let mut out = Vec::new();
    for line in joined.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut w: Vec<String> = Vec::new();
        for word in words(line) {
            let word = word
                .trim_start_matches('(')
                .trim_end_matches(')')
                .to_string();
            if matches!(word.as_str(), ";" | "&&" | "||" | "|") {
                out.push(std::mem::take(&mut w));
            } else if let Some(head) = word.strip_suffix(';') {
                w.push(head.to_string());
                out.push(std::mem::take(&mut w));
            } else if !word.is_empty() {
                w.push(word);
            }
        }
        out.push(w);
    }
    out.into_iter().filter(|c| !c.is_empty()).collect()
}

struct Checker {
    root: PathBuf,
    problems: Vec<String>,
    /// Workspace package → its features.
    packages: BTreeMap<String, Vec<String>>,
}

impl Checker {
    fn new() -> Self {
        let root = root();
        let ws: toml::Value =
            toml::from_str(&std::fs::read_to_string(root.join("Cargo.toml")).unwrap()).unwrap();
        let mut packages = BTreeMap::new();
        for m in ws["workspace"]["members"].as_array().unwrap() {
            let manifest = root.join(m.as_str().unwrap()).join("Cargo.toml");
            let t: toml::Value =
                toml::from_str(&std::fs::read_to_string(manifest).unwrap()).unwrap();
            let name = t["package"]["name"].as_str().unwrap().to_string();
            let features = t
                .get("features")
                .and_then(|f| f.as_table())
                .map(|f| f.keys().cloned().collect())
                .unwrap_or_default();
            packages.insert(name, features);
        }
        Checker {
            root,
            problems: Vec::new(),
            packages,
        }
    }

    fn script(&mut self, origin: &str, script: &str) {
        let mut cwd = self.root.clone();
        for cmd in commands(script) {
            self.command(origin, &mut cwd, &cmd);
        }
    }

    fn command(&mut self, origin: &str, cwd: &mut PathBuf, cmd: &[String]) {
        // Leading VAR=value assignments, and redirections with their target.
        let mut w: Vec<&str> = Vec::new();
        let mut skip = false;
        for x in cmd {
            if skip {
                skip = false;
            } else if matches!(x.as_str(), ">" | ">>" | "<" | "2>") {
                skip = true;
            } else if w.is_empty() && x.contains('=') && !x.starts_with('-') {
            } else {
                w.push(x);
            }
        }
        let Some((&prog, args)) = w.split_first() else {
            return;
        };
        let mut problem = |p: String| self.problems.push(format!("{origin}: {p}"));
        match prog {
            "cd" => {
                let dir = cwd.join(args.first().copied().unwrap_or("."));
                if !dir.is_dir() {
                    problem(format!("cd {}: no such folder", dir.display()));
                }
                *cwd = dir;
            }
            "bash" | "sh" => match args.first() {
                Some(s) if cwd.join(s).is_file() => {}
                Some(s) => problem(format!("{prog} {s}: no such script")),
                None => problem(format!("{prog} without a script")),
            },
            "cargo" => self.cargo(origin, args),
            "dicetest" => self.dicetest(origin, args),
            p if p.ends_with("/dicetest") => self.dicetest(origin, args),
            p if p.contains('/') => {
                if !cwd.join(p).is_file() {
                    problem(format!("{p}: no such program in the project"));
                }
            }
            p if STANDARD.contains(&p) => {}
            p => problem(format!(
                "{p}: neither a project command nor a standard tool"
            )),
        }
    }

    fn cargo(&mut self, origin: &str, args: &[&str]) {
        let mut package = None;
        let mut features = Vec::new();
        let mut it = args.iter();
        let mut rest: Option<Vec<&str>> = None;
        while let Some(&a) = it.next() {
            match a {
                "-p" | "--package" => package = it.next().copied(),
                "--features" | "-F" => features.extend(it.next().copied()),
                "--" => {
                    rest = Some(it.by_ref().copied().collect());
                }
                _ => {}
            }
        }
        let Some(p) = package else {
            self.problems.push(format!(
                "{origin}: cargo {args:?} does not name its package (-p)"
            ));
            return;
        };
        let Some(known) = self.packages.get(p).cloned() else {
            self.problems.push(format!(
                "{origin}: cargo -p {p}: no such package in the workspace"
            ));
            return;
        };
        for f in features.iter().flat_map(|f| f.split(',')) {
            if !known.iter().any(|k| k == f) {
                self.problems
                    .push(format!("{origin}: package {p} has no feature {f:?}"));
            }
        }
        if let (Some(rest), "dicetest") = (rest, p) {
            self.dicetest(origin, &rest);
        }
    }

    /// A dicetest command line: the subcommand must exist and take every flag given.
    fn dicetest(&mut self, origin: &str, args: &[&str]) {
        let path: Vec<&str> = args
            .iter()
            .take_while(|a| !a.starts_with('-'))
            .copied()
            .collect();
        let help = |sub: &[&str]| {
            Command::new(env!("CARGO_BIN_EXE_dicetest"))
                .args(sub)
                .arg("--help")
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        };
        // The longest leading run of words that is a subcommand (the rest are operands).
        let found = (1..=path.len())
            .rev()
            .find_map(|k| help(&path[..k]).map(|h| (k, h)));
        let Some((k, text)) = found else {
            self.problems.push(format!(
                "{origin}: dicetest {}: no such subcommand",
                path.join(" ")
            ));
            return;
        };
        // A word after a command that has subcommands must be one of them.
        if k < path.len() && text.contains("\nCommands:\n") {
            self.problems.push(format!(
                "{origin}: dicetest {}: no such subcommand",
                path.join(" ")
            ));
            return;
        }
        let mut it = args.iter().skip(k);
        while let Some(a) = it.next() {
            let Some(flag) = a.strip_prefix("--") else {
                continue;
            };
            let name = flag.split('=').next().unwrap_or_default();
            if !text.contains(&format!("--{name} ")) && !text.contains(&format!("--{name}\n")) {
                self.problems.push(format!(
                    "{origin}: dicetest {} has no --{name}",
                    path[..k].join(" ")
                ));
            }
            if name == "inventory" {
                if let Some(f) = it.next() {
                    if let Err(e) = dicetest::farm::load_inventory(&self.root.join(f)) {
                        self.problems.push(format!("{origin}: {e}"));
                    }
                }
            }
        }
    }
}

fn pipeline_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["ci/github", "ci/gitlab"] {
        for e in std::fs::read_dir(root().join(dir)).expect(dir).flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "yml" || x == "yaml") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn every_command_the_pipelines_run_exists_in_the_project() {
    let files = pipeline_files();
    let names: Vec<String> = files
        .iter()
        .map(|f| f.strip_prefix(root()).unwrap().display().to_string())
        .collect();
    for want in [
        "ci/github/nightly-farm.yml",
        "ci/github/release-gate.yml",
        "ci/gitlab/nightly-farm.yml",
        "ci/gitlab/release-gate.yml",
    ] {
        assert!(names.iter().any(|n| n == want), "{want} missing: {names:?}");
    }
    let mut checker = Checker::new();
    let mut count = 0;
    for (f, name) in files.iter().zip(&names) {
        let doc = load_yaml(f);
        let scripts = scripts(f, &doc);
        assert!(!scripts.is_empty(), "{name} runs nothing");
        for s in &scripts {
            count += commands(s).len();
            checker.script(name, s);
        }
    }
    assert!(count >= 20, "only {count} commands found");
    assert!(
        checker.problems.is_empty(),
        "commands that do not exist:\n{}",
        checker.problems.join("\n")
    );
}

#[test]
fn the_checker_finds_what_does_not_exist() {
    let mut c = Checker::new();
    c.script(
        "bad",
        "bash scripts/no-such.sh\n\
         target/release/dicetest farm run --inventory farm/sim-farm.yaml --no-such-flag\n\
         target/release/dicetest farm launch --inventory x\n\
         cargo build -p dicetest --features no-such-feature\n\
         cargo build -p no-such-crate\n\
         (cd no/such/dir && true)\n\
         dicetst run\n\
         cargo run -p dicetest -- report merge --out o a b",
    );
    let p = c.problems.join("\n");
    for want in [
        "scripts/no-such.sh",
        "has no --no-such-flag",
        "farm launch",
        "no-such-feature",
        "no-such-crate",
        "no/such/dir",
        "dicetst",
    ] {
        assert!(p.contains(want), "missed {want}:\n{p}");
    }
    assert_eq!(c.problems.len(), 7, "{p}");
}

#[test]
fn the_pipelines_shard_over_farm_hosts_merge_and_publish() {
    let gh = load_yaml(&root().join("ci/github/nightly-farm.yml"));
    let shard = &gh["jobs"]["shard"];
    let include = shard["strategy"]["matrix"]["include"]
        .as_array()
        .expect("a matrix of farm hosts");
    assert!(include.len() >= 2);
    let runs_on: Vec<&str> = shard["runs-on"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(runs_on.contains(&"self-hosted") && runs_on.iter().any(|r| r.contains("matrix.host")));
    let all = scripts(Path::new("gh"), &gh).join("\n");
    assert!(
        all.contains(&format!("--shard 1/{}", include.len())),
        "{all}"
    );
    assert!(all.contains("report merge"));
    let text = std::fs::read_to_string(root().join("ci/github/nightly-farm.yml")).unwrap();
    assert!(
        text.contains("out/farm/report.html") && text.contains("report_paths: out/farm/junit.xml")
    );

    let gate = std::fs::read_to_string(root().join("ci/github/release-gate.yml")).unwrap();
    assert!(gate.contains("farm gate --from"));
    let gl = load_yaml(&root().join("ci/gitlab/nightly-farm.yml"));
    assert_eq!(
        gl["farm-report"]["artifacts"]["reports"]["junit"],
        "out/farm/junit.xml"
    );
    assert!(
        gl["farm-shard"]["parallel"]["matrix"]
            .as_array()
            .unwrap()
            .len()
            >= 2
    );
}
