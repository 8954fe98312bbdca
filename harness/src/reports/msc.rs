//! A case's exchange as a message sequence chart in inline SVG: the harness's lifeline on
//! the left, the DUT's on the right, one arrow per datagram with a line per record.

use std::fmt::Write;

use super::chart::{ChartDatagram, Protection, MAX_CHART_DATAGRAMS};
use super::text::html_escape as esc;

const WIDTH: u32 = 860;
const LEFT: u32 = 190;
const RIGHT: u32 = 690;
const TOP: u32 = 52;
const LINE: u32 = 15;
/// Characters of a record line that fit between the lifelines at 11.5px monospace.
const MAX_CHARS: usize = 68;

fn short(s: &str) -> String {
    if s.chars().count() <= MAX_CHARS {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(MAX_CHARS - 1).collect();
        t.push('…');
        t
    }
}

/// The chart; `dut_name` labels the DUT's lifeline.
pub fn render(chart: &[ChartDatagram], dut_name: &str, dut_is_client: bool) -> String {
    let (harness_role, dut_role) = if dut_is_client {
        ("server", "client")
    } else {
        ("client", "server")
    };
    render_lanes(
        chart,
        &format!("dicetest ({harness_role})"),
        &format!("DUT {} ({dut_role})", short(dut_name)),
    )
}

/// The chart with its own lifeline labels: `left` for the side datagrams with `from_dut`
/// false come from (an interop session's client), `right` for the other.
pub fn render_lanes(chart: &[ChartDatagram], left: &str, right: &str) -> String {
    let rows: Vec<u32> = chart
        .iter()
        .map(|d| {
            let lines = d.records.len().max(1) as u32 + u32::from(d.malformed.is_some());
            lines * LINE + 18
        })
        .collect();
    let height = TOP + rows.iter().sum::<u32>() + 24;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<svg class=\"msc\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {height}\" width=\"{WIDTH}\" height=\"{height}\" role=\"img\" aria-label=\"message sequence chart\">"
    );
    for (x, label) in [(LEFT, short(left)), (RIGHT, short(right))] {
        let _ = writeln!(
            s,
            "<rect class=\"actor\" x=\"{}\" y=\"6\" width=\"200\" height=\"28\" rx=\"5\"/><text class=\"actor-label\" x=\"{x}\" y=\"25\" text-anchor=\"middle\">{}</text><line class=\"lifeline\" x1=\"{x}\" y1=\"34\" x2=\"{x}\" y2=\"{}\"/>",
            x - 100,
            esc(&label),
            height - 8
        );
    }
    let _ = writeln!(
        s,
        "<text class=\"time-head\" x=\"8\" y=\"{}\">time</text>",
        TOP - 6
    );
    let mut y = TOP;
    for (d, h) in chart.iter().zip(&rows) {
        datagram(&mut s, d, y, *h);
        y += h;
    }
    s.push_str("</svg>\n");
    if chart.len() >= MAX_CHART_DATAGRAMS {
        let _ = writeln!(
            s,
            "<p class=\"note\">Only the first {MAX_CHART_DATAGRAMS} datagrams are drawn; the capture has them all.</p>"
        );
    }
    s
}

fn datagram(s: &mut String, d: &ChartDatagram, y: u32, h: u32) {
    let (from, to) = if d.from_dut {
        (RIGHT, LEFT)
    } else {
        (LEFT, RIGHT)
    };
    let class = if d.dropped { "dgram dropped" } else { "dgram" };
    let _ = writeln!(s, "<g class=\"{class}\">");
    let _ = writeln!(
        s,
        "<text class=\"time\" x=\"8\" y=\"{}\">+{}.{:06}s</text><text class=\"size\" x=\"8\" y=\"{}\">{} B</text>",
        y + 12,
        d.micros / 1_000_000,
        d.micros % 1_000_000,
        y + 12 + LINE,
        d.len
    );
    let mut ty = y + 12;
    if d.records.is_empty() && d.malformed.is_none() {
        let _ = writeln!(
            s,
            "<text class=\"rec\" x=\"{}\" y=\"{ty}\">(empty datagram)</text>",
            LEFT + 10
        );
        ty += LINE;
    }
    for r in &d.records {
        let line = format!("e{} #{} {}", r.epoch, r.seq, r.summary);
        let (cls, badge) = match r.protection {
            Protection::Plain => ("", ""),
            Protection::Decrypted => (" decrypted", " decrypted"),
            Protection::Protected => (" protected", ""),
        };
        let _ = write!(
            s,
            "<text class=\"rec ct-{}{cls}\" x=\"{}\" y=\"{ty}\"><title>{}</title>{}",
            esc(&r.content_type),
            LEFT + 10,
            esc(&line),
            esc(&short(&line))
        );
        if !badge.is_empty() {
            let _ = write!(s, "<tspan class=\"badge\" dx=\"6\">{badge}</tspan>");
        }
        s.push_str("</text>\n");
        ty += LINE;
    }
    if let Some(m) = &d.malformed {
        let _ = writeln!(
            s,
            "<text class=\"rec malformed\" x=\"{}\" y=\"{ty}\"><title>{}</title>{}</text>",
            LEFT + 10,
            esc(m),
            esc(&short(m))
        );
    }
    let ay = y + h - 8;
    if d.dropped {
        // The datagram left its sender and was lost on purpose before the receiver.
        let end = (from as i32 + (to as i32 - from as i32) * 7 / 10) as u32;
        let _ = writeln!(
            s,
            "<line class=\"arrow lost\" x1=\"{from}\" y1=\"{ay}\" x2=\"{end}\" y2=\"{ay}\"/><text class=\"lost-mark\" x=\"{end}\" y=\"{}\" text-anchor=\"middle\">✕ dropped</text>",
            ay + 4
        );
    } else {
        let dir: i32 = if to > from { -1 } else { 1 };
        let tip = to as i32;
        let _ = writeln!(
            s,
            "<line class=\"arrow\" x1=\"{from}\" y1=\"{ay}\" x2=\"{to}\" y2=\"{ay}\"/><polygon class=\"head\" points=\"{tip},{ay} {},{} {},{}\"/>",
            tip + dir * 9,
            ay - 4,
            tip + dir * 9,
            ay + 4
        );
    }
    s.push_str("</g>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::chart::ChartRecord;

    #[test]
    fn arrows_go_the_right_way_and_text_is_escaped() {
        let chart = vec![
            ChartDatagram {
                micros: 1_500_000,
                from_dut: true,
                dropped: false,
                len: 30,
                records: vec![ChartRecord {
                    content_type: "alert".into(),
                    epoch: 1,
                    seq: 2,
                    summary: "fatal alert <bad_record_mac>".into(),
                    protection: Protection::Decrypted,
                }],
                malformed: None,
            },
            ChartDatagram {
                micros: 2,
                from_dut: false,
                dropped: true,
                len: 0,
                records: vec![],
                malformed: None,
            },
        ];
        let svg = render(&chart, "sim", false);
        assert!(svg.contains(&format!("x1=\"{RIGHT}\" y1=")), "{svg}");
        assert!(svg.contains("+1.500000s"));
        assert!(svg.contains("e1 #2 fatal alert &lt;bad_record_mac&gt;"));
        assert!(svg.contains("class=\"badge\""));
        assert!(svg.contains("✕ dropped"));
        assert!(svg.contains("DUT sim (server)"));
        assert!(!svg.contains("<bad"));
    }
}
