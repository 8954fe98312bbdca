//! DTLS record layer framing (RFC 6347 §4.1).
//!
//! Only framing: protection (MAC/AEAD) belongs to the crypto crate. Records
//! using the RFC 9146 connection-ID header (`tls12_cid`) have a different
//! layout and are not split here.

use crate::codec::{put_u48, Codec, Reader};
use crate::enums::{ContentType, ProtocolVersion};
use crate::error::DecodeError;

/// Size of the `DTLSPlaintext` header: type, version, epoch, 48-bit
/// sequence number, length (RFC 6347 §4.1).
pub const RECORD_HEADER_LEN: usize = 13;

/// Largest value of the 48-bit `sequence_number`.
pub const MAX_SEQUENCE_NUMBER: u64 = (1 << 48) - 1;

/// The 13-byte header of a DTLS record (RFC 6347 §4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordHeader {
    pub content_type: ContentType,
    pub version: ProtocolVersion,
    pub epoch: u16,
    /// 48 bits on the wire; higher bits are dropped when encoding.
    pub sequence_number: u64,
    /// As read or as to be written: not necessarily the fragment's length.
    pub length: u16,
}

impl Codec for RecordHeader {
    fn encode(&self, out: &mut Vec<u8>) {
        self.content_type.encode(out);
        self.version.encode(out);
        out.extend_from_slice(&self.epoch.to_be_bytes());
        put_u48(out, self.sequence_number);
        out.extend_from_slice(&self.length.to_be_bytes());
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        // Check the whole header up front so a short tail reports as one
        // truncated header rather than as whichever field it ran out in.
        if r.remaining() < RECORD_HEADER_LEN {
            return Err(DecodeError::Truncated {
                what: "DTLSPlaintext header",
                needed: RECORD_HEADER_LEN,
                available: r.remaining(),
            });
        }
        Ok(Self {
            content_type: ContentType::from(r.u8("DTLSPlaintext.type")?),
            version: ProtocolVersion::from(r.u16("DTLSPlaintext.version")?),
            epoch: r.u16("DTLSPlaintext.epoch")?,
            sequence_number: r.u48("DTLSPlaintext.sequence_number")?,
            length: r.u16("DTLSPlaintext.length")?,
        })
    }
}

/// One DTLS record: header plus (possibly protected) fragment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub header: RecordHeader,
    pub fragment: Vec<u8>,
}

impl Record {
    /// A record whose header length matches the fragment (truncated to 16
    /// bits if the fragment is longer than any record may be).
    pub fn new(
        content_type: ContentType,
        version: ProtocolVersion,
        epoch: u16,
        sequence_number: u64,
        fragment: Vec<u8>,
    ) -> Self {
        Self {
            header: RecordHeader {
                content_type,
                version,
                epoch,
                sequence_number,
                length: fragment.len() as u16,
            },
            fragment,
        }
    }

    /// Writes the header exactly as given (a script may set a `length` that
    /// disagrees with the fragment), then the fragment.
    pub fn encode(&self, out: &mut Vec<u8>) {
        self.header.encode(out);
        out.extend_from_slice(&self.fragment);
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(RECORD_HEADER_LEN + self.fragment.len());
        self.encode(&mut out);
        out
    }

    /// Reads one record; its fragment is `header.length` bytes.
    pub fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let header = RecordHeader::read(r)?;
        let fragment = r
            .take_declared(header.length as usize, "DTLSPlaintext.fragment")?
            .to_vec();
        Ok(Self { header, fragment })
    }
}

/// The result of splitting a datagram into records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatagramParse {
    /// Records that parsed, in datagram order.
    pub records: Vec<Record>,
    /// Where the datagram stopped making sense and why. RFC 6347 §4.1.2.7
    /// lets a receiver silently discard such a tail; the caller decides.
    pub trailing_error: Option<(usize, DecodeError)>,
}

/// Splits one datagram into records. RFC 6347 §4.1.1 allows several records
/// per datagram, each record wholly inside it; the first record that does
/// not fit ends the parse.
pub fn parse_datagram(datagram: &[u8]) -> DatagramParse {
    let mut r = Reader::new(datagram);
    let mut records = Vec::new();
    while r.any_left() {
        let offset = r.position();
        match Record::read(&mut r) {
            Ok(rec) => records.push(rec),
            Err(e) => {
                return DatagramParse {
                    records,
                    trailing_error: Some((offset, e)),
                }
            }
        }
    }
    DatagramParse {
        records,
        trailing_error: None,
    }
}

/// Concatenates records into one datagram.
pub fn encode_datagram(records: &[Record]) -> Vec<u8> {
    let mut out = Vec::new();
    records.iter().for_each(|r| r.encode(&mut out));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_layout_matches_rfc6347() {
        let bytes = [
            22, 0xfe, 0xfd, // handshake, DTLS 1.2
            0x00, 0x01, // epoch 1
            0x00, 0x00, 0x01, 0x02, 0x03, 0x04, // sequence number
            0x00, 0x03, // length
            0xaa, 0xbb, 0xcc,
        ];
        let p = parse_datagram(&bytes);
        assert_eq!(p.trailing_error, None);
        assert_eq!(p.records.len(), 1);
        let h = p.records[0].header;
        assert_eq!(h.content_type, ContentType::Handshake);
        assert_eq!(h.version, ProtocolVersion::DTLS1_2);
        assert_eq!(h.epoch, 1);
        assert_eq!(h.sequence_number, 0x0102_0304);
        assert_eq!(h.length, 3);
        assert_eq!(p.records[0].fragment, [0xaa, 0xbb, 0xcc]);
        assert_eq!(p.records[0].to_bytes(), bytes);
    }

    #[test]
    fn several_records_then_a_length_beyond_the_datagram() {
        let a = Record::new(
            ContentType::Alert,
            ProtocolVersion::DTLS1_2,
            0,
            7,
            vec![2, 40],
        );
        let b = Record::new(
            ContentType::ChangeCipherSpec,
            ProtocolVersion::DTLS1_2,
            0,
            8,
            vec![1],
        );
        let mut bad = Record::new(
            ContentType::Handshake,
            ProtocolVersion::DTLS1_2,
            0,
            9,
            vec![0; 4],
        );
        bad.header.length = 100;
        let dgram = encode_datagram(&[a.clone(), b.clone(), bad]);
        let p = parse_datagram(&dgram);
        assert_eq!(p.records, vec![a, b]);
        assert_eq!(
            p.trailing_error,
            Some((
                15 + 14,
                DecodeError::LengthMismatch {
                    what: "DTLSPlaintext.fragment",
                    declared: 100,
                    actual: 4
                }
            ))
        );
    }

    #[test]
    fn truncated_header_is_reported_at_its_offset() {
        let a = Record::new(
            ContentType::ApplicationData,
            ProtocolVersion::DTLS1_2,
            1,
            1,
            vec![],
        );
        let mut dgram = a.to_bytes();
        dgram.extend_from_slice(&[23, 0xfe, 0xfd, 0]);
        let p = parse_datagram(&dgram);
        assert_eq!(p.records, vec![a]);
        assert_eq!(
            p.trailing_error,
            Some((
                13,
                DecodeError::Truncated {
                    what: "DTLSPlaintext header",
                    needed: 13,
                    available: 4
                }
            ))
        );
    }

    #[test]
    fn sequence_number_is_48_bits_on_the_wire() {
        let mut rec = Record::new(ContentType::Alert, ProtocolVersion::DTLS1_2, 0, 0, vec![]);
        rec.header.sequence_number = 0xabcd_0000_0000_0001;
        let bytes = rec.to_bytes();
        assert_eq!(bytes[5..11], [0, 0, 0, 0, 0, 1]);
    }
}
