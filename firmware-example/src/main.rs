//! pse-runtime on a Cortex-M4F (or another Cortex-M from the M0 up, or an RV32 core):
//! annotates 100 MNIST test digits, generates a digit per label (its mean and one seeded
//! sample), enrolls a new label on the device from the first five
//! 7s (no retraining) and annotates the 100 digits again with it, and reports every result,
//! its cost and the memory used as machine-readable lines over semihosting. `README.md`
//! describes the lines; the host test (`tests/tests/firmware.rs`) recomputes every one of them
//! with the host runtime, bit for bit.
//!
//! Exit status (semihosting): 0 when everything ran, 1 on any failure — a runtime error, a
//! panic, a HardFault, a trap or any other unexpected exception.
//!
//! All of it is the same on every target, except what `arch` holds: the entry point, fault
//! handling, semihosting, the cost counter, and the stack and memory figures.
#![no_std]
#![no_main]

#[cfg_attr(target_arch = "arm", path = "arch/cortex_m.rs")]
#[cfg_attr(target_arch = "riscv32", path = "arch/riscv.rs")]
mod arch;
#[cfg(not(feature = "annotate-only"))]
mod enrollment;
#[cfg(not(feature = "annotate-only"))]
mod generation;
mod line;
mod stack;

use arch::{cost_start, cost_stop, exit};
use pse_runtime::openworld::UnknownReason;
use pse_runtime::{AnnotateOut, Error, Model, Scratch, Verdict};

use line::Line;

// SCRATCH_F32, SCRATCH_I8, PIXELS, GEN_PIXELS, WIDTH, LATENT, BLOB_NAME: build.rs, from the
// linked blob.
include!(concat!(env!("OUT_DIR"), "/model_consts.rs"));

/// `include_bytes!` data is only byte-aligned; the runtime does not need more (it reads every
/// number with `from_le_bytes`), but a 16-byte aligned blob keeps word loads aligned where
/// the payload happens to be.
#[repr(C, align(16))]
struct Aligned<B: ?Sized>(B);

/// The model blob (chosen at build time, see build.rs), in flash.
static BLOB: &Aligned<[u8]> = &Aligned(*include_bytes!(env!("PSE_BLOB_FILE")));

/// The first 100 images and labels of MNIST t10k, in IDX format (see README.md).
static IMAGES: &[u8] = include_bytes!("../data/t10k-first100-images.idx3");
static LABELS: &[u8] = include_bytes!("../data/t10k-first100-labels.idx1");
const IMAGES_HEADER: usize = 16;
const LABELS_HEADER: usize = 8;

/// The firmware, called by the target's entry point (`arch`): runs everything, prints the
/// result lines, and exits.
#[inline(always)]
fn start() -> ! {
    let Ok(stdout) = arch::hstdout() else {
        exit(false)
    };
    let mut line = Line::new(stdout);
    match run(&mut line) {
        Ok(()) => {
            line.push_str("DONE");
            line.flush();
            exit(line.ok())
        }
        Err(what) => {
            line.end_partial();
            line.push_str("ERR ");
            line.push_str(what.0);
            if let Some(e) = what.1 {
                line.push_str(": ");
                line.push_display(&e);
            }
            line.flush();
            exit(false)
        }
    }
}

/// What failed, and the runtime's error when there is one.
struct Failure(&'static str, Option<Error>);

fn ctx(what: &'static str) -> impl FnOnce(Error) -> Failure {
    move |e| Failure(what, Some(e))
}

fn run(line: &mut Line) -> Result<(), Failure> {
    arch::start_counter().map_err(|what| Failure(what, None))?;

    line.push_str("PSE-FIRMWARE 1");
    line.flush();

    // Feature `fault-test`: an undefined instruction (a HardFault on Cortex-M, a trap on
    // RISC-V).
    #[cfg(feature = "fault-test")]
    if core::hint::black_box(true) {
        arch::undefined_instruction();
    }

    // Each phase runs in its own frame, so the stack it needs is measured on its own.
    // `load` writes the model straight into this frame (no second copy of it).
    let loaded = load(line);
    let model = loaded.as_ref().map_err(|f| Failure(f.0, f.1))?;
    report_stack(line, "LOAD");
    infer(line, model)?;

    let mem = arch::memory();
    // MEM <flash bytes> <static RAM bytes> <largest peak stack bytes>
    line.push_str("MEM");
    line.push_dec(mem.flash as u64);
    line.push_dec(mem.static_ram as u64);
    line.push_dec(stack_max(0) as u64);
    line.flush();
    Ok(())
}

/// Largest stack peak reported so far (`now` = a new reading).
fn stack_max(now: usize) -> usize {
    use core::sync::atomic::{AtomicUsize, Ordering};
    // Only the main thread reads and writes it, so a load and a store do what `fetch_max`
    // would, on cores without atomic read-modify-write too (Cortex-M0, RV32IMC).
    static MAX: AtomicUsize = AtomicUsize::new(0);
    let max = MAX.load(Ordering::Relaxed).max(now);
    MAX.store(max, Ordering::Relaxed);
    max
}

/// `STACK <phase> <peak bytes>`, then repaint for the next phase.
fn report_stack(line: &mut Line, phase: &str) {
    let peak = stack::peak();
    stack_max(peak);
    line.push_str("STACK ");
    line.push_str(phase);
    line.push_dec(peak as u64);
    line.flush();
    stack::repaint();
}

/// All working memory of the inference phases: on `infer`'s stack frame (so it is counted by
/// the peak-stack measurement), sized by build.rs for the linked blob.
struct Buffers {
    act: [f32; SCRATCH_F32],
    quant: [i8; SCRATCH_I8],
    #[cfg(not(feature = "annotate-only"))]
    pixels: [f32; GEN_PIXELS],
}

impl Buffers {
    const fn new() -> Self {
        Buffers {
            act: [0.0; SCRATCH_F32],
            quant: [0; SCRATCH_I8],
            #[cfg(not(feature = "annotate-only"))]
            pixels: [0.0; GEN_PIXELS],
        }
    }
}

/// The inference phases, in a frame that holds their buffers.
#[inline(never)]
fn infer(line: &mut Line, model: &Model<'_>) -> Result<(), Failure> {
    let mut bufs = Buffers::new();
    // A blob for generation only (no image encoder) annotates and enrolls nothing.
    if model.has_encoder() {
        annotate_all(line, model, &mut bufs)?;
        report_stack(line, "ANNOTATE");
    }
    #[cfg(not(feature = "annotate-only"))]
    {
        generation::generate_all(line, model, &mut bufs)?;
        report_stack(line, "GENERATE");
        if model.has_encoder() {
            enrollment::enroll(line, model, &mut bufs)?;
            report_stack(line, "ENROLL");
        }
    }
    Ok(())
}

/// Validates the blob and prints `MODEL` and `COST LOAD`.
#[inline(never)]
fn load(line: &mut Line) -> Result<Model<'static>, Failure> {
    let blob: &'static [u8] = &BLOB.0;
    let t0 = cost_start();
    let model = Model::from_bytes(blob).map_err(ctx("Model::from_bytes"))?;
    let load_ticks = cost_stop(t0);
    let need = model.scratch_len();
    if need.f32s > SCRATCH_F32
        || need.i8s > SCRATCH_I8
        || model.pixels() != PIXELS
        || model.latent_dim() != LATENT
    {
        return Err(Failure(
            "model does not match the sizes build.rs computed",
            None,
        ));
    }
    // MODEL <name> <bytes> <crc32> <d> <labels> <pixels> <scratch f32s> <scratch i8s>
    line.push_str("MODEL ");
    line.push_str(BLOB_NAME);
    line.push_dec(blob.len() as u64);
    line.push_hex32(pse_runtime::blob::crc32(blob));
    line.push_dec(model.latent_dim() as u64);
    line.push_dec(model.label_count() as u64);
    line.push_dec(model.pixels() as u64);
    line.push_dec(need.f32s as u64);
    line.push_dec(need.i8s as u64);
    line.flush();
    line.push_str("COST LOAD");
    line.push_dec(u64::from(load_ticks));
    line.flush();
    Ok(model)
}

/// Annotates every image: `ANN` and `COST ANN` per image, then `ACC` and `COST ANNOTATE`.
#[inline(never)]
fn annotate_all(line: &mut Line, model: &Model<'_>, bufs: &mut Buffers) -> Result<(), Failure> {
    let mut scratch = Scratch::new(&mut bufs.act, &mut bufs.quant);
    let mut ann = AnnotateOut::new();
    let n_images = image_count()?;
    let mut correct = 0u64;
    let mut total_ticks = 0u64;
    for i in 0..n_images {
        let image = image(i)?;
        let truth = truth(i);
        let t0 = cost_start();
        let verdict = model
            .annotate(image, &[], &mut scratch, &mut ann)
            .map_err(ctx("annotate"))?;
        let t = cost_stop(t0);
        total_ticks += u64::from(t);
        if ann.best().and_then(|l| class_of(model, l)) == Some(usize::from(truth)) {
            correct += 1;
        }
        // ANN <i> <truth> <verdict> mu <d hex> ll <n hex> post <n hex>
        push_annotation_head(line, "ANN", i, truth, verdict);
        push_f32s(line, " mu", ann.mu());
        push_f32s(line, " ll", ann.log_likelihoods());
        push_f32s(line, " post", ann.posteriors());
        line.flush();
        line.push_str("COST ANN");
        line.push_dec(i as u64);
        line.push_dec(u64::from(t));
        line.flush();
    }
    // ACC <correct> <images>
    line.push_str("ACC");
    line.push_dec(correct);
    line.push_dec(n_images as u64);
    line.flush();
    // NOISE <verdict> <reason> scores <R G hex>: a picture that is no digit at all.
    let noise: [u8; PIXELS] =
        core::array::from_fn(|i| ((i as u32).wrapping_mul(2_654_435_761) >> 24) as u8);
    let verdict = model
        .annotate(&noise[..], &[], &mut scratch, &mut ann)
        .map_err(ctx("annotate noise"))?;
    line.push_str("NOISE ");
    push_verdict(line, verdict);
    line.push_str(match ann.unknown_reason() {
        None => " none",
        Some(UnknownReason::LatentLikelihood) => " latent",
        Some(UnknownReason::Reconstruction) => " reconstruction",
        Some(UnknownReason::LikelihoodRatio) => " ratio",
    });
    if let Some(s) = ann.image_scores() {
        push_f32s(line, " scores", &[s.reconstruction, s.generic]);
    }
    line.flush();
    // COST ANNOTATE <count> <total ticks>
    line.push_str("COST ANNOTATE");
    line.push_dec(n_images as u64);
    line.push_dec(total_ticks);
    line.flush();
    Ok(())
}

/// Number of test images, after checking that the image and label files agree.
fn image_count() -> Result<usize, Failure> {
    let n_images = idx_count(IMAGES).ok_or(Failure("bad image file", None))?;
    let n_labels = idx_count(LABELS).ok_or(Failure("bad label file", None))?;
    if n_images != n_labels || IMAGES.len() != IMAGES_HEADER + n_images * PIXELS {
        return Err(Failure("image and label files disagree", None));
    }
    Ok(n_images)
}

/// Test image `i` (`PIXELS` bytes).
fn image(i: usize) -> Result<&'static [u8], Failure> {
    let start = IMAGES_HEADER + i * PIXELS;
    IMAGES
        .get(start..start + PIXELS)
        .ok_or(Failure("image out of range", None))
}

/// True label of test image `i` (0xff when missing).
/// The MNIST class a model label stands for, by its name (a blob exported without some
/// labels numbers the rest from 0, so a label index is not a class).
fn class_of(model: &Model<'_>, label: usize) -> Option<usize> {
    const CLASSES: [&str; 10] = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
    ];
    let name = model.label_name(label)?;
    CLASSES.iter().position(|c| *c == name)
}

fn truth(i: usize) -> u8 {
    LABELS.get(LABELS_HEADER + i).copied().unwrap_or(0xff)
}

/// Item count of an IDX file (big-endian u32 at offset 4).
fn idx_count(file: &[u8]) -> Option<usize> {
    let b: [u8; 4] = file.get(4..8)?.try_into().ok()?;
    Some(u32::from_be_bytes(b) as usize)
}

/// `<tag> <i> <truth> <verdict>`, the start of an `ANN` or `ANNX` line.
fn push_annotation_head(line: &mut Line, tag: &str, i: usize, truth: u8, verdict: Verdict) {
    line.push_str(tag);
    line.push_dec(i as u64);
    line.push_dec(u64::from(truth));
    line.push_str(" ");
    push_verdict(line, verdict);
}

/// `<name>` then the bits of every value, in hex.
fn push_f32s(line: &mut Line, name: &str, values: &[f32]) {
    line.push_str(name);
    values.iter().for_each(|v| line.push_hex32(v.to_bits()));
}

fn push_verdict(line: &mut Line, v: Verdict) {
    match v {
        Verdict::Label(k) => {
            line.push_str("L");
            line.push_dec_raw(k as u64);
        }
        Verdict::Unknown { nearest: Some(k) } => {
            line.push_str("U");
            line.push_dec_raw(k as u64);
        }
        Verdict::Unknown { nearest: None } => line.push_str("U-"),
    }
}

/// Memory figures of the `MEM` line (`arch::memory`).
struct Mem {
    /// Bytes of the flash image.
    flash: usize,
    /// Bytes of `.data` and `.bss`.
    static_ram: usize,
}
