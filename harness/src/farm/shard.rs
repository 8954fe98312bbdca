//! `--shard K/N`: a deterministic share of the cases, so N CI jobs on N farm hosts each
//! run their part and `dicetest report merge` joins them.
//!
//! The cases are put in order of their ids and dealt out in turn: the case at position `i`
//! goes to shard `i mod N + 1`. Every job that loads the same suite computes the same
//! split, the shards are disjoint and together hold every case, and their sizes differ by
//! one at most.

use std::fmt;
use std::str::FromStr;

use crate::cases::LoadedCase;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// 1-based.
    pub index: usize,
    pub count: usize,
}

/// Why a `K/N` did not parse.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    #[error("{0:?} is not K/N (for example 1/4)")]
    Syntax(String),
    #[error("shard {index}/{count}: K must be between 1 and N, and N at least 1")]
    OutOfRange { index: usize, count: usize },
}

impl FromStr for Shard {
    type Err = ShardError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let syntax = || ShardError::Syntax(s.into());
        let (k, n) = s.trim().split_once('/').ok_or_else(syntax)?;
        let index: usize = k.trim().parse().map_err(|_| syntax())?;
        let count: usize = n.trim().parse().map_err(|_| syntax())?;
        if count == 0 || index == 0 || index > count {
            return Err(ShardError::OutOfRange { index, count });
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// The whole suite.
    pub const ALL: Shard = Shard { index: 1, count: 1 };

    /// Whether the case with this id, among all `ids`, is in this shard.
    fn holds(&self, position: usize) -> bool {
        position % self.count + 1 == self.index
    }

    /// This shard's cases, in the order they were given.
    pub fn select(&self, cases: Vec<LoadedCase>) -> Vec<LoadedCase> {
        let ids: Vec<&str> = cases.iter().map(|c| c.case.id.as_str()).collect();
        let mine: std::collections::BTreeSet<String> = self
            .select_ids(&ids)
            .into_iter()
            .map(String::from)
            .collect();
        cases
            .into_iter()
            .filter(|c| mine.contains(&c.case.id))
            .collect()
    }

    /// This shard's ids among `ids` (dealt out by position in id order).
    pub fn select_ids<'a>(&self, ids: &[&'a str]) -> Vec<&'a str> {
        let mut sorted: Vec<&str> = ids.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        sorted
            .into_iter()
            .enumerate()
            .filter(|(i, _)| self.holds(*i))
            .map(|(_, id)| id)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        assert_eq!("2/3".parse(), Ok(Shard { index: 2, count: 3 }));
        assert_eq!(" 1 / 1 ".parse(), Ok(Shard::ALL));
        assert_eq!(
            "0/3".parse::<Shard>(),
            Err(ShardError::OutOfRange { index: 0, count: 3 })
        );
        assert_eq!(
            "4/3".parse::<Shard>(),
            Err(ShardError::OutOfRange { index: 4, count: 3 })
        );
        assert!(matches!("3".parse::<Shard>(), Err(ShardError::Syntax(_))));
        assert!(matches!("a/b".parse::<Shard>(), Err(ShardError::Syntax(_))));
        assert_eq!(Shard { index: 2, count: 5 }.to_string(), "2/5");
    }

    #[test]
    fn shards_partition_the_ids_whatever_their_order() {
        let ids = [
            "HS-02", "CK-01", "HS-01", "REC-03", "CK-02", "FRAG-01", "SEQ-01",
        ];
        let mut reversed = ids;
        reversed.reverse();
        for n in 1..=4 {
            let mut seen: Vec<&str> = Vec::new();
            let mut sizes = Vec::new();
            for k in 1..=n {
                let s = Shard { index: k, count: n };
                let a = s.select_ids(&ids);
                assert_eq!(a, s.select_ids(&reversed), "order of input matters for {s}");
                sizes.push(a.len());
                seen.extend(a);
            }
            seen.sort_unstable();
            let mut all = ids.to_vec();
            all.sort_unstable();
            assert_eq!(seen, all, "shards of {n} do not partition the cases");
            let (lo, hi) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
            assert!(hi - lo <= 1, "unbalanced: {sizes:?}");
        }
        assert_eq!(
            Shard { index: 1, count: 3 }.select_ids(&ids),
            ["CK-01", "HS-01", "SEQ-01"]
        );
    }
}
