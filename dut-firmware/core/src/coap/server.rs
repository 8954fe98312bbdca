//! The device's CoAP resources and request handling (RFC 7252 §5), with a small
//! duplicate cache (§4.5) so that a repeated confirmable request is answered again
//! without being executed again.
//!
//! | path | methods | representation |
//! |---|---|---|
//! | `/light` | GET, PUT `on`/`off` | text/plain `on` or `off` |
//! | `/sensors/temperature` | GET | text/plain, degrees Celsius, one decimal |
//! | `/sensors/humidity` | GET | text/plain, percent relative humidity, one decimal |
//! | `/.well-known/core` | GET | RFC 6690 link format |

use super::message::*;
use crate::dtls::session::Application;
use crate::faults::{Fault, Faults};
use crate::peer::PeerAddr;

/// EXCHANGE_LIFETIME with the default transmission parameters (RFC 7252 §4.8.2): how long
/// a message ID from one peer may come again as a duplicate.
pub const EXCHANGE_LIFETIME_MS: u64 = 247_000;

/// Duplicate cache: entries (each keeps what its response was made of, not its bytes).
pub const CACHE_ENTRIES: usize = 4;

/// RFC 6690 §2 links, with resource types and interface descriptions (RFC 6690 §3.1-3.2).
const WELL_KNOWN_CORE: &[u8] = b"</light>;rt=\"light\";if=\"core.a\",\
</sensors/temperature>;rt=\"temperature\";if=\"core.s\",\
</sensors/humidity>;rt=\"humidity\";if=\"core.s\"";

/// The simulated sensor readings, set by the caller (a real board reads hardware).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sensors {
    /// Tenths of a degree Celsius.
    pub temperature_decicelsius: i32,
    /// Tenths of a percent relative humidity.
    pub humidity_permille: u16,
}

impl Default for Sensors {
    fn default() -> Self {
        Sensors {
            temperature_decicelsius: 215,
            humidity_permille: 450,
        }
    }
}

/// The body of a response: every response of this server is a code, at most a
/// Content-Format and one of these, so that is what the duplicate cache keeps.
#[derive(Clone, Copy, Debug)]
enum Body {
    Empty,
    /// Fixed text (the link format document, a diagnostic payload).
    Fixed(&'static [u8]),
    /// Text made when the request was executed (a reading, the light's state).
    Made(Text),
}

/// A response before it is written out: what the request's execution decided.
#[derive(Clone, Copy, Debug)]
struct Reply {
    code: u8,
    format: Option<u16>,
    body: Body,
}

/// The longest token (RFC 7252 §5.3.1: 0 to 8 bytes).
const MAX_TOKEN: usize = 8;

/// A CON request answered: enough to write the same piggybacked response again (§4.5)
/// without executing the request again. The rest of the response follows from these: an
/// ACK (§5.2.1) with the request's message ID.
#[derive(Clone, Copy, Debug)]
struct CacheEntry {
    peer: PeerAddr,
    mid: u16,
    at_ms: u64,
    /// The token the response carried (§5.3.1; none with `coap_token_not_echoed`).
    token: [u8; MAX_TOKEN],
    token_len: u8,
    reply: Reply,
}

impl CacheEntry {
    fn token(&self) -> &[u8] {
        &self.token[..usize::from(self.token_len).min(MAX_TOKEN)]
    }
}

#[derive(Clone, Debug)]
pub struct CoapServer {
    pub light_on: bool,
    pub sensors: Sensors,
    /// The device's fault switches (the CoAP ones act here).
    pub faults: Faults,
    cache: [Option<CacheEntry>; CACHE_ENTRIES],
    next_mid: u16,
    /// Requests executed (not answered from the cache), for tests and reports.
    pub executed: u32,
}

impl CoapServer {
    pub fn new(first_mid: u16) -> Self {
        CoapServer {
            light_on: false,
            sensors: Sensors::default(),
            faults: Faults::default(),
            cache: [None; CACHE_ENTRIES],
            next_mid: first_mid,
            executed: 0,
        }
    }

    fn cached(&self, now: u64, peer: &PeerAddr, mid: u16) -> Option<&CacheEntry> {
        self.cache.iter().flatten().find(|e| {
            e.peer == *peer && e.mid == mid && now.saturating_sub(e.at_ms) < EXCHANGE_LIFETIME_MS
        })
    }

    fn remember(&mut self, now: u64, peer: &PeerAddr, mid: u16, token: &[u8], reply: Reply) {
        if token.len() > MAX_TOKEN {
            return; // not kept: Message::parse admits no such token
        }
        // Replace an expired or the oldest entry.
        let slot = self
            .cache
            .iter()
            .position(|e| e.is_none_or(|e| now.saturating_sub(e.at_ms) >= EXCHANGE_LIFETIME_MS))
            .unwrap_or_else(|| {
                (0..CACHE_ENTRIES)
                    .min_by_key(|&i| self.cache[i].map_or(0, |e| e.at_ms))
                    .unwrap_or(0)
            });
        let mut e = CacheEntry {
            peer: *peer,
            mid,
            at_ms: now,
            token: [0; MAX_TOKEN],
            token_len: token.len() as u8,
            reply,
        };
        e.token[..token.len()].copy_from_slice(token);
        self.cache[slot] = Some(e);
    }

    /// Handles one request; see the module table. Returns what the response is made of;
    /// [`write_reply`] writes it.
    fn respond(&mut self, req: &Message<'_>) -> Reply {
        let reply = |code: u8, format: Option<u16>, body: Body| Reply { code, format, body };

        // Collect the path; refuse unrecognised critical options (§5.4.1) and repeated
        // non-repeatable ones (§5.4.5).
        let mut path = [0u8; 64];
        let mut path_len = 0;
        let mut content_format: Option<u32> = None;
        let mut accept: Option<u32> = None;
        let mut seen_cf = 0;
        let mut seen_accept = 0;
        for o in req.options() {
            match o.number {
                URI_PATH => {
                    if path_len > 0 || o.value.is_empty() {
                        if path_len + 1 > path.len() {
                            return reply(NOT_FOUND, None, Body::Empty);
                        }
                        path[path_len] = b'/';
                        path_len += 1;
                    }
                    if path_len + o.value.len() > path.len() {
                        return reply(NOT_FOUND, None, Body::Empty);
                    }
                    path[path_len..path_len + o.value.len()].copy_from_slice(o.value);
                    path_len += o.value.len();
                }
                URI_HOST | URI_PORT | URI_QUERY => {}
                CONTENT_FORMAT => {
                    seen_cf += 1;
                    content_format = Some(uint(o.value));
                }
                ACCEPT => {
                    seen_accept += 1;
                    accept = Some(uint(o.value));
                }
                PROXY_URI | PROXY_SCHEME => {
                    return reply(PROXYING_NOT_SUPPORTED, None, Body::Empty);
                }
                n if n % 2 == 1 && !self.faults.has(Fault::CoapIgnoresCriticalOptions) => {
                    return reply(BAD_OPTION, None, Body::Empty)
                }
                _ => {} // elective: ignored (§5.4.1), Observe included
            }
        }
        if seen_cf > 1 || seen_accept > 1 {
            return reply(BAD_OPTION, None, Body::Empty);
        }
        let path = &path[..path_len];
        self.executed += 1;

        let format = match path {
            b"light" | b"sensors/temperature" | b"sensors/humidity" => TEXT_PLAIN,
            b".well-known/core" => LINK_FORMAT,
            _ => return reply(NOT_FOUND, None, Body::Empty),
        };
        match (path, req.code) {
            (_, GET) => {
                if accept.is_some_and(|a| a != format as u32)
                    && !self.faults.has(Fault::CoapIgnoresAccept)
                {
                    return reply(NOT_ACCEPTABLE, None, Body::Empty);
                }
                let mut text = Text::default();
                match path {
                    b"light" => {
                        text.push_str(if self.light_on { "on" } else { "off" });
                    }
                    b"sensors/temperature" => {
                        write_tenths(&mut text, self.sensors.temperature_decicelsius);
                    }
                    b"sensors/humidity" => {
                        write_tenths(&mut text, self.sensors.humidity_permille as i32);
                    }
                    _ => return reply(CONTENT, Some(LINK_FORMAT), Body::Fixed(WELL_KNOWN_CORE)),
                }
                reply(CONTENT, Some(format), Body::Made(text))
            }
            (b"light", PUT) => {
                if content_format.is_some_and(|f| f != TEXT_PLAIN as u32)
                    && !self.faults.has(Fault::CoapIgnoresContentFormat)
                {
                    return reply(UNSUPPORTED_CONTENT_FORMAT, None, Body::Empty);
                }
                match req.payload {
                    b"on" => self.light_on = true,
                    b"off" => self.light_on = false,
                    _ => return reply(BAD_REQUEST, None, Body::Fixed(b"payload: on or off")),
                }
                reply(CHANGED, None, Body::Empty)
            }
            _ => reply(METHOD_NOT_ALLOWED, None, Body::Empty),
        }
    }
}

/// Writes a response: its header (type, code, message ID, token), the Content-Format
/// option if any, and the body.
fn write_reply(out: &mut [u8], mtype: u8, mid: u16, token: &[u8], reply: &Reply) -> Option<usize> {
    let mut b = Builder::new(out, mtype, reply.code, mid, token).ok()?;
    if let Some(f) = reply.format {
        b.option_uint(CONTENT_FORMAT, f as u32).ok()?;
    }
    let payload: &[u8] = match &reply.body {
        Body::Empty => &[],
        Body::Fixed(bytes) => bytes,
        Body::Made(text) => text.as_bytes(),
    };
    b.payload(payload).ok()
}

/// A uint option value (§3.2), saturating past 4 bytes.
fn uint(v: &[u8]) -> u32 {
    if v.len() > 4 {
        return u32::MAX;
    }
    v.iter().fold(0, |acc, &b| acc << 8 | b as u32)
}

/// "21.5" from 215, "-0.3" from -3. Written digit by digit: `core::fmt` would cost the
/// firmware about 2 KB of flash for this one line.
fn write_tenths(t: &mut Text, v: i32) {
    if v < 0 {
        t.push(b'-');
    }
    let a = v.unsigned_abs();
    let mut digits = [0u8; 10];
    let mut n = 0;
    let mut whole = a / 10;
    loop {
        digits[n] = b'0' + (whole % 10) as u8;
        n += 1;
        whole /= 10;
        if whole == 0 {
            break;
        }
    }
    for &d in digits[..n].iter().rev() {
        t.push(d);
    }
    t.push(b'.');
    t.push(b'0' + (a % 10) as u8);
}

/// A small fixed buffer of text; bytes past its end are dropped.
#[derive(Clone, Copy, Debug, Default)]
struct Text {
    buf: [u8; 16],
    len: u8,
}

impl Text {
    fn as_bytes(&self) -> &[u8] {
        &self.buf[..usize::from(self.len).min(self.buf.len())]
    }

    fn push_str(&mut self, s: &str) {
        for &b in s.as_bytes() {
            self.push(b);
        }
    }

    fn push(&mut self, b: u8) {
        if let Some(slot) = self.buf.get_mut(usize::from(self.len)) {
            *slot = b;
            self.len += 1;
        }
    }
}

impl Application for CoapServer {
    fn on_data(
        &mut self,
        now_ms: u64,
        peer: &PeerAddr,
        request: &[u8],
        out: &mut [u8],
    ) -> Option<usize> {
        let req = match Message::parse(request) {
            Ok(m) => m,
            Err(_) => {
                // §4.2/§4.3: a malformed CON or NON is rejected with RST when its message
                // ID can be read; an unknown version is silently ignored (§3).
                let [first, _, m0, m1, ..] = *request else {
                    return None;
                };
                if first >> 6 != 1 || (first >> 4) & 3 > NON {
                    return None;
                }
                return Builder::new(out, RST, EMPTY, u16::from_be_bytes([m0, m1]), &[])
                    .ok()?
                    .payload(&[])
                    .ok();
            }
        };
        match req.mtype {
            ACK | RST => return None, // the device sends no CON, so nothing to match
            _ => {}
        }
        if req.code == EMPTY {
            // §4.3: an Empty CON is a ping, answered with RST; an Empty NON is ignored.
            return if req.mtype == CON {
                Builder::new(out, RST, EMPTY, req.mid, &[])
                    .ok()?
                    .payload(&[])
                    .ok()
            } else {
                None
            };
        }
        if !req.is_request() {
            // A response sent to a server: rejected (§4.2, §4.3).
            return if req.mtype == CON {
                Builder::new(out, RST, EMPTY, req.mid, &[])
                    .ok()?
                    .payload(&[])
                    .ok()
            } else {
                None
            };
        }
        if req.mtype == CON {
            if let Some(e) = self.cached(now_ms, peer, req.mid) {
                // §4.5: the same response again, the request not executed again (a PUT
                // "off" reusing the message ID of a PUT "on" leaves the light on). Written
                // from what the first execution decided: the same bytes as the first time.
                return write_reply(out, ACK, req.mid, e.token(), &e.reply);
            }
        }
        let (mtype, mid) = if req.mtype == CON {
            // §5.2.1: a piggybacked response in the ACK, same message ID.
            (ACK, req.mid)
        } else {
            // §5.2.3: a NON request gets a NON response with a fresh message ID.
            let m = self.next_mid;
            self.next_mid = self.next_mid.wrapping_add(1);
            (NON, m)
        };
        let token: &[u8] = if self.faults.has(Fault::CoapTokenNotEchoed) {
            &[]
        } else {
            req.token
        };
        let reply = self.respond(&req);
        if req.mtype == CON {
            self.remember(now_ms, peer, req.mid, token, reply);
        }
        write_reply(out, mtype, mid, token, &reply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenths_are_written_like_a_decimal_number() {
        for (v, want) in [
            (215, "21.5"),
            (-3, "-0.3"),
            (0, "0.0"),
            (-215, "-21.5"),
            (1000, "100.0"),
            (i32::MIN, "-214748364.8"),
        ] {
            let mut t = Text::default();
            write_tenths(&mut t, v);
            assert_eq!(core::str::from_utf8(t.as_bytes()).unwrap(), want, "{v}");
        }
    }

    fn peer() -> PeerAddr {
        PeerAddr::from_ipv4([127, 0, 0, 1], 9)
    }

    fn request(mtype: u8, code: u8, mid: u16, path: &[&str], payload: &[u8]) -> std::vec::Vec<u8> {
        let mut buf = [0u8; 256];
        let mut b = Builder::new(&mut buf, mtype, code, mid, &[0xca, 0xfe]).unwrap();
        for seg in path {
            b.option(URI_PATH, seg.as_bytes()).unwrap();
        }
        let n = b.payload(payload).unwrap();
        buf[..n].to_vec()
    }

    fn ask(s: &mut CoapServer, req: &[u8]) -> (u8, u8, u16, std::vec::Vec<u8>, std::vec::Vec<u8>) {
        let mut out = [0u8; 256];
        let n = s.on_data(0, &peer(), req, &mut out).expect("a response");
        let m = Message::parse(&out[..n]).unwrap();
        (m.mtype, m.code, m.mid, m.token.to_vec(), m.payload.to_vec())
    }

    #[test]
    fn put_light_on_then_get_shows_on() {
        let mut s = CoapServer::new(100);
        let (t, c, mid, tok, _) = ask(&mut s, &request(CON, PUT, 1, &["light"], b"on"));
        assert_eq!(
            (t, c, mid, tok.as_slice()),
            (ACK, CHANGED, 1, &[0xca, 0xfe][..])
        );
        let (_, c, _, _, p) = ask(&mut s, &request(CON, GET, 2, &["light"], b""));
        assert_eq!((c, p.as_slice()), (CONTENT, &b"on"[..]));
        let (_, c, _, _, _) = ask(&mut s, &request(CON, PUT, 3, &["light"], b"dim"));
        assert_eq!(c, BAD_REQUEST);
    }

    #[test]
    fn codes_for_unknown_paths_wrong_methods_and_sensors() {
        let mut s = CoapServer::new(100);
        s.sensors.temperature_decicelsius = -35;
        assert_eq!(
            ask(&mut s, &request(CON, GET, 1, &["nope"], b"")).1,
            NOT_FOUND
        );
        assert_eq!(
            ask(&mut s, &request(CON, POST, 2, &["light"], b"")).1,
            METHOD_NOT_ALLOWED
        );
        assert_eq!(
            ask(
                &mut s,
                &request(CON, PUT, 3, &["sensors", "humidity"], b"1")
            )
            .1,
            METHOD_NOT_ALLOWED
        );
        let (_, c, _, _, p) = ask(
            &mut s,
            &request(CON, GET, 4, &["sensors", "temperature"], b""),
        );
        assert_eq!((c, p.as_slice()), (CONTENT, &b"-3.5"[..]));
        let (_, c, _, _, p) = ask(&mut s, &request(CON, GET, 5, &["sensors", "humidity"], b""));
        assert_eq!((c, p.as_slice()), (CONTENT, &b"45.0"[..]));
        let (_, c, _, _, p) = ask(&mut s, &request(CON, GET, 6, &[".well-known", "core"], b""));
        assert_eq!(c, CONTENT);
        assert!(p.starts_with(b"</light>"));
    }

    #[test]
    fn non_gets_non_with_a_fresh_mid_and_duplicates_come_from_the_cache() {
        let mut s = CoapServer::new(500);
        let (t, _, mid, _, _) = ask(&mut s, &request(NON, GET, 9, &["light"], b""));
        assert_eq!((t, mid), (NON, 500));
        let before = s.executed;
        let req = request(CON, PUT, 77, &["light"], b"on");
        let first = ask(&mut s, &req);
        s.light_on = false; // if the repeat were executed, the light would be on again
        let again = ask(&mut s, &req);
        assert_eq!(first, again);
        assert!(!s.light_on, "the duplicate was executed a second time");
        assert_eq!(s.executed, before + 1);

        // A duplicate GET gets the reading of its first execution, byte for byte.
        let get = request(CON, GET, 78, &["sensors", "temperature"], b"");
        let mut first = [0u8; 64];
        let n = s.on_data(0, &peer(), &get, &mut first).unwrap();
        s.sensors.temperature_decicelsius = 999;
        let mut again = [0u8; 64];
        let m = s.on_data(1, &peer(), &get, &mut again).unwrap();
        assert_eq!(&first[..n], &again[..m]);
        assert_eq!(s.executed, before + 2);
    }

    #[test]
    fn the_largest_response_fits_the_device_s_application_buffer() {
        let mut s = CoapServer::new(1);
        let mut buf = [0u8; 64];
        let mut b = Builder::new(&mut buf, CON, GET, 5, &[0xee; 8]).unwrap();
        b.option(URI_PATH, b".well-known").unwrap();
        b.option(URI_PATH, b"core").unwrap();
        let n = b.payload(&[]).unwrap();
        let mut out = [0u8; crate::device::APP_BUF];
        let m = s.on_data(0, &peer(), &buf[..n], &mut out).expect("written");
        assert_eq!(Message::parse(&out[..m]).unwrap().payload, WELL_KNOWN_CORE);
    }

    #[test]
    fn unknown_critical_option_ping_and_malformed_messages() {
        let mut s = CoapServer::new(1);
        let mut buf = [0u8; 64];
        let mut b = Builder::new(&mut buf, CON, GET, 5, &[]).unwrap();
        b.option(URI_PATH, b"light").unwrap();
        b.option(23, &[0]).unwrap(); // Block2: critical, not implemented
        let n = b.payload(&[]).unwrap();
        assert_eq!(ask(&mut s, &buf[..n]).1, BAD_OPTION);
        let ping = [0x40, 0, 0x12, 0x34];
        let (t, c, mid, _, _) = ask(&mut s, &ping);
        assert_eq!((t, c, mid), (RST, EMPTY, 0x1234));
        let bad = [0x40, 1, 0, 8, 0xff];
        let (t, _, mid, _, _) = ask(&mut s, &bad);
        assert_eq!((t, mid), (RST, 8));
        let mut out = [0u8; 16];
        assert_eq!(
            s.on_data(0, &peer(), &[0x60, 0x45, 0, 1], &mut out),
            None,
            "ACK"
        );
    }

    #[test]
    #[cfg(feature = "faults")]
    fn token_fault_drops_the_token() {
        let mut s = CoapServer::new(1);
        s.faults.set(Fault::CoapTokenNotEchoed);
        let (_, _, _, tok, _) = ask(&mut s, &request(CON, GET, 1, &["light"], b""));
        assert!(tok.is_empty());
    }
}
