//! `dicetest vectors`: checks every known-answer vector and says how many.

use std::path::PathBuf;

use clap::Args;

use super::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};

#[derive(Args, Debug)]
pub struct VectorsArgs {
    /// Folder of vector files (searched recursively for *.toml).
    #[arg(long, value_name = "DIR", default_value_os_t = default_dir())]
    pub dir: PathBuf,
    /// Print every vector, not only failures.
    #[arg(long, short)]
    pub verbose: bool,
}

/// `vectors/` of the source tree, or of the working directory.
fn default_dir() -> PathBuf {
    let here = PathBuf::from("vectors");
    if here.is_dir() {
        return here;
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("vectors")
}

pub fn run(a: VectorsArgs) -> i32 {
    if !a.dir.is_dir() {
        eprintln!(
            "dicetest vectors: {} is not a folder of vectors",
            a.dir.display()
        );
        return EXIT_USAGE;
    }
    let (results, errors) = crate::vectors::check_all(&a.dir);
    let mut failed = 0;
    for r in &results {
        match &r.result {
            Ok(detail) => {
                if a.verbose {
                    let d = if detail.is_empty() {
                        String::new()
                    } else {
                        format!(" — {detail}")
                    };
                    println!("ok    {} [{}]{d}", r.name, r.file.display());
                }
            }
            Err(e) => {
                failed += 1;
                println!(
                    "FAIL  {} [{}]: {e}\n      source: {}",
                    r.name,
                    r.file.display(),
                    r.source
                );
            }
        }
    }
    for e in &errors {
        println!("ERROR {}: {}", e.file.display(), e.error);
    }
    let transcripts = results
        .iter()
        .filter(|r| r.file.components().any(|c| c.as_os_str() == "transcripts"))
        .count();
    println!(
        "{} vectors checked ({} third-party handshake transcripts): {} passed, {} failed{}",
        results.len(),
        transcripts,
        results.len() - failed,
        failed,
        if errors.is_empty() {
            String::new()
        } else {
            format!(", {} unreadable files", errors.len())
        }
    );
    if failed > 0 || !errors.is_empty() || results.is_empty() {
        EXIT_FAILED
    } else {
        EXIT_OK
    }
}
