//! The campaign's only source of randomness: a ChaCha stream per batch, derived from the
//! campaign seed and the batch number, so any batch can be rebuilt on its own.

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub struct Rng(ChaCha8Rng);

impl Rng {
    /// The stream of batch `batch` of the campaign seeded with `seed`.
    pub fn for_batch(seed: u64, batch: u64) -> Rng {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&seed.to_le_bytes());
        key[8..16].copy_from_slice(&batch.to_le_bytes());
        key[16..].copy_from_slice(b"dicetest fuzz v1");
        Rng(ChaCha8Rng::from_seed(key))
    }

    pub fn u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in `lo..=hi` (`lo` when the range is empty).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        let span = hi - lo;
        if span == u64::MAX {
            return self.u64();
        }
        lo + self.u64() % (span + 1)
    }

    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.u64() % n as u64) as usize
        }
    }

    /// True with probability `num / den`.
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        den > 0 && self.u64() % den < num
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut b = vec![0u8; n];
        self.0.fill_bytes(&mut b);
        b
    }

    /// Bytes that are never all zero (an XOR mask that changes something).
    pub fn nonzero_bytes(&mut self, n: usize) -> Vec<u8> {
        let mut b = self.bytes(n.max(1));
        if b.iter().all(|x| *x == 0) {
            b[0] = 1;
        }
        b
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_and_batch_give_the_same_stream() {
        let a: Vec<u64> = (0..4).map(|_| Rng::for_batch(7, 3).u64()).collect();
        assert!(a.iter().all(|x| *x == a[0]));
        assert_ne!(Rng::for_batch(7, 3).u64(), Rng::for_batch(7, 4).u64());
        assert_ne!(Rng::for_batch(7, 3).u64(), Rng::for_batch(8, 3).u64());
        let mut r = Rng::for_batch(1, 1);
        for _ in 0..1000 {
            let v = r.range(3, 9);
            assert!((3..=9).contains(&v));
        }
        assert!(r.nonzero_bytes(4).iter().any(|b| *b != 0));
    }
}
