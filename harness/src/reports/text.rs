//! Escaping for XML and HTML, and keeping secrets out of what reports quote.

use std::path::{Path, PathBuf};

use super::model::CaseRecord;

/// Escapes text for XML 1.0 content and attribute values. Characters XML 1.0 cannot
/// carry at all (most C0 controls, lone surrogates cannot occur in a `str`, U+FFFE/F)
/// become U+FFFD, so a DUT's binary log output cannot make junit.xml unreadable.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// HTML needs the same escaping (text and quoted attributes).
pub fn html_escape(s: &str) -> String {
    xml_escape(s)
}

/// Replaces known secrets in text a report quotes (DUT output, traces).
#[derive(Clone, Debug, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    /// Hides the PSK as hex (either case) and, if printable, as text.
    pub fn with_psk(mut self, psk: &[u8]) -> Self {
        if psk.is_empty() {
            return self;
        }
        self.secrets.push(hex::encode(psk));
        self.secrets.push(hex::encode_upper(psk));
        if let Ok(t) = std::str::from_utf8(psk) {
            // Too short a text would redact ordinary words.
            if t.len() >= 6 && t.chars().all(|c| !c.is_control()) {
                self.secrets.push(t.to_string());
            }
        }
        self
    }

    /// The PSKs of the shipped DUT profiles named in a run (best effort: a profile
    /// given as a file elsewhere is not found by name). An interop pair's name names
    /// both of its profiles.
    pub fn for_duts<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        let mut r = Redactor::default();
        for n in names {
            let (a, b) = super::interop::split_name(n).unwrap_or((n, n));
            for name in [a, b] {
                if let Ok(p) = crate::dut::profile::find_profile(name) {
                    r = r.with_psk(&p.psk());
                }
            }
        }
        r
    }

    pub fn apply(&self, text: &str) -> String {
        let mut t = text.to_string();
        for s in &self.secrets {
            if t.contains(s.as_str()) {
                t = t.replace(s.as_str(), super::model::REDACTED);
            }
        }
        t
    }
}

/// Where a report finds the files a run left (evidence traces), and what it must hide.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    /// The output folder the records' relative paths start from.
    pub root: Option<PathBuf>,
    pub redactor: Redactor,
}

impl Sources {
    pub fn new(root: &Path, redactor: Redactor) -> Self {
        Sources {
            root: Some(root.to_path_buf()),
            redactor,
        }
    }

    /// The case's evidence trace, redacted, if the file is there.
    pub fn evidence(&self, c: &CaseRecord) -> Option<String> {
        let rel = c.evidence.as_ref()?;
        let text = std::fs::read(self.root.as_ref()?.join(rel)).ok()?;
        Some(self.redactor.apply(&String::from_utf8_lossy(&text)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_redacts() {
        assert_eq!(
            xml_escape("a<b>&\"c'\u{1}\n"),
            "a&lt;b&gt;&amp;&quot;c&#39;\u{FFFD}\n"
        );
        let r = Redactor::default().with_psk(b"secretPSK");
        assert_eq!(
            r.apply("k=73656372657450534B or 73656372657450534b or secretPSK"),
            "k=<redacted> or <redacted> or <redacted>"
        );
        assert_eq!(Redactor::default().with_psk(b"ab").apply("ab"), "ab");
    }
}
