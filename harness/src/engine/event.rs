//! What an engine endpoint tells its caller.

use dicetest_wire::{AlertDescription, AlertLevel, HandshakeMessage, RecordHeader};

use super::error::HandshakeFailure;
use super::record::DropReason;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Sent,
    Received,
}

/// One record as it crossed the wire, for traces and evidence.
#[derive(Clone, Debug)]
pub struct RecordTrace {
    pub direction: Direction,
    pub header: RecordHeader,
    /// Whether the payload below was decrypted (or is plaintext).
    pub decrypted: bool,
    /// A one-line decoding of the content.
    pub summary: String,
    pub dropped: Option<DropReason>,
    /// How many plaintext bytes it carried, where the engine read (or wrote) them.
    pub plaintext_len: Option<usize>,
}

#[derive(Clone, Debug)]
pub enum Event {
    /// A record went out or came in.
    Record(RecordTrace),
    /// A complete handshake message from the peer.
    HandshakeMessage {
        epoch: u16,
        message_seq: u16,
        message: HandshakeMessage,
    },
    ChangeCipherSpec {
        epoch: u16,
    },
    Alert {
        epoch: u16,
        level: AlertLevel,
        description: AlertDescription,
    },
    ApplicationData(Vec<u8>),
    /// The handshake completed.
    Connected {
        cipher_suite: u16,
        extended_master_secret: bool,
        resumed: bool,
    },
    /// We retransmitted a flight (timer or the peer's retransmission).
    Retransmitted {
        flight: u8,
        count: u32,
    },
    /// The handshake failed; the connection is closed.
    Failed(HandshakeFailure),
    /// The peer closed with close_notify, or we did.
    Closed,
}
