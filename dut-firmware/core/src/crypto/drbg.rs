//! HMAC_DRBG with SHA-256 (NIST SP 800-90A Rev. 1 §10.1.2), without the reseed counter
//! bookkeeping: server randoms, cookie secrets and CBC IVs come from here. Seeded by the
//! caller: a board with a hardware RNG feeds it entropy ([`Drbg::reseed`]); the simulation
//! uses a fixed seed so that runs are reproducible.

use super::prf::hmac_sha256;

#[derive(Clone)]
pub struct Drbg {
    key: [u8; 32],
    v: [u8; 32],
}

impl core::fmt::Debug for Drbg {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Drbg(<secret>)")
    }
}

impl Drbg {
    /// Instantiate (SP 800-90A §10.1.2.3): K = 0x00.., V = 0x01.., then update(seed).
    pub fn new(seed: &[u8]) -> Self {
        let mut d = Drbg {
            key: [0; 32],
            v: [1; 32],
        };
        d.update(seed);
        d
    }

    /// Mixes in more entropy (SP 800-90A §10.1.2.4).
    pub fn reseed(&mut self, entropy: &[u8]) {
        self.update(entropy);
    }

    /// HMAC_DRBG_Update (SP 800-90A §10.1.2.2).
    fn update(&mut self, data: &[u8]) {
        self.key = hmac_sha256(&self.key, &[&self.v, &[0x00], data]);
        self.v = hmac_sha256(&self.key, &[&self.v]);
        if !data.is_empty() {
            self.key = hmac_sha256(&self.key, &[&self.v, &[0x01], data]);
            self.v = hmac_sha256(&self.key, &[&self.v]);
        }
    }

    /// HMAC_DRBG_Generate (SP 800-90A §10.1.2.5) without additional input.
    pub fn fill(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(32) {
            self.v = hmac_sha256(&self.key, &[&self.v]);
            chunk.copy_from_slice(&self.v[..chunk.len()]);
        }
        self.update(&[]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_bytes_different_seed_different_bytes() {
        let (mut a, mut b, mut c) = (Drbg::new(b"one"), Drbg::new(b"one"), Drbg::new(b"two"));
        let (mut x, mut y, mut z) = ([0u8; 40], [0u8; 40], [0u8; 40]);
        a.fill(&mut x);
        b.fill(&mut y);
        c.fill(&mut z);
        assert_eq!(x, y);
        assert_ne!(x, z);
        let mut x2 = [0u8; 40];
        a.fill(&mut x2);
        assert_ne!(x, x2, "successive outputs must differ");
    }
}
