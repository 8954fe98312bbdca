//! The CoAP message format (RFC 7252 §3): a 4-byte header, the token, options in
//! ascending order encoded as deltas, then an optional payload after a 0xFF marker.
//! Parsing is strict: anything §3 calls a message format error is refused.

use crate::codec::{Full, Reader, Writer};

pub const CON: u8 = 0;
pub const NON: u8 = 1;
pub const ACK: u8 = 2;
pub const RST: u8 = 3;

pub const EMPTY: u8 = 0x00;
pub const GET: u8 = 0x01;
pub const POST: u8 = 0x02;
pub const PUT: u8 = 0x03;
pub const DELETE: u8 = 0x04;

pub const CHANGED: u8 = 0x44; // 2.04
pub const CONTENT: u8 = 0x45; // 2.05
pub const BAD_REQUEST: u8 = 0x80; // 4.00
pub const BAD_OPTION: u8 = 0x82; // 4.02
pub const NOT_FOUND: u8 = 0x84; // 4.04
pub const METHOD_NOT_ALLOWED: u8 = 0x85; // 4.05
pub const NOT_ACCEPTABLE: u8 = 0x86; // 4.06
pub const UNSUPPORTED_CONTENT_FORMAT: u8 = 0x8f; // 4.15
pub const PROXYING_NOT_SUPPORTED: u8 = 0xa5; // 5.05

// Option numbers (RFC 7252 §5.10, Table 4).
pub const IF_MATCH: u16 = 1;
pub const URI_HOST: u16 = 3;
pub const ETAG: u16 = 4;
pub const IF_NONE_MATCH: u16 = 5;
pub const OBSERVE: u16 = 6; // RFC 7641
pub const URI_PORT: u16 = 7;
pub const URI_PATH: u16 = 11;
pub const CONTENT_FORMAT: u16 = 12;
pub const URI_QUERY: u16 = 15;
pub const ACCEPT: u16 = 17;
pub const PROXY_URI: u16 = 35;
pub const PROXY_SCHEME: u16 = 39;

/// Content-Format values (RFC 7252 §12.3).
pub const TEXT_PLAIN: u16 = 0;
pub const LINK_FORMAT: u16 = 40;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatError {
    /// Fewer than the 4 header bytes.
    ShortHeader,
    /// Version is not 1 (§3: such messages are silently ignored).
    UnknownVersion(u8),
    /// Token length 9-15 (§3: reserved, a format error).
    ReservedTokenLength(u8),
    /// The token or an option runs past the message.
    Truncated,
    /// Option delta or length nibble 15 outside the payload marker (§3.1).
    ReservedNibble,
    /// A payload marker followed by nothing (§3).
    EmptyPayloadAfterMarker,
    /// An Empty message (code 0.00) with a token, options or payload (§4.1).
    NonEmptyEmptyMessage,
    /// An option number past 65535.
    OptionNumberOverflow,
}

/// A parsed message; options are kept raw and already validated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Message<'a> {
    pub mtype: u8,
    pub code: u8,
    pub mid: u16,
    pub token: &'a [u8],
    options: &'a [u8],
    pub payload: &'a [u8],
}

/// One option: its number (after delta decoding) and value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CoapOption<'a> {
    pub number: u16,
    pub value: &'a [u8],
}

/// Reads an extended delta/length (§3.1): nibble 13 → one more byte + 13, 14 → two more
/// bytes + 269, 15 → reserved.
fn extended(r: &mut Reader<'_>, nibble: u8) -> Result<u32, FormatError> {
    match nibble {
        0..=12 => Ok(nibble as u32),
        13 => Ok(r.u8().ok_or(FormatError::Truncated)? as u32 + 13),
        14 => Ok(r.u16().ok_or(FormatError::Truncated)? as u32 + 269),
        _ => Err(FormatError::ReservedNibble),
    }
}

/// Walks an options block; `None` at its end, also used to validate it.
fn next_option<'a>(
    r: &mut Reader<'a>,
    last: &mut u32,
) -> Result<Option<CoapOption<'a>>, FormatError> {
    let Some(first) = r.u8() else {
        return Ok(None);
    };
    let delta = extended(r, first >> 4)?;
    let len = extended(r, first & 0x0f)?;
    let value = r.take(len as usize).ok_or(FormatError::Truncated)?;
    *last += delta;
    let number = u16::try_from(*last).map_err(|_| FormatError::OptionNumberOverflow)?;
    Ok(Some(CoapOption { number, value }))
}

impl<'a> Message<'a> {
    pub fn parse(b: &'a [u8]) -> Result<Self, FormatError> {
        let mut r = Reader::new(b);
        let (Some(first), Some(code), Some(mid)) = (r.u8(), r.u8(), r.u16()) else {
            return Err(FormatError::ShortHeader);
        };
        let version = first >> 6;
        if version != 1 {
            return Err(FormatError::UnknownVersion(version));
        }
        let tkl = first & 0x0f;
        if tkl > 8 {
            return Err(FormatError::ReservedTokenLength(tkl));
        }
        let token = r.take(tkl as usize).ok_or(FormatError::Truncated)?;
        // Options run until the payload marker or the end.
        let rest = r.rest();
        let mut o = Reader::new(rest);
        let mut number = 0u32;
        let mut options_len = 0;
        let mut payload: &[u8] = &[];
        loop {
            let before = o.remaining();
            match o.clone().u8() {
                None => break,
                Some(0xff) => {
                    o.u8();
                    payload = o.rest();
                    if payload.is_empty() {
                        return Err(FormatError::EmptyPayloadAfterMarker);
                    }
                    break;
                }
                Some(_) => {
                    next_option(&mut o, &mut number)?;
                    options_len += before - o.remaining();
                }
            }
        }
        let m = Message {
            mtype: (first >> 4) & 0x03,
            code,
            mid,
            token,
            options: &rest[..options_len],
            payload,
        };
        if code == EMPTY && (tkl != 0 || !b[4..].is_empty()) {
            return Err(FormatError::NonEmptyEmptyMessage);
        }
        Ok(m)
    }

    pub fn options(&self) -> OptionIter<'a> {
        OptionIter {
            r: Reader::new(self.options),
            last: 0,
        }
    }

    pub fn is_request(&self) -> bool {
        self.code >> 5 == 0 && self.code != EMPTY
    }
}

pub struct OptionIter<'a> {
    r: Reader<'a>,
    last: u32,
}

impl<'a> Iterator for OptionIter<'a> {
    type Item = CoapOption<'a>;
    fn next(&mut self) -> Option<Self::Item> {
        // The block was validated by `parse`.
        next_option(&mut self.r, &mut self.last).ok().flatten()
    }
}

/// Writes a message: header, token, options (which must be given in ascending order),
/// payload.
pub struct Builder<'a> {
    w: Writer<'a>,
    last_option: u16,
}

impl<'a> Builder<'a> {
    pub fn new(
        buf: &'a mut [u8],
        mtype: u8,
        code: u8,
        mid: u16,
        token: &[u8],
    ) -> Result<Self, Full> {
        if token.len() > 8 {
            return Err(Full);
        }
        let mut w = Writer::new(buf);
        w.u8(0x40 | (mtype & 3) << 4 | token.len() as u8)?;
        w.u8(code)?;
        w.u16(mid)?;
        w.bytes(token)?;
        Ok(Builder { w, last_option: 0 })
    }

    fn nibble(v: u16) -> (u8, [u8; 2], usize) {
        match v {
            0..=12 => (v as u8, [0, 0], 0),
            13..=268 => (13, [(v - 13) as u8, 0], 1),
            _ => (14, (v - 269).to_be_bytes(), 2),
        }
    }

    pub fn option(&mut self, number: u16, value: &[u8]) -> Result<(), Full> {
        let delta = number.checked_sub(self.last_option).ok_or(Full)?;
        let len = u16::try_from(value.len()).map_err(|_| Full)?;
        let (dn, dx, dl) = Self::nibble(delta);
        let (ln, lx, ll) = Self::nibble(len);
        self.w.u8(dn << 4 | ln)?;
        self.w.bytes(&dx[..dl])?;
        self.w.bytes(&lx[..ll])?;
        self.w.bytes(value)?;
        self.last_option = number;
        Ok(())
    }

    /// A uint option (§3.2): big-endian without leading zero bytes.
    pub fn option_uint(&mut self, number: u16, v: u32) -> Result<(), Full> {
        let b = v.to_be_bytes();
        let skip = b.iter().take_while(|&&x| x == 0).count();
        self.option(number, &b[skip..])
    }

    pub fn payload(mut self, p: &[u8]) -> Result<usize, Full> {
        if !p.is_empty() {
            self.w.u8(0xff)?;
            self.w.bytes(p)?;
        }
        Ok(self.w.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_get_with_two_path_segments_and_a_token() {
        // CON GET mid 0x1234 token 0xab, Uri-Path "sensors", Uri-Path "humidity".
        let mut b = std::vec![0x41, 0x01, 0x12, 0x34, 0xab];
        b.push(0xb7);
        b.extend_from_slice(b"sensors");
        b.push(0x08);
        b.extend_from_slice(b"humidity");
        let m = Message::parse(&b).unwrap();
        assert_eq!((m.mtype, m.code, m.mid), (CON, GET, 0x1234));
        assert_eq!(m.token, &[0xab]);
        let opts: std::vec::Vec<_> = m.options().collect();
        assert_eq!(opts.len(), 2);
        assert_eq!((opts[0].number, opts[0].value), (URI_PATH, &b"sensors"[..]));
        assert_eq!(
            (opts[1].number, opts[1].value),
            (URI_PATH, &b"humidity"[..])
        );
        assert!(m.payload.is_empty());
    }

    #[test]
    fn format_errors_are_named() {
        assert_eq!(Message::parse(&[0x40, 1, 0]), Err(FormatError::ShortHeader));
        assert_eq!(
            Message::parse(&[0x80, 1, 0, 0]),
            Err(FormatError::UnknownVersion(2))
        );
        assert_eq!(
            Message::parse(&[0x49, 1, 0, 0]),
            Err(FormatError::ReservedTokenLength(9))
        );
        assert_eq!(
            Message::parse(&[0x42, 1, 0, 0, 1]),
            Err(FormatError::Truncated)
        );
        assert_eq!(
            Message::parse(&[0x40, 1, 0, 0, 0xff]),
            Err(FormatError::EmptyPayloadAfterMarker)
        );
        assert_eq!(
            Message::parse(&[0x40, 1, 0, 0, 0xf1, 0]),
            Err(FormatError::ReservedNibble)
        );
        assert_eq!(
            Message::parse(&[0x40, 1, 0, 0, 0x1f]),
            Err(FormatError::ReservedNibble)
        );
        assert_eq!(
            Message::parse(&[0x41, 0, 0, 0, 7]),
            Err(FormatError::NonEmptyEmptyMessage)
        );
        assert_eq!(
            Message::parse(&[0x40, 1, 0, 0, 0xb5, b'a']),
            Err(FormatError::Truncated)
        );
    }

    #[test]
    fn builder_output_parses_back_with_extended_deltas_and_lengths() {
        let mut buf = [0u8; 512];
        let long = [b'x'; 300];
        let mut b = Builder::new(&mut buf, ACK, CONTENT, 7, &[1, 2, 3]).unwrap();
        b.option(URI_PATH, b"light").unwrap();
        b.option_uint(CONTENT_FORMAT, 0).unwrap();
        b.option(300, &long).unwrap(); // delta 288 and length 300: both two-byte forms
        let n = b.payload(b"on").unwrap();
        let m = Message::parse(&buf[..n]).unwrap();
        assert_eq!(
            (m.mtype, m.code, m.mid, m.token),
            (ACK, CONTENT, 7, &[1u8, 2, 3][..])
        );
        let o: std::vec::Vec<_> = m.options().collect();
        assert_eq!(o[0].number, URI_PATH);
        assert_eq!((o[1].number, o[1].value), (CONTENT_FORMAT, &[][..]));
        assert_eq!((o[2].number, o[2].value.len()), (300, 300));
        assert_eq!(m.payload, b"on");
    }

    #[test]
    fn no_input_makes_the_parser_panic() {
        // Every 1-3 byte suffix after a valid header, exhaustively for two bytes.
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                let _ = Message::parse(&[0x40, 1, 0, 0, a, b]).map(|m| m.options().count());
                let _ = Message::parse(&[0x40, 1, 0, 0, a, b, 0xff]).map(|m| m.options().count());
            }
        }
    }
}
