//! Bounds-checked reading and writing of the big-endian, length-prefixed structures of
//! TLS (RFC 5246 §4) and the byte fields of CoAP. Nothing here can panic on input: every
//! read returns `None` when the bytes run out, every write `Err(Full)` when space does.

/// A cursor over received bytes.
#[derive(Clone, Copy, Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    pub fn rest(&mut self) -> &'a [u8] {
        let r = &self.buf[self.pos..];
        self.pos = self.buf.len();
        r
    }

    pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }

    pub fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    pub fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }

    pub fn u24(&mut self) -> Option<u32> {
        self.take(3)
            .map(|b| u32::from_be_bytes([0, b[0], b[1], b[2]]))
    }

    pub fn u48(&mut self) -> Option<u64> {
        self.take(6)
            .map(|b| u64::from_be_bytes([0, 0, b[0], b[1], b[2], b[3], b[4], b[5]]))
    }

    pub fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Some(a)
    }

    /// `opaque x<0..2^8-1>` (RFC 5246 §4.3).
    pub fn vec8(&mut self) -> Option<&'a [u8]> {
        let n = self.u8()? as usize;
        self.take(n)
    }

    /// `opaque x<0..2^16-1>`.
    pub fn vec16(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()? as usize;
        self.take(n)
    }
}

/// The output buffer was too small.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Full;

/// A cursor writing into a caller's fixed buffer.
#[derive(Debug)]
pub struct Writer<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> Writer<'a> {
    pub fn new(buf: &'a mut [u8]) -> Self {
        Writer { buf, len: 0 }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn written(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    pub fn bytes(&mut self, b: &[u8]) -> Result<(), Full> {
        let end = self.len.checked_add(b.len()).ok_or(Full)?;
        self.buf
            .get_mut(self.len..end)
            .ok_or(Full)?
            .copy_from_slice(b);
        self.len = end;
        Ok(())
    }

    pub fn u8(&mut self, v: u8) -> Result<(), Full> {
        self.bytes(&[v])
    }

    pub fn u16(&mut self, v: u16) -> Result<(), Full> {
        self.bytes(&v.to_be_bytes())
    }

    pub fn u24(&mut self, v: u32) -> Result<(), Full> {
        self.bytes(&v.to_be_bytes()[1..])
    }

    pub fn u48(&mut self, v: u64) -> Result<(), Full> {
        self.bytes(&v.to_be_bytes()[2..])
    }

    /// Writes `b` with a one-byte length prefix; `b` must fit it.
    pub fn vec8(&mut self, b: &[u8]) -> Result<(), Full> {
        let n = u8::try_from(b.len()).map_err(|_| Full)?;
        self.u8(n)?;
        self.bytes(b)
    }

    /// Overwrites a big-endian u16 written earlier at `at` (length fields filled in last).
    pub fn patch_u16(&mut self, at: usize, v: u16) -> Result<(), Full> {
        self.buf
            .get_mut(at..at + 2)
            .filter(|_| at + 2 <= self.len)
            .ok_or(Full)?
            .copy_from_slice(&v.to_be_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_stops_at_the_end_instead_of_panicking() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.u16(), Some(0x0102));
        assert_eq!(r.u16(), None);
        assert_eq!(r.u8(), Some(3));
        assert_eq!(r.u8(), None);
        let mut r = Reader::new(&[5, 1, 2]);
        assert_eq!(r.vec8(), None, "a length prefix longer than the data");
        let mut r = Reader::new(&[0xff; 4]);
        assert_eq!(r.take(usize::MAX), None);
    }

    #[test]
    fn integers_are_big_endian() {
        let mut r = Reader::new(&[0, 0, 1, 0, 0, 0, 0, 0, 2]);
        assert_eq!(r.u24(), Some(1));
        assert_eq!(r.u48(), Some(2));
        let mut buf = [0u8; 11];
        let mut w = Writer::new(&mut buf);
        w.u24(0x010203).unwrap();
        w.u48(0x0405).unwrap();
        w.u16(0x0607).unwrap();
        assert_eq!(w.written(), &[1, 2, 3, 0, 0, 0, 0, 4, 5, 6, 7]);
        assert_eq!(w.u8(0), Err(Full));
    }
}
