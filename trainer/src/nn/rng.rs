//! Deterministic random numbers: every draw is a pure function of `(seed, stream, index)`,
//! so training can resume at any step and reproduce the same bits. Written here rather than
//! taken from `rand`: the bit stream must never change with a dependency's version.

/// SplitMix64: a small, well-mixed 64-bit generator.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

/// Independent purposes draw from independent streams.
#[derive(Debug, Clone, Copy)]
#[repr(u64)]
pub enum Stream {
    /// Weight initialisation.
    Init = 1,
    /// Minibatch order (per epoch).
    Shuffle = 2,
    /// Reparameterisation noise (per step).
    Noise = 3,
    /// Evaluation sampling.
    Eval = 4,
    /// Which images an enrollment draws.
    Enroll = 5,
    /// Training-time image augmentation (per step and row).
    Augment = 6,
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Rng {
    /// A generator for `(seed, stream, index)`.
    pub fn new(seed: u64, stream: Stream, index: u64) -> Rng {
        let s = mix(mix(seed ^ 0x9e37_79b9_7f4a_7c15).wrapping_add(stream as u64))
            .wrapping_add(mix(index.wrapping_add(0x632b_e59b_d9b4_e019)));
        Rng { state: s }
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.state)
    }

    /// Uniform in `[0, 1)` with 53 bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform integer in `0..n` (n > 0), by Lemire's multiply-shift.
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Fills `out` with standard normal draws (Box–Muller, in `f64`).
    pub fn fill_normal(&mut self, out: &mut [f32]) {
        let mut chunks = out.chunks_exact_mut(2);
        for pair in &mut chunks {
            let (a, b) = self.normal_pair();
            pair[0] = a as f32;
            pair[1] = b as f32;
        }
        if let [last] = chunks.into_remainder() {
            *last = self.normal_pair().0 as f32;
        }
    }

    fn normal_pair(&mut self) -> (f64, f64) {
        let u1 = 1.0 - self.uniform(); // (0, 1]
        let u2 = self.uniform();
        let r = (-2.0 * u1.ln()).sqrt();
        let t = std::f64::consts::TAU * u2;
        (r * t.cos(), r * t.sin())
    }

    /// A uniformly random permutation of `0..n` (Fisher–Yates).
    pub fn permutation(&mut self, n: usize) -> Vec<u32> {
        let mut p: Vec<u32> = (0..n as u32).collect();
        for i in (1..n).rev() {
            let j = self.below(i as u64 + 1) as usize;
            p.swap(i, j);
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_inputs_same_draws_and_streams_differ() {
        let a: Vec<u64> = (0..4)
            .map(|_| Rng::new(7, Stream::Noise, 3).next_u64())
            .collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(
            Rng::new(7, Stream::Noise, 3).next_u64(),
            Rng::new(7, Stream::Init, 3).next_u64()
        );
        assert_ne!(
            Rng::new(7, Stream::Noise, 3).next_u64(),
            Rng::new(7, Stream::Noise, 4).next_u64()
        );
    }

    #[test]
    fn normal_moments() {
        let mut v = vec![0.0f32; 100_001];
        Rng::new(1, Stream::Eval, 0).fill_normal(&mut v);
        let n = v.len() as f64;
        let mean = v.iter().map(|&x| x as f64).sum::<f64>() / n;
        let var = v.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n;
        assert!(mean.abs() < 0.01, "{mean}");
        assert!((var - 1.0).abs() < 0.02, "{var}");
    }

    #[test]
    fn permutation_is_a_permutation() {
        let mut p = Rng::new(3, Stream::Shuffle, 0).permutation(1000);
        p.sort_unstable();
        assert!(p.iter().enumerate().all(|(i, &v)| i as u32 == v));
    }
}
