//! A sign of life on a terminal while long cases wait (some wait minutes by design, RFC 6347
//! §4.2.4.1's timer doubling up to 60 s): elapsed time, the cases running and for how long,
//! and an estimate of what is left. Only on a terminal; a log keeps its plain lines.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::runner::Progress;

/// Shared between the lanes' result callback and the heartbeat's thread.
#[derive(Default)]
pub struct Heartbeat {
    pub progress: Arc<Progress>,
    done: AtomicUsize,
    stop: AtomicBool,
    /// Held while a line is written, so the two writers never interleave.
    pub screen: Mutex<()>,
}

impl Heartbeat {
    pub fn case_done(&self, done: usize) {
        self.done.store(done, Ordering::SeqCst);
    }

    /// Starts the thread that redraws the status line every second (on a terminal only).
    pub fn start(self: &Arc<Self>, total: usize) -> Option<std::thread::JoinHandle<()>> {
        if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            return None;
        }
        let me = self.clone();
        let begun = Instant::now();
        Some(std::thread::spawn(move || {
            while !me.stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(1000));
                if me.stop.load(Ordering::SeqCst) {
                    break;
                }
                let line = status_line(
                    me.done.load(Ordering::SeqCst),
                    total,
                    begun.elapsed(),
                    &me.progress.running(),
                );
                let _g = me.screen.lock().unwrap_or_else(|p| p.into_inner());
                let mut err = std::io::stderr();
                let _ = write!(err, "\r\x1b[2K{line}");
                let _ = err.flush();
            }
        }))
    }

    pub fn finish(&self, thread: Option<std::thread::JoinHandle<()>>) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = thread {
            let _ = t.join();
            eprint!("\r\x1b[2K");
        }
    }
}

fn mins(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

/// `[#####-----] 12/97 · 1m23s · running CK-04 (45s), RTX-02 (12s) · about 3m10s left`
pub fn status_line(
    done: usize,
    total: usize,
    elapsed: Duration,
    running: &[(String, Duration)],
) -> String {
    let width = 20;
    let filled = done * width / total.max(1);
    let mut s = format!(
        "[{}{}] {done}/{total} · {}",
        "#".repeat(filled),
        "-".repeat(width - filled),
        mins(elapsed)
    );
    if !running.is_empty() {
        let shown: Vec<String> = running
            .iter()
            .take(3)
            .map(|(id, t)| format!("{id} ({})", mins(*t)))
            .collect();
        s += &format!(" · running {}", shown.join(", "));
        if running.len() > 3 {
            s += &format!(" +{}", running.len() - 3);
        }
    }
    // Wall time per case so far (the lanes already share it out): rough, and said to be.
    if done > 0 && done < total {
        let per_case = elapsed / done as u32;
        let left = per_case * (total - done) as u32;
        s += &format!(" · about {} left", mins(left));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_line_names_what_runs_and_what_is_left() {
        let l = status_line(
            10,
            40,
            Duration::from_secs(100),
            &[
                ("RTX-06".into(), Duration::from_secs(75)),
                ("CK-04".into(), Duration::from_secs(3)),
            ],
        );
        assert!(l.contains("10/40"), "{l}");
        assert!(l.contains("1m40s"), "{l}");
        assert!(l.contains("running RTX-06 (1m15s), CK-04 (3s)"), "{l}");
        assert!(l.contains("about 5m00s left"), "{l}");
    }
}
