//! Byte-level reading and writing shared by every wire structure.
//!
//! The TLS presentation language (RFC 5246 §4) builds everything from
//! big-endian integers and length-prefixed vectors; `Reader` never slices
//! without checking, so no input can make decoding panic.

use crate::error::DecodeError;

/// A cursor over untrusted bytes. Every read is bounds-checked.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Bytes consumed so far (an offset into the buffer given to `new`).
    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn any_left(&self) -> bool {
        self.remaining() > 0
    }

    /// Takes exactly `n` bytes or fails with [`DecodeError::Truncated`].
    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let available = self.remaining();
        if n > available {
            return Err(DecodeError::Truncated {
                what,
                needed: n,
                available,
            });
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    /// Takes `n` bytes announced by a length field; failing, the error is a
    /// [`DecodeError::LengthMismatch`] (the length field lied), not a truncation.
    pub fn take_declared(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let actual = self.remaining();
        if n > actual {
            return Err(DecodeError::LengthMismatch {
                what,
                declared: n,
                actual,
            });
        }
        self.take(n, what)
    }

    /// Takes everything that is left (possibly nothing).
    pub fn rest(&mut self) -> &'a [u8] {
        let out = &self.buf[self.pos..];
        self.pos = self.buf.len();
        out
    }

    /// A sub-reader over the next `n` declared bytes.
    pub fn sub(&mut self, n: usize, what: &'static str) -> Result<Reader<'a>, DecodeError> {
        self.take_declared(n, what).map(Reader::new)
    }

    pub fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], DecodeError> {
        let bytes = self.take(N, what)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    pub fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.array::<1>(what)?[0])
    }

    pub fn u16(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array(what)?))
    }

    /// A 24-bit big-endian integer (handshake lengths, RFC 6347 §4.2.2).
    pub fn u24(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        let [a, b, c] = self.array(what)?;
        Ok(u32::from_be_bytes([0, a, b, c]))
    }

    pub fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array(what)?))
    }

    /// A 48-bit big-endian integer (record sequence numbers, RFC 6347 §4.1).
    pub fn u48(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        let [a, b, c, d, e, f] = self.array(what)?;
        Ok(u64::from_be_bytes([0, 0, a, b, c, d, e, f]))
    }

    /// Fails with [`DecodeError::TrailingBytes`] unless everything was consumed.
    pub fn expect_end(&self, what: &'static str) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            count => Err(DecodeError::TrailingBytes { what, count }),
        }
    }
}

/// Writes a 24-bit big-endian integer; bits above 24 are dropped.
pub fn put_u24(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes()[1..]);
}

/// Writes a 48-bit big-endian integer; bits above 48 are dropped.
pub fn put_u48(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_be_bytes()[2..]);
}

/// A structure with one canonical encoding that needs no outside context.
pub trait Codec: Sized {
    fn encode(&self, out: &mut Vec<u8>);
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError>;

    fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }

    /// Decodes `b` completely; leftover bytes are a [`DecodeError::TrailingBytes`].
    fn from_bytes(b: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(b);
        let v = Self::read(&mut r)?;
        r.expect_end(short_type_name::<Self>())?;
        Ok(v)
    }
}

/// A structure whose decoding depends on negotiated state (RFC 7250 §3
/// certificate type, RFC 4279/8422 key exchange, the message an extension
/// sits in). Encoding needs no context: the value already says which form it is.
pub trait CodecAs<Ctx: Copy>: Sized {
    fn encode(&self, out: &mut Vec<u8>);
    fn read_as(r: &mut Reader<'_>, ctx: Ctx) -> Result<Self, DecodeError>;

    fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }

    fn from_bytes_as(b: &[u8], ctx: Ctx) -> Result<Self, DecodeError> {
        let mut r = Reader::new(b);
        let v = Self::read_as(&mut r, ctx)?;
        r.expect_end(short_type_name::<Self>())?;
        Ok(v)
    }
}

fn short_type_name<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    full.rsplit("::").next().unwrap_or(full)
}

/// Wire types of a fixed encoded width, for lists checked up front.
pub trait FixedWidth {
    const WIDTH: usize;
}

/// The width of a vector's length prefix (`<0..2^8-1>` etc., RFC 5246 §4.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LengthPrefix {
    U8,
    U16,
    U24,
}

impl LengthPrefix {
    pub const fn max(self) -> usize {
        match self {
            Self::U8 => 0xff,
            Self::U16 => 0xffff,
            Self::U24 => 0xff_ffff,
        }
    }

    pub fn read(self, r: &mut Reader<'_>, what: &'static str) -> Result<usize, DecodeError> {
        Ok(match self {
            Self::U8 => r.u8(what)? as usize,
            Self::U16 => r.u16(what)? as usize,
            Self::U24 => r.u24(what)? as usize,
        })
    }

    /// Writes `len`; a value too wide for the prefix is truncated to its low
    /// bits rather than refused, because the harness sometimes wants exactly
    /// that broken encoding.
    pub fn write(self, out: &mut Vec<u8>, len: usize) {
        match self {
            Self::U8 => out.push(len as u8),
            Self::U16 => out.extend_from_slice(&(len as u16).to_be_bytes()),
            Self::U24 => put_u24(out, len as u32),
        }
    }

    const fn width(self) -> usize {
        match self {
            Self::U8 => 1,
            Self::U16 => 2,
            Self::U24 => 3,
        }
    }
}

/// Runs `body` and prefixes what it wrote with its length.
pub fn encode_prefixed(out: &mut Vec<u8>, prefix: LengthPrefix, body: impl FnOnce(&mut Vec<u8>)) {
    let at = out.len();
    prefix.write(out, 0);
    body(out);
    let len = out.len() - at - prefix.width();
    let mut len_bytes = Vec::with_capacity(3);
    prefix.write(&mut len_bytes, len);
    out[at..at + prefix.width()].copy_from_slice(&len_bytes);
}

/// Writes `opaque data<..>` with the given length prefix.
pub fn encode_opaque(out: &mut Vec<u8>, prefix: LengthPrefix, data: &[u8]) {
    prefix.write(out, data.len());
    out.extend_from_slice(data);
}

/// Reads `opaque data<..>` with the given length prefix.
pub fn read_opaque(
    r: &mut Reader<'_>,
    prefix: LengthPrefix,
    what: &'static str,
) -> Result<Vec<u8>, DecodeError> {
    let len = prefix.read(r, what)?;
    Ok(r.take_declared(len, what)?.to_vec())
}

/// Like [`read_opaque`], enforcing a minimum of one byte (`<1..2^n-1>`).
pub fn read_opaque_nonempty(
    r: &mut Reader<'_>,
    prefix: LengthPrefix,
    what: &'static str,
) -> Result<Vec<u8>, DecodeError> {
    let v = read_opaque(r, prefix, what)?;
    if v.is_empty() {
        return Err(DecodeError::EmptyVector { what });
    }
    Ok(v)
}

/// Writes a length-prefixed list of encodable items.
pub fn encode_list<T: Codec>(out: &mut Vec<u8>, prefix: LengthPrefix, items: &[T]) {
    encode_prefixed(out, prefix, |out| items.iter().for_each(|i| i.encode(out)));
}

/// Whether a list's RFC definition allows zero elements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MinItems {
    Zero,
    One,
}

/// Reads a length-prefixed list of fixed-width items, checking that the
/// byte length is a whole number of items before decoding any of them.
pub fn read_fixed_list<T: Codec + FixedWidth>(
    r: &mut Reader<'_>,
    prefix: LengthPrefix,
    what: &'static str,
    min: MinItems,
) -> Result<Vec<T>, DecodeError> {
    let len = prefix.read(r, what)?;
    let mut sub = r.sub(len, what)?;
    if len % T::WIDTH != 0 {
        return Err(DecodeError::NotMultiple {
            what,
            length: len,
            element_size: T::WIDTH,
        });
    }
    if len == 0 && min == MinItems::One {
        return Err(DecodeError::EmptyVector { what });
    }
    let mut items = Vec::with_capacity(len / T::WIDTH);
    while sub.any_left() {
        items.push(T::read(&mut sub)?);
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_integers_are_big_endian() {
        let bytes = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
        let mut r = Reader::new(&bytes);
        assert_eq!(r.u8("a").unwrap(), 1);
        assert_eq!(r.u16("b").unwrap(), 0x0203);
        assert_eq!(r.u24("c").unwrap(), 0x040506);
        assert_eq!(r.u32("d").unwrap(), 0x0708090a);
        assert_eq!(r.u48("e").unwrap(), 0x0b0c0d0e0f10);
        assert!(!r.any_left());
        assert_eq!(
            r.u8("f"),
            Err(DecodeError::Truncated {
                what: "f",
                needed: 1,
                available: 0
            })
        );
    }

    #[test]
    fn put_helpers_drop_high_bits() {
        let mut out = Vec::new();
        put_u24(&mut out, 0xff01_0203);
        put_u48(&mut out, 0xffff_0102_0304_0506);
        assert_eq!(out, [1, 2, 3, 1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn prefixed_writes_its_length() {
        let mut out = vec![0xaa];
        encode_prefixed(&mut out, LengthPrefix::U24, |o| {
            o.extend_from_slice(&[9; 5])
        });
        assert_eq!(out, [0xaa, 0, 0, 5, 9, 9, 9, 9, 9]);
    }

    #[test]
    fn opaque_length_beyond_data_is_a_length_mismatch() {
        let mut r = Reader::new(&[5, 1, 2]);
        assert_eq!(
            read_opaque(&mut r, LengthPrefix::U8, "cookie"),
            Err(DecodeError::LengthMismatch {
                what: "cookie",
                declared: 5,
                actual: 2
            })
        );
    }
}
