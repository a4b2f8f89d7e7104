//! Generation on the device: the mean and one seeded sample per label (`GEN`, `COST GEN`,
//! `ART`, `COST GENERATE`). Not in the `annotate-only` build.

use pse_runtime::{Model, Sample, Scratch};

use crate::line::Line;
use crate::{Buffers, Failure, WIDTH, cost_start, cost_stop, ctx};

/// Each label is generated from its mean and from the seed `SEED_BASE + label`.
const SEED_BASE: u64 = 1000;

/// Generates the mean and one seeded sample per label: `GEN`, `COST GEN` and, for the mean,
/// 28 `ART` rows; then `COST GENERATE` (`0 0` for a blob without a decoder).
#[inline(never)]
pub fn generate_all(line: &mut Line, model: &Model<'_>, bufs: &mut Buffers) -> Result<(), Failure> {
    let mut scratch = Scratch::new(&mut bufs.act, &mut bufs.quant);
    let pixels = &mut bufs.pixels;
    let mut total_ticks = 0u64;
    let mut count = 0u64;
    let labels = if model.has_decoder() {
        model.label_count()
    } else {
        0
    };
    for label in 0..labels {
        for sample in [Sample::Mean, Sample::Seed(SEED_BASE + label as u64)] {
            let t0 = cost_start();
            model
                .generate(label, sample, &mut scratch, pixels)
                .map_err(ctx("generate"))?;
            let t = cost_stop(t0);
            total_ticks += u64::from(t);
            count += 1;
            // GEN <label> <mean|seed> <fnv1a-64 of the pixels' f32 bits, little-endian>
            line.push_str("GEN");
            line.push_dec(label as u64);
            push_sample(line, sample);
            line.push_hex64(fnv1a64(pixels));
            line.flush();
            line.push_str("COST GEN");
            line.push_dec(label as u64);
            push_sample(line, sample);
            line.push_dec(u64::from(t));
            line.flush();
            if sample == Sample::Mean {
                // ART <label> |<one character per pixel>|
                for row in pixels.chunks(WIDTH) {
                    line.push_str("ART");
                    line.push_dec(label as u64);
                    line.push_str(" |");
                    row.iter().for_each(|&p| line.push_byte(shade(p)));
                    line.push_str("|");
                    line.flush();
                }
            }
        }
    }
    // COST GENERATE <count> <total ticks>
    line.push_str("COST GENERATE");
    line.push_dec(count);
    line.push_dec(total_ticks);
    line.flush();
    Ok(())
}

fn push_sample(line: &mut Line, s: Sample) {
    match s {
        Sample::Mean => line.push_str(" mean"),
        Sample::Seed(seed) => line.push_dec(seed),
    }
}

/// FNV-1a (64-bit) of the little-endian bytes of every value's bits.
fn fnv1a64(values: &[f32]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for v in values {
        for b in v.to_bits().to_le_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// A pixel in `[0, 1]` as one of ten characters, darkest first.
fn shade(p: f32) -> u8 {
    const RAMP: &[u8; 10] = b" .:-=+*#%@";
    let i = (p * 10.0) as usize; // saturating: NaN and negatives give 0
    RAMP[i.min(9)]
}
