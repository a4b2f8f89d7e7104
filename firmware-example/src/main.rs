//! pse-runtime on a Cortex-M4F: annotates 100 MNIST test digits, generates a digit per label
//! (its mean and one seeded sample), enrolls a new label on the device from the first five
//! 7s (no retraining) and annotates the 100 digits again with it, and reports every result,
//! its cost and the memory used as machine-readable lines over semihosting. `README.md`
//! describes the lines; the host test (`tests/tests/firmware.rs`) recomputes every one of them
//! with the host runtime, bit for bit.
//!
//! Exit status (semihosting): 0 when everything ran, 1 on any failure — a runtime error, a
//! panic, a HardFault or any other unexpected exception.
#![no_std]
#![no_main]

mod line;
mod stack;

use cortex_m::peripheral::SYST;
use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_rt::{ExceptionFrame, entry, exception};
use cortex_m_semihosting::debug::{self, EXIT_FAILURE, EXIT_SUCCESS};
use cortex_m_semihosting::hio;
use panic_semihosting as _;
use pse_runtime::enroll::DEFAULT_VAR_FLOOR;
use pse_runtime::openworld::UnknownReason;
use pse_runtime::{AnnotateOut, Enroller, Error, LabelTable, Model, Sample, Scratch, Verdict};

use line::Line;

// SCRATCH_F32, SCRATCH_I8, PIXELS, GEN_PIXELS, WIDTH, LATENT, BLOB_NAME: build.rs, from the
// linked blob.
include!(concat!(env!("OUT_DIR"), "/model_consts.rs"));
include!(concat!(env!("OUT_DIR"), "/target_consts.rs"));

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

/// Each label is generated from its mean and from the seed `SEED_BASE + label`.
const SEED_BASE: u64 = 1000;

/// The enrolled label: the first `ENROLL_SHOTS` images of class `ENROLL_CLASS` (in index
/// order), with the host command's defaults (`pse-trainer enroll`): variance floor
/// `DEFAULT_VAR_FLOOR`, variance shrunk toward the model's mean label variance with the
/// weight of `PRIOR_WEIGHT` images.
const ENROLL_CLASS: u8 = 7;
const ENROLL_SHOTS: usize = 5;
const PRIOR_WEIGHT: f32 = 10.0;

/// SysTick counts down from this value on the core clock (24 bits).
const SYST_RELOAD: u32 = 0x00ff_ffff;

#[entry]
fn main() -> ! {
    let Ok(stdout) = hio::hstdout() else {
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
    let mut syst = cortex_m::Peripherals::take()
        .ok_or(Failure("peripherals taken", None))?
        .SYST;
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(SYST_RELOAD);
    syst.clear_current();
    syst.enable_counter();

    line.push_str("PSE-FIRMWARE 1");
    line.flush();

    // Feature `fault-test`: an undefined instruction, escalated to a HardFault.
    #[cfg(feature = "fault-test")]
    if core::hint::black_box(true) {
        cortex_m::asm::udf();
    }

    // Each phase runs in its own frame, so the stack it needs is measured on its own.
    // `load` writes the model straight into this frame (no second copy of it).
    let loaded = load(line);
    let model = loaded.as_ref().map_err(|f| Failure(f.0, f.1))?;
    report_stack(line, "LOAD");
    infer(line, model)?;

    let mem = memory();
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
    static MAX: AtomicUsize = AtomicUsize::new(0);
    MAX.fetch_max(now, Ordering::Relaxed).max(now)
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
    pixels: [f32; GEN_PIXELS],
}

impl Buffers {
    const fn new() -> Self {
        Buffers {
            act: [0.0; SCRATCH_F32],
            quant: [0; SCRATCH_I8],
            pixels: [0.0; GEN_PIXELS],
        }
    }
}

/// The inference phases, in a frame that holds their buffers.
#[inline(never)]
fn infer(line: &mut Line, model: &Model<'_>) -> Result<(), Failure> {
    let mut bufs = Buffers::new();
    annotate_all(line, model, &mut bufs)?;
    report_stack(line, "ANNOTATE");
    generate_all(line, model, &mut bufs)?;
    report_stack(line, "GENERATE");
    enroll(line, model, &mut bufs)?;
    report_stack(line, "ENROLL");
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

/// Generates the mean and one seeded sample per label: `GEN`, `COST GEN` and, for the mean,
/// 28 `ART` rows; then `COST GENERATE` (`0 0` for a blob without a decoder).
#[inline(never)]
fn generate_all(line: &mut Line, model: &Model<'_>, bufs: &mut Buffers) -> Result<(), Failure> {
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

/// Enrolls a label from a few images, then annotates every image with it (`ENROLL`,
/// `COST ENROLL`, `ANNX`, `ACCX`). The table holding it is the only extra memory that stays.
#[inline(never)]
fn enroll(line: &mut Line, model: &Model<'_>, bufs: &mut Buffers) -> Result<(), Failure> {
    let mut table = LabelTable::<1>::new();
    enroll_label(line, model, bufs, &mut table)?;
    annotate_extra(line, model, bufs, &table)
}

/// Enrolls the first `ENROLL_SHOTS` images of class `ENROLL_CLASS` into a label Gaussian and
/// adds it to `table`: `ENROLL` and `COST ENROLL`.
///
/// The enroller stays in this frame; encoding ([`enroll_images`]) and finishing
/// ([`finish_label`]) run in frames of their own, so the encoder's deep stack and the ~1.9 KB
/// of temporaries of `finish_with_prior` are never on the stack at the same time.
#[inline(never)]
fn enroll_label(
    line: &mut Line,
    model: &Model<'_>,
    bufs: &mut Buffers,
    table: &mut LabelTable<1>,
) -> Result<(), Failure> {
    let mut used = [0usize; ENROLL_SHOTS];
    let mut count = 0;
    for i in 0..image_count()? {
        if truth(i) != ENROLL_CLASS {
            continue;
        }
        let Some(slot) = used.get_mut(count) else {
            break;
        };
        *slot = i;
        count += 1;
    }
    let used = used.get(..count).unwrap_or_default();
    let mut enroller = model.enroller();
    // Measured: encoding and accumulating the images, the prior, the label Gaussian.
    let t0 = cost_start();
    enroll_images(model, bufs, &mut enroller, used)?;
    finish_label(model, &enroller, table)?;
    let t = cost_stop(t0);
    let label = table
        .get(0)
        .ok_or(Failure("enrolled label missing", None))?;
    // ENROLL <count> <indices used> mu <d hex> logvar <d hex>
    line.push_str("ENROLL");
    line.push_dec(enroller.count() as u64);
    used.iter().for_each(|&i| line.push_dec(i as u64));
    push_f32s(line, " mu", label.mu());
    push_f32s(line, " logvar", label.logvar());
    line.flush();
    // COST ENROLL <count> <ticks>
    line.push_str("COST ENROLL");
    line.push_dec(enroller.count() as u64);
    line.push_dec(u64::from(t));
    line.flush();
    Ok(())
}

/// Encodes test images `used` and adds them to `enroller`.
#[inline(never)]
fn enroll_images(
    model: &Model<'_>,
    bufs: &mut Buffers,
    enroller: &mut Enroller,
    used: &[usize],
) -> Result<(), Failure> {
    let mut scratch = Scratch::new(&mut bufs.act, &mut bufs.quant);
    for &i in used {
        model
            .enroll_image(enroller, image(i)?, &mut scratch)
            .map_err(ctx("enroll_image"))?;
    }
    Ok(())
}

/// The label Gaussian of `enroller`, its variance shrunk toward the model's mean label
/// variance, appended to `table`.
#[inline(never)]
fn finish_label(
    model: &Model<'_>,
    enroller: &Enroller,
    table: &mut LabelTable<1>,
) -> Result<(), Failure> {
    let mut prior = [0.0f32; LATENT];
    model
        .mean_label_variance(&mut prior)
        .map_err(ctx("mean_label_variance"))?;
    match enroller.finish_with_prior(DEFAULT_VAR_FLOOR, &prior, PRIOR_WEIGHT) {
        Ok(label) => table.push(label).map_err(ctx("LabelTable::push"))?,
        Err(e) => return Err(Failure("finish_with_prior", Some(e))),
    };
    Ok(())
}

/// Annotates every image against the model's labels and the enrolled one (label
/// `model.label_count()`): `ANNX` per image, then `ACCX`.
#[inline(never)]
fn annotate_extra(
    line: &mut Line,
    model: &Model<'_>,
    bufs: &mut Buffers,
    table: &LabelTable<1>,
) -> Result<(), Failure> {
    let mut scratch = Scratch::new(&mut bufs.act, &mut bufs.quant);
    let mut ann = AnnotateOut::new();
    let enrolled = model.label_count();
    let (mut correct, mut wins, mut class_images) = (0u64, 0u64, 0u64);
    for i in 0..image_count()? {
        let truth = truth(i);
        let verdict = model
            .annotate(image(i)?, table.as_slice(), &mut scratch, &mut ann)
            .map_err(ctx("annotate with the enrolled label"))?;
        // The enrolled label stands for class ENROLL_CLASS.
        let best = ann.best();
        let best_class = if best == Some(enrolled) {
            Some(usize::from(ENROLL_CLASS))
        } else {
            best.and_then(|l| class_of(model, l))
        };
        if best_class == Some(usize::from(truth)) {
            correct += 1;
        }
        if truth == ENROLL_CLASS {
            class_images += 1;
            if best == Some(enrolled) {
                wins += 1;
            }
        }
        // ANNX <i> <truth> <verdict> ll <n+1 hex>
        push_annotation_head(line, "ANNX", i, truth, verdict);
        push_f32s(line, " ll", ann.log_likelihoods());
        line.flush();
    }
    // ACCX <correct> <enrolled label best among class ENROLL_CLASS> <images of that class>
    line.push_str("ACCX");
    line.push_dec(correct);
    line.push_dec(wins);
    line.push_dec(class_images);
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

/// Starts a cost measurement: reads SysTick, then executes `sev`, the marker the
/// instruction-counting QEMU plugin (`tools/icount.c`) pairs up. Returns the reading.
#[inline(always)]
fn cost_start() -> u32 {
    let t0 = SYST::get_current();
    cortex_m::asm::sev();
    t0
}

/// Ends a cost measurement started at `t0`: `sev`, then SysTick ticks since `t0` (spans
/// under 2^24 ticks).
#[inline(always)]
fn cost_stop(t0: u32) -> u32 {
    cortex_m::asm::sev();
    t0.wrapping_sub(SYST::get_current()) & SYST_RELOAD
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

fn push_sample(line: &mut Line, s: Sample) {
    match s {
        Sample::Mean => line.push_str(" mean"),
        Sample::Seed(seed) => line.push_dec(seed),
    }
}

/// FNV-1a (64-bit) of the little-endian bytes of every value's bits.
pub fn fnv1a64(values: &[f32]) -> u64 {
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

struct Mem {
    flash: usize,
    static_ram: usize,
}

/// Flash image size and statically allocated RAM, from cortex-m-rt's linker symbols: the
/// vector table, then everything from `__stext` to the end of `.data`'s load image (on most
/// boards the two are adjacent; on `mps3-an547` the code starts in another memory).
fn memory() -> Mem {
    unsafe extern "C" {
        static __vector_table: u32;
        static __eexceptions: u32;
        static __stext: u32;
        static __sidata: u32;
        static __sdata: u32;
        static __edata: u32;
        static _stack_end: u32;
    }
    let vt = &raw const __vector_table as usize;
    let eexceptions = &raw const __eexceptions as usize;
    let stext = &raw const __stext as usize;
    let vector_table = eexceptions - vt + VECTOR_INTERRUPTS * 4;
    let sidata = &raw const __sidata as usize;
    let sdata = &raw const __sdata as usize;
    let edata = &raw const __edata as usize;
    let stack_end = &raw const _stack_end as usize;
    Mem {
        flash: vector_table + sidata + (edata - sdata) - stext,
        static_ram: stack_end - sdata,
    }
}

/// Semihosting exit. Never returns: if no debugger/QEMU listens, it waits for one.
fn exit(ok: bool) -> ! {
    debug::exit(if ok { EXIT_SUCCESS } else { EXIT_FAILURE });
    loop {
        cortex_m::asm::wfi();
    }
}

/// A HardFault exits with a failure status instead of spinning forever.
#[exception]
unsafe fn HardFault(ef: &ExceptionFrame) -> ! {
    if let Ok(err) = hio::hstderr() {
        let mut line = Line::new(err);
        line.push_str("HARDFAULT pc");
        line.push_hex32(ef.pc());
        line.push_str(" lr");
        line.push_hex32(ef.lr());
        line.flush();
    }
    exit(false)
}

/// Any other exception (none is expected) also ends the run with a failure.
#[exception]
unsafe fn DefaultHandler(irqn: i16) {
    if let Ok(err) = hio::hstderr() {
        let mut line = Line::new(err);
        line.push_str("EXCEPTION");
        line.push_dec(irqn.unsigned_abs().into());
        line.flush();
    }
    exit(false)
}
