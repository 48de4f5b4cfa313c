//! SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators",
//! 2014): the one seeded mixer of the whole program. The engine draws its ids and random
//! picks from it, the bus derives each server's seed from the run's, and the scenario
//! runner's load generators their keys and values. Recorded log hashes depend on every
//! output, so its constants never change.

/// The golden-ratio increment between two states.
const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's output function: a bijection that scatters every bit of `z` over the
/// result.
pub fn finalize(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A seed for the `index`th stream drawn from `seed`: independent-looking streams (one
/// per server, one per restart) from one run seed.
pub fn mix_seed(seed: u64, index: u64) -> u64 {
    finalize(seed ^ index.wrapping_mul(GAMMA))
}

/// The generator: a counter stepped by [`GAMMA`], finalized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GAMMA);
        finalize(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference outputs for seed 1234567 (the C code in the paper's companion,
    /// `splitmix64.c`): a change to the constants would change every recorded run.
    #[test]
    fn matches_the_reference_sequence() {
        let mut g = SplitMix64::new(1234567);
        let got: Vec<u64> = (0..3).map(|_| g.next_u64()).collect();
        assert_eq!(
            got,
            [
                6457827717110365317,
                3203168211198807973,
                9817491932198370423
            ]
        );
    }
}
