use crate::codec::{Codec, Reader};
use crate::enums::{AlertDescription, AlertLevel};
use crate::error::DecodeError;

/// An alert record's plaintext (RFC 5246 §7.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Alert {
    pub level: AlertLevel,
    pub description: AlertDescription,
}

impl Alert {
    pub fn fatal(description: AlertDescription) -> Self {
        Self {
            level: AlertLevel::Fatal,
            description,
        }
    }

    pub fn warning(description: AlertDescription) -> Self {
        Self {
            level: AlertLevel::Warning,
            description,
        }
    }
}

impl Codec for Alert {
    fn encode(&self, out: &mut Vec<u8>) {
        self.level.encode(out);
        self.description.encode(out);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            level: AlertLevel::from(r.u8("Alert.level")?),
            description: AlertDescription::from(r.u8("Alert.description")?),
        })
    }
}
