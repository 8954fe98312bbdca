//! Writes the seed corpora of the cargo-fuzz targets (`fuzz/`) from the project's own
//! material: the third-party handshakes of `vectors/transcripts/`, a clean handshake of the
//! engine pair the `engine` target attacks, and CoAP messages like those the reference
//! device sends. `scripts/fuzz.sh` runs it before every bounded fuzzing run, so the seeds
//! always match today's engine.
//!
//! `cargo run -p dicetest --example fuzz_seeds -- OUT_DIR` (one folder per target).

use std::path::{Path, PathBuf};

use dicetest::coap::{CoapMessage, Code, MessageType, CONTENT_FORMAT};
use dicetest::engine::{Config, Connection};
use dicetest::time::Instant;
use dicetest::wire::extensions::encode_extensions;
use dicetest::wire::{
    parse_datagram, ContentType, HandshakeFragment, HandshakeMessage, HandshakeType,
};

/// The framing of `dicetest_fuzz::datagrams`: a 2-byte header (top bit: sent by the
/// server; 15 bits: length), then the datagram.
fn frame(list: &[(bool, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (from_server, d) in list {
        let len = d.len().min(0x7fff) as u16;
        out.extend_from_slice(&(len | if *from_server { 0x8000 } else { 0 }).to_be_bytes());
        out.extend_from_slice(&d[..usize::from(len)]);
    }
    out
}

/// Datagrams in order, each with whether the server sent it.
type Exchange = Vec<(bool, Vec<u8>)>;

/// Datagrams of every recorded transcript: (file name, [(from server, bytes)]).
fn transcripts(root: &Path) -> Vec<(String, Exchange)> {
    let mut out = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("vectors/transcripts"))
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    for f in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "toml"))
    {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        let Ok(v) = text.parse::<toml::Table>() else {
            continue;
        };
        let grams = v
            .get("datagram")
            .and_then(|d| d.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|d| {
                        let from_server = d.get("from")?.as_str()? == "server";
                        Some((from_server, hex::decode(d.get("hex")?.as_str()?).ok()?))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let name = f
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        out.push((name, grams));
    }
    out
}

/// Every datagram of a clean PSK handshake of the pair the `engine` target uses (the same
/// identities, keys and seeds), then application data both ways.
fn engine_handshake(suite: u16) -> Exchange {
    let psk = |cfg: Config, seed| {
        Connection::new(
            cfg.with_psk(b"Client_identity", b"secretPSK")
                .with_suites(&[suite])
                .with_seed(seed),
        )
    };
    let mut c = psk(Config::client(), 1);
    let mut s = psk(Config::server(), 2);
    let now = Instant::ZERO;
    let mut seen = Vec::new();
    c.start(now);
    for _ in 0..32 {
        let mut any = false;
        while let Some(d) = c.poll_transmit() {
            s.handle_datagram(now, &d);
            seen.push((false, d));
            any = true;
        }
        while let Some(d) = s.poll_transmit() {
            c.handle_datagram(now, &d);
            seen.push((true, d));
            any = true;
        }
        if !any {
            break;
        }
    }
    c.send_application_data(b"hello dicetest");
    s.send_application_data(b"hello from the server");
    seen.extend(std::iter::from_fn(|| c.poll_transmit()).map(|d| (false, d)));
    seen.extend(std::iter::from_fn(|| s.poll_transmit()).map(|d| (true, d)));
    seen
}

fn coap_messages() -> Vec<Vec<u8>> {
    let get = CoapMessage::request(
        MessageType::Confirmable,
        Code(1),
        0x1234,
        vec![0x12, 0x34],
        "/.well-known/core",
        b"",
    );
    let put = CoapMessage::request(
        MessageType::Confirmable,
        Code(3),
        7,
        vec![1, 2, 3, 4, 5, 6, 7, 8],
        "/light",
        b"1",
    );
    let mut content = CoapMessage {
        mtype: MessageType::Acknowledgement,
        code: Code(0x45),
        message_id: 0x1234,
        token: vec![0x12, 0x34],
        options: vec![(CONTENT_FORMAT, vec![40])],
        payload: b"</light>;rt=\"light\",</temp>".to_vec(),
    };
    let mut out = vec![get.encode(), put.encode(), content.encode()];
    content.code = Code(0x84);
    content.options.clear();
    content.payload.clear();
    out.push(content.encode());
    // An empty ACK and a Reset (§4.2, §4.3).
    out.push(vec![0x60, 0, 0x12, 0x34]);
    out.push(vec![0x70, 0, 0x12, 0x34]);
    out
}

fn main() {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "target/fuzz-seeds".into()),
    );
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut seeds: Vec<(&str, Vec<u8>)> = Vec::new();
    let transcripts = transcripts(&root);
    let engine: Vec<(u16, Exchange)> = [0xC0A8u16, 0xC0A4, 0x00AE]
        .iter()
        .map(|&s| (s, engine_handshake(s)))
        .collect();
    let mut all_grams: Vec<&(bool, Vec<u8>)> = transcripts.iter().flat_map(|t| &t.1).collect();
    all_grams.extend(engine.iter().flat_map(|e| &e.1));

    for (_, d) in &all_grams {
        seeds.push(("wire_datagram", d.clone()));
        for rec in parse_datagram(d).records {
            if rec.header.content_type != ContentType::Handshake || rec.header.epoch != 0 {
                continue;
            }
            let Ok(frags) = HandshakeFragment::read_all(&rec.fragment) else {
                continue;
            };
            let mut reasm = vec![0u8];
            for f in &frags {
                reasm.extend(f.to_bytes());
                // Key exchange context: PSK (0) or ECDHE_ECDSA (1), X.509.
                for ctx in [0u8, 1] {
                    let mut h = vec![f.header.msg_type.get_u8(), ctx];
                    h.extend(&f.body);
                    seeds.push(("wire_handshake", h));
                }
                let hello = HandshakeMessage::read_unfragmented(f, &Default::default());
                let exts = match &hello {
                    Ok(HandshakeMessage::ClientHello(ch)) => ch.extensions.clone(),
                    Ok(HandshakeMessage::ServerHello(sh)) => sh.extensions.clone(),
                    _ => None,
                };
                if let Some(e) = exts {
                    let mut b = Vec::new();
                    encode_extensions(&mut b, Some(&e));
                    seeds.push(("wire_extensions", b));
                }
                if f.header.msg_type == HandshakeType::ClientHello {
                    // The same message cut in three fragments, sent last piece first.
                    let n = f.body.len() as u32;
                    let cuts = [(2 * n / 3, n - 2 * n / 3), (n / 3, n / 3), (0, n / 3)];
                    let mut pieces = vec![1u8];
                    for (off, len) in cuts {
                        let mut h = f.header;
                        h.fragment_offset = off;
                        h.fragment_length = len;
                        let body = f.body[off as usize..(off + len) as usize].to_vec();
                        pieces.extend(HandshakeFragment { header: h, body }.to_bytes());
                    }
                    seeds.push(("reassembly", pieces));
                }
            }
            seeds.push(("reassembly", reasm));
        }
    }
    for (_, grams) in &transcripts {
        seeds.push(("monitor", frame(grams)));
    }
    for (suite_index, (_, grams)) in engine.iter().enumerate() {
        seeds.push(("monitor", frame(grams)));
        // Attack each side with what its peer sent, from every stage.
        for target_is_server in [false, true] {
            let peer: Vec<(bool, Vec<u8>)> = grams
                .iter()
                .filter(|(from_server, _)| *from_server != target_is_server)
                .cloned()
                .collect();
            for stage in [0u8, 1, 2, 3, 15] {
                let mut b = vec![(suite_index as u8) << 1 | u8::from(target_is_server), stage];
                b.extend(frame(&peer));
                seeds.push(("engine", b));
            }
        }
    }
    // The runner judging a DUT that sends what a server of the engine pair sent, for
    // cases across the suite.
    if let Some((_, grams)) = engine.first() {
        let server: Exchange = grams.iter().filter(|(s, _)| *s).cloned().collect();
        for pick in [0u8, 9, 23, 41, 57, 75] {
            let mut b = vec![pick];
            b.extend(frame(&server));
            seeds.push(("runner", b));
        }
    }
    for m in coap_messages() {
        seeds.push(("coap_message", m));
    }

    let mut count = std::collections::BTreeMap::<&str, usize>::new();
    for (target, bytes) in &seeds {
        let dir = out.join(target);
        std::fs::create_dir_all(&dir).expect("seed folder");
        let n = count.entry(target).or_default();
        std::fs::write(dir.join(format!("seed-{n:04}")), bytes).expect("seed file");
        *n += 1;
    }
    for (t, n) in count {
        println!("{t}: {n} seeds");
    }
}
