//! Turning datagrams into authenticated record payloads and back.

use std::collections::BTreeMap;

use dicetest_crypto::{AadFields, RecordProtection};
use dicetest_wire::{ContentType, DecodeError, ProtocolVersion, Record, RecordHeader};
use thiserror::Error;

use super::epoch::{ReadEpoch, WriteEpoch};
use super::replay_window::ReplayVerdict;

/// Why a received record was discarded. RFC 6347 §4.1.2.7: invalid records are dropped
/// silently, so each of these is an observation, not an error of ours.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum DropReason {
    #[error("malformed record at byte {offset} of the datagram: {error}")]
    Malformed { offset: usize, error: DecodeError },
    #[error("epoch {epoch} is not one we hold keys for (current read epoch {current})")]
    UnknownEpoch { epoch: u16, current: u16 },
    #[error("epoch {epoch} is over: the association moved to epoch {current} and an earlier epoch's record could be injected by anyone on the path (RFC 6347 §4.1)")]
    EarlierEpoch { epoch: u16, current: u16 },
    #[error("record failed authentication: {0}")]
    AuthenticationFailed(String),
    #[error("replayed record (epoch {epoch}, sequence number {seq})")]
    Replayed { epoch: u16, seq: u64 },
    #[error("record left of the replay window (epoch {epoch}, sequence number {seq})")]
    TooOld { epoch: u16, seq: u64 },
    #[error("record version {0:04x} is not a DTLS version")]
    BadVersion(u16),
    #[error("next-epoch record buffered until the peer's ChangeCipherSpec")]
    BufferedForNextEpoch,
    #[error("too many next-epoch records buffered; dropped")]
    NextEpochBufferFull,
}

/// One record after the record layer dealt with it.
#[derive(Clone, Debug)]
pub struct ReceivedRecord {
    pub header: RecordHeader,
    /// The authenticated plaintext; `None` when dropped.
    pub plaintext: Option<Vec<u8>>,
    /// Whether it was protected (epoch > 0 with keys).
    pub decrypted: bool,
    pub dropped: Option<DropReason>,
    /// Delivered although its sequence number was already received in its epoch (only
    /// when the layer delivers replays).
    pub replayed: bool,
    /// A plaintext (epoch 0) record dropped as a replay: its bytes, so a caller who judges
    /// the peer can still see what it said.
    pub unread_plaintext: Option<Vec<u8>>,
}

/// Changes a script may make to a record we send.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordOverrides {
    pub content_type: Option<u8>,
    pub version: Option<u16>,
    /// Epoch written in the header; keys are still those of the epoch the data belongs to
    /// unless `protect_with_epoch` says otherwise.
    pub epoch: Option<u16>,
    pub sequence_number: Option<u64>,
    /// Length field written instead of the true one.
    pub length: Option<u16>,
    /// Send in the clear even in a protected epoch.
    pub plaintext: bool,
    /// Protect with this epoch's keys instead.
    pub protect_with_epoch: Option<u16>,
    /// XOR these bytes into the end of the protected fragment (the tag for AEAD suites).
    pub tag_xor: Option<Vec<u8>>,
    /// Explicit nonce/IV to use instead of the default (CCM: epoch||seq).
    pub explicit_nonce: Option<Vec<u8>>,
    /// Send these payload bytes instead of the real ones.
    pub replace_payload: Option<Vec<u8>>,
}

/// Bound on next-epoch records held back (REORD: Finished before CCS).
const MAX_NEXT_EPOCH_BUFFER: usize = 8;

pub struct RecordLayer {
    version: ProtocolVersion,
    write: BTreeMap<u16, WriteEpoch>,
    write_epoch: u16,
    read: BTreeMap<u16, ReadEpoch>,
    read_epoch: u16,
    /// Keys for read epoch `read_epoch + 1`, installed before the peer's CCS arrives.
    next_read: Option<ReadEpoch>,
    next_epoch_buffer: Vec<Record>,
    /// Deliver records the replay window would discard (a script observes every record; see
    /// `ReceivedRecord::replayed`).
    deliver_replays: bool,
    /// Per epoch, the highest sequence number any record we sent carried (a script may
    /// have chosen one above the counter).
    highest_sent: BTreeMap<u16, u64>,
}

impl RecordLayer {
    pub fn new(version: ProtocolVersion) -> Self {
        let mut write = BTreeMap::new();
        write.insert(0, WriteEpoch::plaintext());
        let mut read = BTreeMap::new();
        read.insert(0, ReadEpoch::plaintext());
        RecordLayer {
            version,
            write,
            write_epoch: 0,
            read,
            read_epoch: 0,
            next_read: None,
            next_epoch_buffer: Vec::new(),
            deliver_replays: false,
            highest_sent: BTreeMap::new(),
        }
    }

    pub fn set_deliver_replays(&mut self, on: bool) {
        self.deliver_replays = on;
    }

    /// A sequence number for the current write epoch that no record we sent has carried
    /// or gone past: for the harness's own housekeeping (close_notify) after a script
    /// chose high numbers, so the peer's replay window does not discard it (§4.1.2.6).
    pub fn fresh_write_seq(&self) -> u64 {
        let e = self.write_epoch;
        let next = self.write.get(&e).map(|w| w.next_seq).unwrap_or(0);
        self.highest_sent
            .get(&e)
            .map(|h| next.max(h + 1))
            .unwrap_or(next)
    }

    pub fn version(&self) -> ProtocolVersion {
        self.version
    }

    pub fn set_version(&mut self, v: ProtocolVersion) {
        self.version = v;
    }

    pub fn write_epoch(&self) -> u16 {
        self.write_epoch
    }

    pub fn read_epoch(&self) -> u16 {
        self.read_epoch
    }

    /// Peeks at the sequence number the next record of `epoch` will carry.
    pub fn next_write_seq(&self, epoch: u16) -> Option<u64> {
        self.write.get(&epoch).map(|w| w.next_seq)
    }

    /// Sets where the next record of the current write epoch starts (a stateless server
    /// answers a ClientHello with the ClientHello's own sequence number, §4.2.1).
    pub fn set_next_write_seq(&mut self, seq: u64) {
        if let Some(w) = self.write.get_mut(&self.write_epoch) {
            w.next_seq = seq;
        }
    }

    /// Our ChangeCipherSpec went out: later records use the next epoch (§4.1).
    pub fn advance_write_epoch(&mut self, protection: Box<dyn RecordProtection>) {
        let epoch = self.write_epoch.wrapping_add(1);
        self.write.insert(
            epoch,
            WriteEpoch {
                epoch,
                next_seq: 0,
                protection: Some(protection),
            },
        );
        self.write_epoch = epoch;
    }

    /// Keys for the peer's next epoch are known; they take effect at its CCS.
    pub fn install_next_read(&mut self, protection: Box<dyn RecordProtection>) {
        let epoch = self.read_epoch.wrapping_add(1);
        self.next_read = Some(ReadEpoch {
            epoch,
            protection: Some(protection),
            replay_window: Default::default(),
        });
    }

    pub fn has_next_read(&self) -> bool {
        self.next_read.is_some()
    }

    /// The peer's ChangeCipherSpec arrived. Returns the records that were waiting for it.
    pub fn advance_read_epoch(&mut self) -> Option<Vec<Record>> {
        let next = self.next_read.take()?;
        self.read_epoch = next.epoch;
        self.read.insert(next.epoch, next);
        Some(std::mem::take(&mut self.next_epoch_buffer))
    }

    /// Authenticates one record.
    pub fn read_record(&mut self, record: Record) -> ReceivedRecord {
        let header = record.header;
        let dropped = |reason| ReceivedRecord {
            header,
            plaintext: None,
            decrypted: false,
            dropped: Some(reason),
            replayed: false,
            unread_plaintext: None,
        };
        // RFC 6347 §4.1: DTLS versions are 0xFEFF (1.0) and 0xFEFD (1.2). Anything else in a
        // record header is not DTLS; the record is dropped.
        let v = header.version.get_u16();
        if v >> 8 != 0xFE {
            return dropped(DropReason::BadVersion(v));
        }
        let epoch = header.epoch;
        if !self.read.contains_key(&epoch) {
            if self.next_read.as_ref().map(|n| n.epoch) == Some(epoch) {
                if self.next_epoch_buffer.len() >= MAX_NEXT_EPOCH_BUFFER {
                    return dropped(DropReason::NextEpochBufferFull);
                }
                self.next_epoch_buffer.push(record);
                return dropped(DropReason::BufferedForNextEpoch);
            }
            return dropped(DropReason::UnknownEpoch {
                epoch,
                current: self.read_epoch,
            });
        }
        let Some(state) = self.read.get_mut(&epoch) else {
            return dropped(DropReason::UnknownEpoch {
                epoch,
                current: self.read_epoch,
            });
        };
        let seq = header.sequence_number;
        let plain = state.protection.is_none();
        let with_bytes = |mut r: ReceivedRecord| {
            if plain {
                r.unread_plaintext = Some(record.fragment.clone());
            }
            r
        };
        let replayed = match state.replay_window.check(seq) {
            ReplayVerdict::Fresh => false,
            _ if self.deliver_replays => true,
            ReplayVerdict::Duplicate => {
                return with_bytes(dropped(DropReason::Replayed { epoch, seq }))
            }
            ReplayVerdict::TooOld => return with_bytes(dropped(DropReason::TooOld { epoch, seq })),
        };
        let (plaintext, decrypted) = match &state.protection {
            None => (record.fragment, false),
            Some(p) => {
                let aad = AadFields {
                    epoch,
                    sequence_number: seq,
                    content_type: header.content_type.get_u8(),
                    version: v.to_be_bytes(),
                };
                match p.open(&aad, &record.fragment) {
                    Ok(pt) => (pt, true),
                    Err(e) => return dropped(DropReason::AuthenticationFailed(e.to_string())),
                }
            }
        };
        // Only an authenticated record moves the window (§4.1.2.6).
        state.replay_window.mark(seq);
        ReceivedRecord {
            header,
            plaintext: Some(plaintext),
            decrypted,
            dropped: None,
            replayed,
            unread_plaintext: None,
        }
    }

    /// Builds one record of `content_type` carrying `payload`, in `epoch` (default: current
    /// write epoch), with any overrides applied. Returns the record bytes and its header.
    pub fn seal(
        &mut self,
        content_type: ContentType,
        epoch: Option<u16>,
        payload: &[u8],
        o: &RecordOverrides,
    ) -> (Vec<u8>, RecordHeader) {
        let epoch = epoch.unwrap_or(self.write_epoch);
        let version = o.version.map(ProtocolVersion::from).unwrap_or(self.version);
        let header_epoch = o.epoch.unwrap_or(epoch);
        let key_epoch = o.protect_with_epoch.unwrap_or(epoch);
        let seq = match o.sequence_number {
            Some(s) => s & super::epoch::MAX_SEQUENCE_NUMBER,
            None => self
                .write
                .get_mut(&epoch)
                .map(|w| w.take_seq())
                .unwrap_or(0),
        };
        let content_type = o
            .content_type
            .map(ContentType::from)
            .unwrap_or(content_type);
        let payload = o.replace_payload.as_deref().unwrap_or(payload);
        let protection = if o.plaintext {
            None
        } else {
            self.write
                .get(&key_epoch)
                .and_then(|w| w.protection.as_deref())
        };
        let mut fragment = match protection {
            None => payload.to_vec(),
            Some(p) => {
                let aad = AadFields {
                    epoch: header_epoch,
                    sequence_number: seq,
                    content_type: content_type.get_u8(),
                    version: version.get_u16().to_be_bytes(),
                };
                let mut default_nonce = [0u8; 16];
                default_nonce[..2].copy_from_slice(&header_epoch.to_be_bytes());
                default_nonce[2..8].copy_from_slice(&seq.to_be_bytes()[2..]);
                // CCM: the explicit nonce is epoch||seq (RFC 6655 §3). CBC: a fresh IV is
                // required; deriving it from epoch||seq keeps runs reproducible, and the IV
                // is still unique per record.
                let n = p.explicit_nonce_len();
                let explicit = o
                    .explicit_nonce
                    .clone()
                    .unwrap_or_else(|| default_nonce[..n.min(16)].to_vec());
                p.seal(&aad, &explicit, payload)
            }
        };
        if let Some(x) = &o.tag_xor {
            let n = fragment.len();
            for (i, b) in x.iter().enumerate() {
                if i < n {
                    fragment[n - x.len().min(n) + i] ^= b;
                }
            }
        }
        let highest = self.highest_sent.entry(header_epoch).or_insert(seq);
        *highest = (*highest).max(seq);
        let header = RecordHeader {
            content_type,
            version,
            epoch: header_epoch,
            sequence_number: seq,
            length: o.length.unwrap_or(fragment.len() as u16),
        };
        let record = Record { header, fragment };
        let mut bytes = Vec::with_capacity(13 + record.fragment.len());
        record.encode(&mut bytes);
        (bytes, header)
    }

    /// Overhead a record of the current write epoch adds to its payload.
    pub fn overhead(&self) -> usize {
        13 + self
            .write
            .get(&self.write_epoch)
            .and_then(|w| w.protection.as_ref())
            .map(|p| p.max_overhead())
            .unwrap_or(0)
    }
}
