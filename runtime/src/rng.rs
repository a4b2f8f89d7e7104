//! A small deterministic PRNG (SplitMix64) and Box–Muller normals via `libm`, so the host
//! and a device draw identical noise for a seed.
//!
//! - `next_u64`: SplitMix64 (Steele, Lea & Flood 2014), state advanced by
//!   `0x9E37_79B9_7F4A_7C15` with wrapping arithmetic.
//! - `uniform`: the top 24 bits, `(u >> 40) as f32 * 2^-24`, in `[0, 1)`.
//! - `normal`: Box–Muller on two draws `u1 = ((a >> 40) + 1) * 2^-24` in `(0, 1]` and
//!   `u2 = (b >> 40) * 2^-24`; `r = sqrtf(-2 logf(u1))`, `θ = 2π u2`; returns `r cosf θ`
//!   and keeps `r sinf θ` for the next call.

/// `2^-24`.
const TWO_POW_M24: f32 = 1.0 / 16_777_216.0;

/// Deterministic pseudo-random numbers; the same seed gives the same sequence everywhere.
#[derive(Clone, Debug)]
pub struct Rng {
    state: u64,
    spare: Option<f32>,
}

impl Rng {
    /// A generator seeded with `seed`.
    pub const fn new(seed: u64) -> Self {
        Rng {
            state: seed,
            spare: None,
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform `f32` in `[0, 1)` with 24 random bits.
    pub fn uniform(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 * TWO_POW_M24
    }

    /// A standard normal `f32` (Box–Muller; every second call returns the cached partner).
    pub fn normal(&mut self) -> f32 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        let u1 = ((self.next_u64() >> 40).wrapping_add(1)) as f32 * TWO_POW_M24;
        let u2 = (self.next_u64() >> 40) as f32 * TWO_POW_M24;
        let r = libm::sqrtf(-2.0 * libm::logf(u1));
        let theta = core::f32::consts::TAU * u2;
        self.spare = Some(r * libm::sinf(theta));
        r * libm::cosf(theta)
    }
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    clippy::arithmetic_side_effects
)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_reference_values() {
        // First outputs of SplitMix64 seeded with 0 (the reference implementation's).
        let mut r = Rng::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn same_seed_same_normals_and_moments() {
        let mut a = Rng::new(42);
        let mut b = Rng::new(42);
        let n = 20_000;
        let (mut s, mut s2) = (0f64, 0f64);
        for _ in 0..n {
            let x = a.normal();
            assert_eq!(x.to_bits(), b.normal().to_bits());
            assert!(x.is_finite());
            s += x as f64;
            s2 += (x as f64) * (x as f64);
        }
        let mean = s / n as f64;
        let var = s2 / n as f64 - mean * mean;
        assert!(mean.abs() < 0.03, "mean {mean}");
        assert!((var - 1.0).abs() < 0.05, "var {var}");
    }

    #[test]
    fn uniform_in_unit_interval() {
        let mut r = Rng::new(7);
        for _ in 0..10_000 {
            let u = r.uniform();
            assert!((0.0..1.0).contains(&u));
        }
    }
}
