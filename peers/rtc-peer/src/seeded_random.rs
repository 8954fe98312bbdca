//! A crypto provider whose randomness is reproducible, for deterministic test runs.
//!
//! rtc-dtls draws every random byte it needs (ClientHello/ServerHello Random, the
//! HelloVerifyRequest cookie, the AES-CCM/GCM explicit nonce) from its provider's `random()`.
//! Replacing only that source, and keeping ring for the actual cryptography, makes a run
//! repeatable. It is for tests only: the stream is predictable by design.

use rtc_dtls::crypto_provider::providers::RingProvider;
use rtc_dtls::crypto_provider::{
    CryptoError, HashAlgorithm, RTCCrypto, RTCCryptoProvider, RTCRandom,
};
use std::sync::Mutex;

/// ring's cryptography plus a seeded random stream.
pub(crate) struct SeededProvider {
    ring: RingProvider,
    random: SeededRandom,
}

impl SeededProvider {
    /// `domain` separates streams that share a seed (the two roles of one test).
    pub(crate) fn new(seed: u64, domain: &[u8]) -> Self {
        Self {
            ring: RingProvider::new(),
            random: SeededRandom {
                seed: seed.to_be_bytes(),
                domain: domain.to_vec(),
                state: Mutex::new(Stream::default()),
            },
        }
    }
}

impl RTCCryptoProvider for SeededProvider {
    fn name(&self) -> &'static str {
        "ring+seeded-random"
    }

    fn crypto(&self) -> &dyn RTCCrypto {
        self.ring.crypto()
    }

    fn random(&self) -> &dyn RTCRandom {
        &self.random
    }
}

/// SHA-256 in counter mode over (seed, domain, counter).
struct SeededRandom {
    seed: [u8; 8],
    domain: Vec<u8>,
    state: Mutex<Stream>,
}

#[derive(Default)]
struct Stream {
    counter: u64,
    block: Vec<u8>,
    used: usize,
}

impl SeededRandom {
    fn next_block(&self, counter: u64) -> Result<Vec<u8>, CryptoError> {
        let mut input = Vec::with_capacity(16 + self.domain.len());
        input.extend_from_slice(&self.seed);
        input.extend_from_slice(&counter.to_be_bytes());
        input.extend_from_slice(&self.domain);
        RingProvider::new()
            .crypto()
            .hash(HashAlgorithm::Sha256, &input)
    }
}

impl RTCRandom for SeededRandom {
    fn fill(&self, output: &mut [u8]) -> Result<(), CryptoError> {
        let mut stream = self
            .state
            .lock()
            .map_err(|_| CryptoError::RandomnessFailed)?;
        for byte in output.iter_mut() {
            if stream.used >= stream.block.len() {
                let counter = stream.counter;
                stream.block = self.next_block(counter)?;
                stream.counter = counter.wrapping_add(1);
                stream.used = 0;
            }
            // `used < block.len()` holds here: a SHA-256 block is never empty.
            *byte = stream.block.get(stream.used).copied().unwrap_or_default();
            stream.used += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draw(provider: &SeededProvider, n: usize) -> Vec<u8> {
        let mut out = vec![0; n];
        provider.random().fill(&mut out).expect("fill");
        out
    }

    #[test]
    fn same_seed_and_domain_give_the_same_stream() {
        let a = SeededProvider::new(7, b"client");
        let b = SeededProvider::new(7, b"client");
        // Uneven draws must still line up byte for byte across block boundaries.
        let mut left = draw(&a, 5);
        left.extend(draw(&a, 40));
        let right = draw(&b, 45);
        assert_eq!(left, right);
    }

    #[test]
    fn seed_and_domain_both_change_the_stream() {
        let base = draw(&SeededProvider::new(7, b"client"), 32);
        assert_ne!(base, draw(&SeededProvider::new(8, b"client"), 32));
        assert_ne!(base, draw(&SeededProvider::new(7, b"server"), 32));
        assert_ne!(base, vec![0u8; 32]);
    }
}
