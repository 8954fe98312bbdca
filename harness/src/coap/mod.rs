//! CoAP (RFC 7252) as the judge sees it: a small encoder for requests and a *strict* parser
//! for responses. Strict means: whatever RFC 7252 says a receiver must reject or ignore as a
//! message format error is an error here, so a device that sends it is caught.

pub mod options;

use std::fmt;

use thiserror::Error;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageType {
    Confirmable,
    NonConfirmable,
    Acknowledgement,
    Reset,
}

impl MessageType {
    pub fn from_name(s: &str) -> Option<Self> {
        Some(match s {
            "CON" => Self::Confirmable,
            "NON" => Self::NonConfirmable,
            "ACK" => Self::Acknowledgement,
            "RST" => Self::Reset,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Confirmable => "CON",
            Self::NonConfirmable => "NON",
            Self::Acknowledgement => "ACK",
            Self::Reset => "RST",
        }
    }
}

/// A code c.dd (RFC 7252 §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Code(pub u8);

impl Code {
    pub fn class(self) -> u8 {
        self.0 >> 5
    }
    pub fn detail(self) -> u8 {
        self.0 & 0x1f
    }
    pub fn parse(s: &str) -> Option<Code> {
        let (c, d) = s.split_once('.')?;
        let c: u8 = c.parse().ok()?;
        let d: u8 = d.parse().ok()?;
        (c < 8 && d < 32).then_some(Code((c << 5) | d))
    }
    pub fn method(name: &str) -> Option<Code> {
        Some(Code(match name {
            "GET" => 1,
            "POST" => 2,
            "PUT" => 3,
            "DELETE" => 4,
            _ => return None,
        }))
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.class(), self.detail())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoapMessage {
    pub mtype: MessageType,
    pub code: Code,
    pub message_id: u16,
    pub token: Vec<u8>,
    /// (option number, value), in ascending option number.
    pub options: Vec<(u16, Vec<u8>)>,
    pub payload: Vec<u8>,
}

pub const URI_PATH: u16 = 11;
pub const CONTENT_FORMAT: u16 = 12;

/// What makes a datagram not a valid CoAP message (RFC 7252 §3, §4.2, §5.4).
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum CoapFormatError {
    #[error("shorter than the 4-byte header")]
    TooShort,
    #[error("version {0}, RFC 7252 §3 requires 1")]
    Version(u8),
    #[error("token length {0} is reserved (§3: 9-15 are a format error)")]
    TokenLength(u8),
    #[error("token runs past the end")]
    TruncatedToken,
    #[error("option delta or length nibble 15 without a payload marker (§3.1)")]
    ReservedNibble,
    #[error("option runs past the end")]
    TruncatedOption,
    #[error("payload marker followed by no payload (§3: a format error)")]
    EmptyPayloadAfterMarker,
    #[error("code {0} is in a reserved class (1, 6, 7; §12.1)")]
    ReservedClass(Code),
    #[error("an Empty message (0.00) must have no token, options or payload (§4.1)")]
    NonEmptyEmpty,
}

impl CoapMessage {
    pub fn request(
        mtype: MessageType,
        method: Code,
        message_id: u16,
        token: Vec<u8>,
        path: &str,
        payload: &[u8],
    ) -> Self {
        let options = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|seg| (URI_PATH, seg.as_bytes().to_vec()))
            .collect();
        CoapMessage {
            mtype,
            code: method,
            message_id,
            token,
            options,
            payload: payload.to_vec(),
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let t = match self.mtype {
            MessageType::Confirmable => 0,
            MessageType::NonConfirmable => 1,
            MessageType::Acknowledgement => 2,
            MessageType::Reset => 3,
        };
        let mut out = vec![
            (1 << 6) | (t << 4) | (self.token.len() as u8 & 0x0f),
            self.code.0,
        ];
        out.extend_from_slice(&self.message_id.to_be_bytes());
        out.extend_from_slice(&self.token);
        // Options go out in ascending number (RFC 7252 §3.1), whatever order they were
        // put in; the sort is stable, so repeated options keep their order.
        let mut options: Vec<&(u16, Vec<u8>)> = self.options.iter().collect();
        options.sort_by_key(|(num, _)| *num);
        let mut last = 0u16;
        for (num, val) in options {
            let delta = num - last;
            last = *num;
            let (dn, dext) = nibble(delta);
            let (ln, lext) = nibble(val.len() as u16);
            out.push((dn << 4) | ln);
            out.extend_from_slice(&dext);
            out.extend_from_slice(&lext);
            out.extend_from_slice(val);
        }
        if !self.payload.is_empty() {
            out.push(0xff);
            out.extend_from_slice(&self.payload);
        }
        out
    }

    /// Strict parse (see [`CoapFormatError`]).
    pub fn parse(b: &[u8]) -> Result<Self, CoapFormatError> {
        if b.len() < 4 {
            return Err(CoapFormatError::TooShort);
        }
        let ver = b[0] >> 6;
        if ver != 1 {
            return Err(CoapFormatError::Version(ver));
        }
        let mtype = match (b[0] >> 4) & 3 {
            0 => MessageType::Confirmable,
            1 => MessageType::NonConfirmable,
            2 => MessageType::Acknowledgement,
            _ => MessageType::Reset,
        };
        let tkl = b[0] & 0x0f;
        if tkl > 8 {
            return Err(CoapFormatError::TokenLength(tkl));
        }
        let code = Code(b[1]);
        if matches!(code.class(), 1 | 6 | 7) {
            return Err(CoapFormatError::ReservedClass(code));
        }
        let message_id = u16::from_be_bytes([b[2], b[3]]);
        let mut p = 4usize;
        let token = b
            .get(p..p + tkl as usize)
            .ok_or(CoapFormatError::TruncatedToken)?
            .to_vec();
        p += tkl as usize;
        let mut options = Vec::new();
        let mut num = 0u16;
        let mut payload = Vec::new();
        while p < b.len() {
            let byte = b[p];
            p += 1;
            if byte == 0xff {
                if p == b.len() {
                    return Err(CoapFormatError::EmptyPayloadAfterMarker);
                }
                payload = b[p..].to_vec();
                break;
            }
            let delta = read_ext(byte >> 4, b, &mut p)?;
            let len = read_ext(byte & 0x0f, b, &mut p)? as usize;
            num = num
                .checked_add(delta)
                .ok_or(CoapFormatError::TruncatedOption)?;
            let val = b
                .get(p..p + len)
                .ok_or(CoapFormatError::TruncatedOption)?
                .to_vec();
            p += len;
            options.push((num, val));
        }
        let m = CoapMessage {
            mtype,
            code,
            message_id,
            token,
            options,
            payload,
        };
        if m.code.0 == 0 && (!m.token.is_empty() || !m.options.is_empty() || !m.payload.is_empty())
        {
            return Err(CoapFormatError::NonEmptyEmpty);
        }
        Ok(m)
    }

    pub fn summary(&self) -> String {
        format!(
            "CoAP {} {} mid={} token={} {}B",
            self.mtype.name(),
            self.code,
            self.message_id,
            hex::encode(&self.token),
            self.payload.len()
        )
    }
}

fn nibble(v: u16) -> (u8, Vec<u8>) {
    if v < 13 {
        (v as u8, vec![])
    } else if v < 269 {
        (13, vec![(v - 13) as u8])
    } else {
        (14, (v - 269).to_be_bytes().to_vec())
    }
}

fn read_ext(n: u8, b: &[u8], p: &mut usize) -> Result<u16, CoapFormatError> {
    match n {
        0..=12 => Ok(u16::from(n)),
        13 => {
            let v = *b.get(*p).ok_or(CoapFormatError::TruncatedOption)?;
            *p += 1;
            Ok(u16::from(v) + 13)
        }
        14 => {
            let v = b.get(*p..*p + 2).ok_or(CoapFormatError::TruncatedOption)?;
            *p += 2;
            u16::from_be_bytes([v[0], v[1]])
                .checked_add(269)
                .ok_or(CoapFormatError::TruncatedOption)
        }
        _ => Err(CoapFormatError::ReservedNibble),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_round_trips_and_bad_messages_are_refused() {
        let m = CoapMessage::request(
            MessageType::Confirmable,
            Code::method("PUT").unwrap(),
            7,
            vec![1, 2],
            "/light",
            b"on",
        );
        let b = m.encode();
        assert_eq!(CoapMessage::parse(&b).unwrap(), m);
        let mut v2 = b.clone();
        v2[0] = (v2[0] & 0x3f) | (2 << 6);
        assert_eq!(CoapMessage::parse(&v2), Err(CoapFormatError::Version(2)));
        let mut marker = b.clone();
        marker.truncate(marker.len() - 2);
        assert_eq!(
            CoapMessage::parse(&marker),
            Err(CoapFormatError::EmptyPayloadAfterMarker)
        );
        assert_eq!(
            CoapMessage::parse(&[0x49, 0x45, 0, 1]),
            Err(CoapFormatError::TokenLength(9))
        );
        assert_eq!(Code::parse("2.05"), Some(Code(0x45)));
        assert_eq!(Code(0x45).to_string(), "2.05");
    }
}
