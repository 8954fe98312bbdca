//! Alert levels and the descriptions the device sends or understands (RFC 5246 §7.2,
//! RFC 4279 §2, RFC 5746).

pub const WARNING: u8 = 1;
pub const FATAL: u8 = 2;

pub const CLOSE_NOTIFY: u8 = 0;
pub const UNEXPECTED_MESSAGE: u8 = 10;
pub const BAD_RECORD_MAC: u8 = 20;
pub const HANDSHAKE_FAILURE: u8 = 40;
pub const ILLEGAL_PARAMETER: u8 = 47;
pub const DECODE_ERROR: u8 = 50;
pub const DECRYPT_ERROR: u8 = 51;
pub const PROTOCOL_VERSION: u8 = 70;
pub const INTERNAL_ERROR: u8 = 80;
pub const NO_RENEGOTIATION: u8 = 100;
pub const UNSUPPORTED_EXTENSION: u8 = 110;
pub const UNKNOWN_PSK_IDENTITY: u8 = 115;
