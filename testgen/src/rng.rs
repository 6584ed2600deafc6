//! Where the generator's choices come from.
//!
//! The generator asks an [`Entropy`] source for 32-bit numbers and nothing
//! else, so one generator serves every rung of the fuzz ladder:
//! - [`SplitMix64`] for property tests: a seed names a program, and the same
//!   seed always names the same one;
//! - [`ByteEntropy`] for coverage-guided fuzzers, which mutate raw bytes: each
//!   choice consumes a few input bytes, and an exhausted input reads as zeros,
//!   so every input (even an empty one) still yields a valid program.

/// A source of random 32-bit numbers.
pub trait Entropy {
    /// The next number.
    fn next_u32(&mut self) -> u32;
}

/// SplitMix64 (Steele, Lea and Flood 2014): a tiny, fast generator whose
/// output for a seed never changes, unlike the streams of a `rand` version.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// The generator for `seed`.
    pub const fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    /// The next 64-bit output.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

impl Entropy for SplitMix64 {
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }
}

/// Choices read from a byte string (a fuzzer's input), zeros once it runs out.
#[derive(Clone, Debug)]
pub struct ByteEntropy<'a> {
    bytes: &'a [u8],
}

impl<'a> ByteEntropy<'a> {
    /// A source that reads `bytes` from the start.
    pub const fn new(bytes: &'a [u8]) -> ByteEntropy<'a> {
        ByteEntropy { bytes }
    }
}

impl Entropy for ByteEntropy<'_> {
    fn next_u32(&mut self) -> u32 {
        let n = self.bytes.len().min(4);
        let mut word = [0u8; 4];
        word[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        u32::from_le_bytes(word)
    }
}

/// Convenience draws on top of an [`Entropy`] source.
pub(crate) struct Dice<'e, E: Entropy + ?Sized> {
    pub(crate) e: &'e mut E,
}

impl<E: Entropy + ?Sized> Dice<'_, E> {
    /// Any 32-bit value.
    pub(crate) fn u32(&mut self) -> u32 {
        self.e.next_u32()
    }

    /// A value in `0..n` (0 if `n` is 0). Slightly biased; that is fine here.
    pub(crate) fn below(&mut self, n: u32) -> u32 {
        if n == 0 {
            0
        } else {
            ((u64::from(self.u32()) * u64::from(n)) >> 32) as u32
        }
    }

    /// A value in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: i32, hi: i32) -> i32 {
        let span = hi.wrapping_sub(lo) as u32;
        lo.wrapping_add(self.below(span.wrapping_add(1)) as i32)
    }

    /// True with probability `percent`/100.
    pub(crate) fn chance(&mut self, percent: u32) -> bool {
        self.below(100) < percent
    }

    /// One element of a non-empty slice.
    pub(crate) fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u32) as usize]
    }

    /// An index chosen with the given weights (at least one nonzero).
    pub(crate) fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u32 = weights.iter().sum();
        let mut roll = self.below(total);
        for (i, &w) in weights.iter().enumerate() {
            if roll < w {
                return i;
            }
            roll -= w;
        }
        weights.len() - 1
    }

    /// A register value that is often an edge case.
    pub(crate) fn value(&mut self) -> u32 {
        const EDGES: [u32; 12] =
            [0, 1, 2, 0xffff_ffff, 0x7fff_ffff, 0x8000_0000, 0x8000_0001, 0xffff, 0x8000, 0x7ff, 0x800, 31];
        match self.below(4) {
            0 => self.pick(&EDGES),
            1 => self.range(-64, 64) as u32,
            _ => self.u32(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_run_out_as_zeros() {
        let mut e = ByteEntropy::new(&[1, 2, 3, 4, 5]);
        assert_eq!(e.next_u32(), 0x0403_0201);
        assert_eq!(e.next_u32(), 5);
        assert_eq!(e.next_u32(), 0);
    }

    #[test]
    fn dice_stay_in_range() {
        let mut e = SplitMix64::new(7);
        let mut d = Dice { e: &mut e };
        for _ in 0..1000 {
            assert!(d.below(10) < 10);
            let r = d.range(-5, 5);
            assert!((-5..=5).contains(&r));
        }
        assert_eq!(d.below(0), 0);
        // The full range must not overflow.
        let _ = d.range(i32::MIN, i32::MAX);
    }
}
