//! The DTLS record header (RFC 6347 §4.1): type, version, epoch, 48-bit sequence number,
//! length, then the fragment.

use crate::codec::{Full, Reader, Writer};

pub const HEADER_LEN: usize = 13;

pub const CHANGE_CIPHER_SPEC: u8 = 20;
pub const ALERT: u8 = 21;
pub const HANDSHAKE: u8 = 22;
pub const APPLICATION_DATA: u8 = 23;

/// DTLS 1.2 on the wire (RFC 6347 §4.1: the one's complement of 1.2).
pub const DTLS1_2: u16 = 0xfefd;
/// DTLS 1.0: clients may use it in the record carrying their first ClientHello, and a
/// HelloVerifyRequest carries it (RFC 6347 §4.2.1).
pub const DTLS1_0: u16 = 0xfeff;

/// Sequence numbers are 48 bits (§4.1); the device never wraps one (it would need a
/// renegotiation, which it refuses), it stops sending instead.
pub const MAX_SEQ: u64 = (1 << 48) - 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordHeader {
    pub content_type: u8,
    pub version: u16,
    pub epoch: u16,
    pub seq: u64,
}

/// Why the rest of a datagram was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordError {
    /// Fewer than 13 bytes left.
    ShortHeader,
    /// The length field runs past the datagram.
    LengthBeyondDatagram,
    /// Not one of the four content types of RFC 5246 §6.2.1.
    UnknownContentType(u8),
    /// Not DTLS 1.0 or 1.2.
    UnknownVersion(u16),
}

/// Splits the next record off a datagram: header, fragment, and the rest. A datagram may
/// carry several records (§4.1.1); one that does not parse ends the datagram, because its
/// length can no longer be trusted to find the next one.
pub fn next_record(datagram: &[u8]) -> Result<(RecordHeader, &[u8], &[u8]), RecordError> {
    let mut r = Reader::new(datagram);
    let (Some(ct), Some(version), Some(epoch), Some(seq), Some(len)) =
        (r.u8(), r.u16(), r.u16(), r.u48(), r.u16())
    else {
        return Err(RecordError::ShortHeader);
    };
    if !(CHANGE_CIPHER_SPEC..=APPLICATION_DATA).contains(&ct) {
        return Err(RecordError::UnknownContentType(ct));
    }
    if version != DTLS1_2 && version != DTLS1_0 {
        return Err(RecordError::UnknownVersion(version));
    }
    let fragment = r
        .take(len as usize)
        .ok_or(RecordError::LengthBeyondDatagram)?;
    let header = RecordHeader {
        content_type: ct,
        version,
        epoch,
        seq,
    };
    Ok((header, fragment, r.rest()))
}

/// [`next_record`] for a datagram the device may overwrite: the fragment comes back
/// mutable, so that a protected record is decrypted where it lies (no second record
/// buffer). On an error the datagram comes back whole, to be stepped over with
/// [`skip_record_mut`] or dropped.
#[allow(clippy::type_complexity)]
pub fn next_record_mut(
    datagram: &mut [u8],
) -> Result<(RecordHeader, &mut [u8], &mut [u8]), (RecordError, &mut [u8])> {
    let parsed = next_record(datagram).map(|(h, fragment, _)| (h, fragment.len()));
    match parsed {
        Ok((header, len)) => {
            let (record, rest) = datagram.split_at_mut(HEADER_LEN + len);
            Ok((header, &mut record[HEADER_LEN..], rest))
        }
        Err(e) => Err((e, datagram)),
    }
}

/// [`skip_record`] for a datagram the device may overwrite.
pub fn skip_record_mut(datagram: &mut [u8]) -> Option<&mut [u8]> {
    let skipped = datagram.len() - skip_record(datagram)?.len();
    datagram.get_mut(skipped..)
}

/// The rest of the datagram after a record whose header is complete and whose length fits
/// the datagram, whatever its type and version say: such a record is invalid but its
/// neighbours are not, and RFC 6347 §4.1.2.7 asks for invalid records to be discarded
/// one by one, preserving the association.
pub fn skip_record(datagram: &[u8]) -> Option<&[u8]> {
    let mut r = Reader::new(datagram);
    r.take(HEADER_LEN - 2)?;
    let len = r.u16()?;
    r.take(len as usize)?;
    Some(r.rest())
}

/// Writes a record header with the given fragment length.
pub fn write_header(w: &mut Writer<'_>, h: &RecordHeader, len: usize) -> Result<(), Full> {
    w.u8(h.content_type)?;
    w.u16(h.version)?;
    w.u16(h.epoch)?;
    w.u48(h.seq)?;
    w.u16(u16::try_from(len).map_err(|_| Full)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_records_in_one_datagram_then_garbage() {
        let d = [
            22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 5, 0, 2, 0xaa, 0xbb, // record 1
            21, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 9, 0, 0,  // record 2, empty
            99, // garbage
        ];
        let (h1, f1, rest) = next_record(&d).unwrap();
        assert_eq!((h1.content_type, h1.epoch, h1.seq), (22, 0, 5));
        assert_eq!(f1, &[0xaa, 0xbb]);
        let (h2, f2, rest) = next_record(rest).unwrap();
        assert_eq!((h2.content_type, h2.epoch, h2.seq), (21, 1, 9));
        assert!(f2.is_empty());
        assert_eq!(next_record(rest), Err(RecordError::ShortHeader));
    }

    #[test]
    fn bad_headers_are_named() {
        let mut d = [22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 1];
        assert_eq!(next_record(&d), Err(RecordError::LengthBeyondDatagram));
        d[0] = 24;
        assert_eq!(next_record(&d), Err(RecordError::UnknownContentType(24)));
        d[0] = 22;
        d[1] = 3;
        d[2] = 3;
        assert_eq!(next_record(&d), Err(RecordError::UnknownVersion(0x0303)));
    }

    #[test]
    fn a_record_of_unknown_type_or_version_can_be_stepped_over_a_short_one_cannot() {
        let d = [
            24, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0xaa, // unknown type 24
            22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, // a good record after it
        ];
        assert_eq!(next_record(&d), Err(RecordError::UnknownContentType(24)));
        let rest = skip_record(&d).unwrap();
        assert_eq!(next_record(rest).unwrap().0.seq, 2);
        let mut m = d;
        let Err((RecordError::UnknownContentType(24), whole)) = next_record_mut(&mut m) else {
            panic!("the unknown type is named and the datagram comes back");
        };
        assert_eq!(whole.len(), d.len());
        let rest = skip_record_mut(whole).unwrap();
        let (h, fragment, rest) = next_record_mut(rest).unwrap();
        assert_eq!((h.seq, fragment.len(), rest.len()), (2, 0, 0));
        assert_eq!(skip_record(&d[..13]), None, "length beyond the datagram");
        assert_eq!(skip_record(&d[..12]), None, "short header");
    }

    #[test]
    fn header_round_trips() {
        let h = RecordHeader {
            content_type: 23,
            version: DTLS1_2,
            epoch: 1,
            seq: MAX_SEQ,
        };
        let mut buf = [0u8; 16];
        let mut w = Writer::new(&mut buf);
        write_header(&mut w, &h, 3).unwrap();
        w.bytes(&[1, 2, 3]).unwrap();
        let n = w.len();
        let (h2, f, rest) = next_record(&buf[..n]).unwrap();
        assert_eq!(h, h2);
        assert_eq!(f, &[1, 2, 3]);
        assert!(rest.is_empty());
        let (h3, f, rest) = next_record_mut(&mut buf[..n]).unwrap();
        f[0] = 9; // the fragment is the datagram's own bytes
        assert_eq!((h3, rest.len()), (h, 0));
        assert_eq!(buf[HEADER_LEN], 9);
    }
}
