//! The security parameters a handshake negotiates, and the keys derived from them
//! (RFC 5246 §6.1, §8.1; RFC 4279 §2; RFC 7627 §4; RFC 8422 §5.10).

use std::fmt;

use dicetest_crypto::{
    derive_key_block, extended_master_secret, keylog_line, master_secret, psk_premaster_secret,
    record_protection, EphemeralKey, RecordProtection, SuiteParams,
};

use super::config::Role;

#[derive(Default)]
pub struct SecurityParams {
    pub suite: Option<&'static SuiteParams>,
    pub client_random: [u8; 32],
    pub server_random: [u8; 32],
    pub session_id: Vec<u8>,
    pub extended_master_secret: bool,
    pub cookie: Vec<u8>,
    pub psk_identity: Option<Vec<u8>>,
    pub psk_identity_hint: Option<Vec<u8>>,
    pub premaster: Option<Vec<u8>>,
    pub master: Option<[u8; 48]>,
    pub ecdhe: Option<EphemeralKey>,
    pub peer_point: Option<Vec<u8>>,
    pub peer_spki: Option<Vec<u8>>,
    pub client_certificate_requested: bool,
}

impl fmt::Debug for SecurityParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecurityParams")
            .field("suite", &self.suite.map(|s| s.name))
            .field("client_random", &hex::encode(self.client_random))
            .field("server_random", &hex::encode(self.server_random))
            .field("extended_master_secret", &self.extended_master_secret)
            .field("master", &self.master.map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

impl SecurityParams {
    pub fn set_psk_premaster(&mut self, psk: &[u8]) {
        self.premaster = Some(psk_premaster_secret(psk));
    }

    /// Computes the master secret; `session_hash` is the transcript hash through
    /// ClientKeyExchange, used when extended_master_secret was negotiated (RFC 7627 §4).
    pub fn derive_master(&mut self, session_hash: &[u8; 32]) -> bool {
        let Some(pms) = &self.premaster else {
            return false;
        };
        self.master = Some(if self.extended_master_secret {
            extended_master_secret(pms, session_hash)
        } else {
            master_secret(pms, &self.client_random, &self.server_random)
        });
        true
    }

    /// (our write protection, our read protection) for the next epoch.
    pub fn protections(
        &self,
        role: Role,
    ) -> Option<(Box<dyn RecordProtection>, Box<dyn RecordProtection>)> {
        let suite = self.suite?;
        let master = self.master.as_ref()?;
        let kb = derive_key_block(suite, master, &self.client_random, &self.server_random);
        let client = record_protection(
            suite,
            &kb.client_write_key,
            &kb.client_write_iv,
            &kb.client_write_mac_key,
        );
        let server = record_protection(
            suite,
            &kb.server_write_key,
            &kb.server_write_iv,
            &kb.server_write_mac_key,
        );
        Some(match role {
            Role::Client => (client, server),
            Role::Server => (server, client),
        })
    }

    /// The NSS key log line for this session, if the master secret is known.
    pub fn keylog_line(&self) -> Option<String> {
        self.master
            .as_ref()
            .map(|m| keylog_line(&self.client_random, m))
    }
}
