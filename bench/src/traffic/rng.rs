//! Counter-based randomness: every draw derives from (seed, flow, item), so
//! any flow, message or payload byte can be regenerated on its own, on any
//! thread, in any order — the trace is the same whatever the thread count.

/// SplitMix64's finaliser: a strong 64-bit mix.
#[inline]
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A small generator (SplitMix64) seeded from a few words.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for item `b` of thing `a` under `seed`.
    pub fn new(seed: u64, a: u64, b: u64) -> Rng {
        Rng(mix(
            seed ^ mix(a.wrapping_add(0x9e37_79b9_7f4a_7c15) ^ mix(b))
        ))
    }

    pub fn u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }

    pub fn u32(&mut self) -> u32 {
        (self.u64() >> 32) as u32
    }

    pub fn u16(&mut self) -> u16 {
        (self.u64() >> 48) as u16
    }

    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [0, n).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in [lo, hi].
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }

    /// Pareto (heavy-tailed) with minimum `min` and shape `alpha`, capped.
    pub fn pareto(&mut self, min: f64, alpha: f64, cap: f64) -> f64 {
        let u = 1.0 - self.f64(); // (0, 1]
        (min / u.powf(1.0 / alpha)).min(cap)
    }

    /// Log-uniform in [lo, hi].
    pub fn log_uniform(&mut self, lo: f64, hi: f64) -> f64 {
        (lo.ln() + self.f64() * (hi.ln() - lo.ln())).exp()
    }

    /// Geometric count of extra trials with the given mean.
    pub fn geometric(&mut self, mean: f64, cap: u64) -> u64 {
        let p = 1.0 / (1.0 + mean);
        let mut n = 0;
        while n < cap && !self.chance(p) {
            n += 1;
        }
        n
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// The filler's alphabet (base64's): payloads look like encoded data.
const FILLER: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Bytes from `offset` of the pseudo-random stream `seed` (payload filler
/// that any slice of can be produced without the rest). Base64 characters
/// only: random binary would now and then start a segment with some
/// protocol's magic bytes (a TLS record header, Thrift's 0x80 0x01) and
/// make dissectors' heuristics claim it and report it malformed.
pub fn fill(seed: u64, offset: u64, out: &mut [u8]) {
    fill_random(seed, offset, out);
    for b in out.iter_mut() {
        *b = FILLER[usize::from(*b & 63)];
    }
}

/// As [`fill`], all eight bits (keys, nonces, signatures).
pub fn fill_random(seed: u64, offset: u64, out: &mut [u8]) {
    let mut o = offset;
    let mut i = 0;
    while i < out.len() {
        let word = mix(seed ^ (o / 8).wrapping_mul(0xd6e8_feb8_6659_fd93)).to_le_bytes();
        let from = (o % 8) as usize;
        let n = (8 - from).min(out.len() - i);
        out[i..i + n].copy_from_slice(&word[from..from + n]);
        i += n;
        o += n as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4).map(|_| Rng::new(1, 2, 3).u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(Rng::new(1, 2, 3).u64(), Rng::new(1, 2, 4).u64());
        assert_ne!(Rng::new(1, 2, 3).u64(), Rng::new(2, 2, 3).u64());
        let mut r = Rng::new(7, 0, 0);
        for _ in 0..1000 {
            assert!(r.range(3, 5) >= 3 && r.range(3, 5) <= 5);
            let p = r.pareto(100.0, 1.2, 1e6);
            assert!((100.0..=1e6).contains(&p));
        }
    }

    #[test]
    fn fill_slices_agree_with_the_whole() {
        let mut whole = vec![0u8; 100];
        fill(9, 0, &mut whole);
        assert!(whole.iter().all(|b| FILLER.contains(b)));
        for (off, len) in [(0, 1), (3, 17), (8, 8), (61, 39)] {
            let mut part = vec![0u8; len];
            fill(9, off as u64, &mut part);
            assert_eq!(part, whole[off..off + len]);
        }
    }
}
