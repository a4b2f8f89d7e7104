//! Host ↔ device: the firmware example (`firmware-example/`, a Cortex-M4F build of the
//! runtime; also built for the Cortex-M3, M7, M33 and M55 and for an RV32 core) runs under
//! QEMU on the committed MNIST blobs, and every result it
//! prints — annotations (verdict, `mu`, log-likelihoods, posteriors, as f32 bits), generated
//! images (FNV-1a of the pixel bits, and the text art), the label it enrolls on the device
//! from five 7s (`mu`, `logvar`) and the annotations with that label added — must equal what
//! the host runtime computes from the same blob and images, bit for bit.
//!
//! Needs `qemu-system-arm` and `qemu-system-riscv32` (`scripts/install-qemu.sh`) and the Rust
//! targets of the cores below (`rustup target add thumbv7em-none-eabihf thumbv7m-none-eabi
//! thumbv8m.main-none-eabihf riscv32imafc-unknown-none-elf`); a missing tool is a failure,
//! never a skip. On the Cortex-M cores, with a C compiler on the PATH, the run also loads the
//! instruction-counting plugin (`firmware-example/tools/icount.c`) for exact counts; the RV32
//! core counts its instructions itself (`minstret`).
//!
//! Measurements (flash, RAM, instructions per multiply-add) are printed (`--nocapture`) and
//! written to `firmware-example/target/pse-test/<core>-<blob>-measurements.txt`.
//!
//! Other blobs: `PSE_FIRMWARE_I8_BLOB` / `PSE_FIRMWARE_F32_BLOB` replace the committed ones.

use pse_runtime::enroll::DEFAULT_VAR_FLOOR;
use pse_runtime::openworld::UnknownReason;
use pse_runtime::{AnnotateOut, LabelTable, Model, Sample, Scratch, Verdict};
use pse_trainer::data::Dataset;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use std::{env, fs};

/// Must match `firmware-example/src/main.rs`.
const SEED_BASE: u64 = 1000;
/// The enrolled label (must match `firmware-example/src/main.rs`): the first `ENROLL_SHOTS`
/// images of class `ENROLL_CLASS`, variance floor `DEFAULT_VAR_FLOOR` and prior weight
/// `PRIOR_WEIGHT`, the defaults of the host command `pse-trainer enroll`.
const ENROLL_CLASS: u8 = 7;
const ENROLL_SHOTS: usize = 5;
const PRIOR_WEIGHT: f32 = pse_trainer::export::enroll::DEFAULT_PRIOR_WEIGHT;
const IMAGES: &str = "firmware-example/data/t10k-first100-images.idx3";
const LABELS: &str = "firmware-example/data/t10k-first100-labels.idx1";
/// The options the QEMU commands of `firmware-example/.cargo/config.toml` (its runners) share;
/// the emulator, its CPU and machine are the core's ([`Core`]).
const QEMU_ARGS: &[&str] = &[
    "-nographic",
    "-semihosting-config",
    "enable=on,target=native",
    "-icount",
    "shift=0",
];
/// Wall-clock limit for one firmware run (it takes about a second).
const RUN_TIMEOUT: Duration = Duration::from_secs(300);
/// `-icount shift=0` makes one instruction 1 ns of virtual time.
const INSTRUCTIONS_PER_SECOND: u64 = 1_000_000_000;

/// A core class the firmware runs on under QEMU: its Rust target, the emulator and its CPU
/// and machine, and what the firmware's cost counter counts there.
struct Core {
    /// Short name (file names, messages).
    name: &'static str,
    /// The Rust target the firmware is built for.
    target: &'static str,
    /// The QEMU system emulator.
    qemu: &'static str,
    /// QEMU's `-cpu`.
    cpu: &'static str,
    /// QEMU's `-machine`.
    machine: &'static str,
    /// Further options the machine needs.
    machine_args: &'static [&'static str],
    /// The firmware's memory map (`firmware-example/boards/<board>/memory.x`).
    board: &'static str,
    /// What the `COST` lines count.
    counter: Counter,
    /// RUSTFLAGS of its build (e.g. the CPU that enables Helium), empty for none.
    rustflags: &'static str,
}

/// The firmware's cost counter on a core (the numbers of its `COST` lines).
#[derive(Clone, Copy)]
enum Counter {
    /// SysTick on the machine's system clock (Hz; QEMU's MPS2/MPS3 clock): instructions are
    /// ticks × 10⁹ / Hz under `-icount shift=0` (± one tick), exact from the icount plugin.
    SysTick(u64),
    /// Retired instructions (`minstret` on RISC-V): exact under `-icount shift=0`, no plugin.
    Instructions,
}

impl Counter {
    /// Ticks per second of QEMU's virtual time (10⁹ instructions under `-icount shift=0`).
    fn hz(self) -> u64 {
        match self {
            Counter::SysTick(hz) => hz,
            Counter::Instructions => INSTRUCTIONS_PER_SECOND,
        }
    }

    /// Its name in the measurements.
    fn name(self) -> &'static str {
        match self {
            Counter::SysTick(_) => "SysTick",
            Counter::Instructions => "minstret",
        }
    }

    /// Where instruction counts come from when they are derived from its ticks.
    fn how(self) -> &'static str {
        match self {
            Counter::SysTick(_) => "SysTick ticks",
            Counter::Instructions => "exact, minstret",
        }
    }
}

/// Cortex-M4F on MPS2 AN386: the firmware's default (`.cargo/config.toml`).
const CORTEX_M4F: Core = Core {
    name: "cortex-m4f",
    target: "thumbv7em-none-eabihf",
    qemu: "qemu-system-arm",
    cpu: "cortex-m4",
    machine: "mps2-an386",
    machine_args: &[],
    board: "mps2-an386",
    counter: Counter::SysTick(25_000_000),
    rustflags: "",
};
/// Cortex-M3 on MPS2 AN385: no FPU (soft float), no DSP instructions.
const CORTEX_M3: Core = Core {
    name: "cortex-m3",
    target: "thumbv7m-none-eabi",
    qemu: "qemu-system-arm",
    cpu: "cortex-m3",
    machine: "mps2-an385",
    machine_args: &[],
    board: "mps2-an386",
    counter: Counter::SysTick(25_000_000),
    rustflags: "",
};
/// Cortex-M7 on MPS2 AN500: the M4F's instruction set (the same ELF), another pipeline.
const CORTEX_M7: Core = Core {
    name: "cortex-m7",
    target: "thumbv7em-none-eabihf",
    qemu: "qemu-system-arm",
    cpu: "cortex-m7",
    machine: "mps2-an500",
    machine_args: &[],
    board: "mps2-an386",
    counter: Counter::SysTick(25_000_000),
    rustflags: "",
};
/// Cortex-M33 (Armv8-M Mainline, TrustZone) on MPS2 AN505: starts Secure at 0x10000000, so
/// it has its own memory map; the portable int8 kernel (the DSP kernel is enabled on
/// `thumbv7em` only).
const CORTEX_M33: Core = Core {
    name: "cortex-m33",
    target: "thumbv8m.main-none-eabihf",
    qemu: "qemu-system-arm",
    cpu: "cortex-m33",
    machine: "mps2-an505",
    machine_args: &[],
    board: "mps2-an505",
    counter: Counter::SysTick(20_000_000),
    rustflags: "",
};

/// Cortex-M55 (Armv8.1-M Mainline with Helium, TrustZone) on MPS3 AN547: the M33's ELF
/// (`thumbv8m.main`, portable int8 kernel) with its own memory map (vector table in the ITCM,
/// the rest in the FPGA SRAM).
const CORTEX_M55: Core = Core {
    name: "cortex-m55",
    target: "thumbv8m.main-none-eabihf",
    qemu: "qemu-system-arm",
    cpu: "cortex-m55",
    machine: "mps3-an547",
    machine_args: &[],
    board: "mps3-an547",
    counter: Counter::SysTick(32_000_000),
    rustflags: "",
};

/// Cortex-M0 on QEMU's micro:bit (nRF51822: 256 KiB flash, 16 KiB RAM): ARMv6-M, no FPU,
/// no atomic read-modify-write; only a small model fits (`SMALL_BLOB`).
const CORTEX_M0: Core = Core {
    name: "cortex-m0",
    target: "thumbv6m-none-eabi",
    qemu: "qemu-system-arm",
    cpu: "cortex-m0",
    machine: "microbit",
    machine_args: &[],
    board: "microbit",
    counter: Counter::SysTick(16_000_000),
    rustflags: "",
};

/// Cortex-M55 built for its CPU (`-C target-cpu=cortex-m55`): Helium, the runtime's MVE int8
/// kernel (`runtime/src/simd/`, module `mve`) and the compiler's own MVE code.
const CORTEX_M55_HELIUM: Core = Core {
    name: "cortex-m55-helium",
    rustflags: "-C target-cpu=cortex-m55",
    ..CORTEX_M55
};

/// RV32IMAFC on QEMU's virt board (booted without firmware, `-bios none`): an RV32 core
/// with atomics and a single-precision FPU, like the M4F's; costs in retired instructions.
const RISCV32: Core = Core {
    name: "riscv32",
    target: "riscv32imafc-unknown-none-elf",
    qemu: "qemu-system-riscv32",
    cpu: "rv32",
    machine: "virt",
    machine_args: &["-bios", "none"],
    board: "qemu-riscv-virt",
    counter: Counter::Instructions,
    rustflags: "",
};

/// RV32IMC (no FPU, no atomics: the ESP32-C3's instruction set) on the same board: soft
/// floats, so an annotation costs ten million instructions.
const RISCV32IMC: Core = Core {
    name: "riscv32imc",
    target: "riscv32imc-unknown-none-elf",
    ..RISCV32
};

/// Builds share one target directory: one at a time, each ELF copied out before the next.
static BUILD: Mutex<()> = Mutex::new(());

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

fn firmware_dir() -> PathBuf {
    root().join("firmware-example")
}

fn work_dir() -> PathBuf {
    let d = firmware_dir().join("target/pse-test");
    fs::create_dir_all(&d).expect("create firmware-example/target/pse-test");
    d
}

/// `models/mnist-pse-star-10d-<name>.pse`, or the file `PSE_FIRMWARE_<NAME>_BLOB` names
/// (`-` as `_`, e.g. `PSE_FIRMWARE_I8_BLOB`).
fn blob_path(name: &str) -> PathBuf {
    let var = format!(
        "PSE_FIRMWARE_{}_BLOB",
        name.to_uppercase().replace('-', "_")
    );
    match env::var_os(&var) {
        Some(p) => PathBuf::from(p),
        None => root().join(format!("models/mnist-pse-star-10d-{name}.pse")),
    }
}

fn require_qemu(core: &Core) {
    match Command::new(core.qemu).arg("--version").output() {
        Ok(o) if o.status.success() => {}
        _ => panic!(
            "{} not found: the firmware test runs the firmware under QEMU. \
             Install it with scripts/install-qemu.sh (then re-run).",
            core.qemu
        ),
    }
}

/// `cargo build --release` inside `firmware-example/` (its own workspace and
/// `.cargo/config.toml`), with the given features and blob; returns a copy of the ELF.
fn build_firmware(name: &str, core: &Core, features: &[&str], blob: &Path) -> PathBuf {
    build_firmware_as(name, core, features, "release", blob)
}

/// [`build_firmware`] with a cargo profile of `firmware-example/Cargo.toml`. A core with
/// RUSTFLAGS builds in a target folder of its own (`target/<core>`).
fn build_firmware_as(
    name: &str,
    core: &Core,
    features: &[&str],
    profile: &str,
    blob: &Path,
) -> PathBuf {
    let target = core.target;
    let target_dir = if core.rustflags.is_empty() {
        "target".to_string()
    } else {
        format!("target/{}", core.name)
    };
    let _guard = BUILD.lock().unwrap_or_else(|e| e.into_inner());
    let dir = firmware_dir();
    let mut cmd = Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(&dir)
        .args([
            "build",
            "--profile",
            profile,
            "--target-dir",
            &target_dir,
            "--target",
            target,
        ])
        .env("PSE_BLOB", blob)
        .env("PSE_BOARD", core.board)
        // Settings meant for the host build must not leak into the firmware build.
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS");
    if !core.rustflags.is_empty() {
        cmd.env("RUSTFLAGS", core.rustflags);
    }
    if !features.is_empty() {
        cmd.args(["--features", &features.join(",")]);
    }
    let out = cmd.output().expect("run cargo build for firmware-example");
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let hint = if stderr.contains(target) && stderr.contains("target") {
            format!("\n(hint: rustup target add {target})")
        } else {
            String::new()
        };
        panic!("firmware build ({name}) failed:\n{stderr}{hint}");
    }
    let elf = dir
        .join(&target_dir)
        .join(target)
        .join(profile)
        .join("pse-firmware-example");
    let copy = work_dir().join(format!("{name}.elf"));
    fs::copy(&elf, &copy).expect("copy the firmware ELF");
    copy
}

/// Builds the instruction-counting plugin with the system C compiler, if there is one.
fn build_plugin() -> Option<PathBuf> {
    static ONCE: Mutex<Option<Option<PathBuf>>> = Mutex::new(None);
    let mut once = ONCE.lock().unwrap_or_else(|e| e.into_inner());
    once.get_or_insert_with(|| {
        let src = firmware_dir().join("tools/icount.c");
        let so = work_dir().join("icount.so");
        let cc = env::var("CC").unwrap_or_else(|_| "cc".into());
        let ok = Command::new(&cc)
            .args(["-shared", "-fPIC", "-O2", "-o"])
            .arg(&so)
            .arg(&src)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            Some(so)
        } else {
            println!("note: no C compiler ({cc}): instruction counts from SysTick only");
            None
        }
    })
    .clone()
}

/// Runs `cmd` to completion or until `RUN_TIMEOUT`, whichever comes first.
fn run_with_timeout(mut cmd: Command) -> Output {
    let stdout = tempfile("stdout");
    let stderr = tempfile("stderr");
    cmd.stdin(Stdio::null())
        .stdout(fs::File::create(&stdout).expect("stdout file"))
        .stderr(fs::File::create(&stderr).expect("stderr file"));
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {}: {e}", cmd.get_program().display()));
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait for qemu") {
            break s;
        }
        if start.elapsed() > RUN_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "firmware did not finish within {RUN_TIMEOUT:?} (a hang?); output so far:\n{}",
                fs::read_to_string(&stdout).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = Output {
        status,
        stdout: fs::read(&stdout).unwrap_or_default(),
        stderr: fs::read(&stderr).unwrap_or_default(),
    };
    let _ = fs::remove_file(stdout);
    let _ = fs::remove_file(stderr);
    out
}

fn tempfile(what: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    work_dir().join(format!("run-{}-{n}.{what}", std::process::id()))
}

fn run_qemu(elf: &Path, plugin: Option<&Path>, core: &Core) -> Output {
    let mut cmd = Command::new(core.qemu);
    cmd.args(["-cpu", core.cpu, "-machine", core.machine])
        .args(core.machine_args)
        .args(QEMU_ARGS);
    if let Some(p) = plugin {
        cmd.arg("-plugin").arg(p).args(["-d", "plugin"]);
    }
    cmd.arg("-kernel").arg(elf);
    run_with_timeout(cmd)
}

/// The firmware's output, and the plugin's exact counts when it was loaded.
struct Run {
    stdout: String,
    spans: Option<Vec<u64>>,
}

fn run_firmware(elf: &Path, core: &Core) -> Run {
    // The plugin pairs up the `sev` markers of the SysTick cores; a core that counts its own
    // instructions needs none.
    let plugin = match core.counter {
        Counter::SysTick(_) => build_plugin(),
        Counter::Instructions => None,
    };
    let mut out = run_qemu(elf, plugin.as_deref(), core);
    let mut used_plugin = plugin.is_some();
    let first = String::from_utf8_lossy(&out.stdout);
    if used_plugin && !first.contains("PSE-FIRMWARE") {
        // This QEMU would not load the plugin (e.g. 7.2 accepts plugin API ≤ 1): run without.
        println!(
            "note: QEMU refused the icount plugin ({}); SysTick counts only",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        out = run_qemu(elf, None, core);
        used_plugin = false;
    }
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "firmware exited with {:?}\n--- stderr ---\n{stderr}\n--- last lines of stdout ---\n{}",
        out.status.code(),
        tail(&stdout, 20)
    );
    let spans = used_plugin.then(|| {
        stderr
            .lines()
            .filter_map(|l| l.strip_prefix("ICOUNT SPAN "))
            .map(|n| n.trim().parse().expect("ICOUNT SPAN <n>"))
            .collect()
    });
    Run { stdout, spans }
}

fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

// ---- What the host computes: the firmware's result lines, formatted the same way. ----

fn idx(path: &str, header: usize) -> Vec<u8> {
    let bytes = fs::read(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    bytes[header..].to_vec()
}

fn hex_bits(line: &mut String, values: &[f32]) {
    for v in values {
        write!(line, " {:08x}", v.to_bits()).expect("write to String");
    }
}

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

fn shade(p: f32) -> char {
    const RAMP: &[u8; 10] = b" .:-=+*#%@";
    let i = (p * 10.0) as usize;
    char::from(RAMP[i.min(9)])
}

fn verdict_text(verdict: Verdict) -> String {
    match verdict {
        Verdict::Label(k) => format!("L{k}"),
        Verdict::Unknown { nearest: Some(k) } => format!("U{k}"),
        Verdict::Unknown { nearest: None } => "U-".into(),
    }
}

/// The MNIST class a model label stands for, by name (as the firmware maps it).
fn class_of(model: &Model<'_>, label: usize) -> Option<usize> {
    let name = model.label_name(label)?;
    Dataset::Mnist.label_names().iter().position(|c| *c == name)
}

/// The `GEN` and `ART` lines of every label (none for a blob without a decoder).
fn push_generated(lines: &mut Vec<String>, model: &Model<'_>, scratch: &mut Scratch<'_>) {
    let (pixels, (width, _)) = (model.pixels(), model.image_size());
    let mut out = vec![0f32; pixels];
    // A blob for annotation only generates nothing.
    let generated = if model.has_decoder() {
        model.label_count()
    } else {
        0
    };
    for label in 0..generated {
        for sample in [Sample::Mean, Sample::Seed(SEED_BASE + label as u64)] {
            model
                .generate(label, sample, scratch, &mut out)
                .expect("generate");
            let s = match sample {
                Sample::Mean => "mean".to_string(),
                Sample::Seed(seed) => seed.to_string(),
            };
            lines.push(format!("GEN {label} {s} {:016x}", fnv1a64(&out)));
            if sample == Sample::Mean {
                for row in out.chunks(width) {
                    let art: String = row.iter().map(|&p| shade(p)).collect();
                    lines.push(format!("ART {label} |{art}|"));
                }
            }
        }
    }
}

fn expected_lines(blob: &[u8], blob_name: &str) -> Vec<String> {
    let model = Model::from_bytes(blob).expect("valid blob");
    let need = model.scratch_len();
    let (mut act, mut quant) = (vec![0f32; need.f32s], vec![0i8; need.i8s]);
    let mut scratch = Scratch::new(&mut act, &mut quant);
    let pixels = model.pixels();
    let mut lines = vec![format!(
        "MODEL {blob_name} {} {:08x} {} {} {} {} {}",
        blob.len(),
        pse_runtime::blob::crc32(blob),
        model.latent_dim(),
        model.label_count(),
        pixels,
        need.f32s,
        need.i8s
    )];

    let images = idx(IMAGES, 16);
    let labels = idx(LABELS, 8);
    if !model.has_encoder() {
        // A blob for generation only: the device generates, nothing else.
        push_generated(&mut lines, &model, &mut scratch);
        return lines;
    }
    let mut ann = AnnotateOut::new();
    let mut correct = 0;
    for (i, (image, &truth)) in images.chunks(pixels).zip(&labels).enumerate() {
        let verdict = model
            .annotate(image, &[], &mut scratch, &mut ann)
            .expect("annotate");
        if ann.best().and_then(|l| class_of(&model, l)) == Some(usize::from(truth)) {
            correct += 1;
        }
        let v = verdict_text(verdict);
        let mut line = format!("ANN {i} {truth} {v} mu");
        hex_bits(&mut line, ann.mu());
        line.push_str(" ll");
        hex_bits(&mut line, ann.log_likelihoods());
        line.push_str(" post");
        hex_bits(&mut line, ann.posteriors());
        lines.push(line);
    }
    lines.push(format!("ACC {correct} {}", labels.len()));
    // The noise picture the device also annotates.
    let noise: Vec<u8> = (0..pixels)
        .map(|i| ((i as u32).wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let verdict = model
        .annotate(&noise[..], &[], &mut scratch, &mut ann)
        .expect("annotate noise");
    let reason = match ann.unknown_reason() {
        None => "none",
        Some(UnknownReason::LatentLikelihood) => "latent",
        Some(UnknownReason::Reconstruction) => "reconstruction",
        Some(UnknownReason::LikelihoodRatio) => "ratio",
    };
    let mut line = format!("NOISE {} {reason}", verdict_text(verdict));
    if let Some(s) = ann.image_scores() {
        line.push_str(" scores");
        hex_bits(&mut line, &[s.reconstruction, s.generic]);
    }
    lines.push(line);

    push_generated(&mut lines, &model, &mut scratch);

    // Enrollment: the first ENROLL_SHOTS images of class ENROLL_CLASS, in index order.
    let used: Vec<usize> = (0..labels.len())
        .filter(|&i| labels[i] == ENROLL_CLASS)
        .take(ENROLL_SHOTS)
        .collect();
    let mut enroller = model.enroller();
    for &i in &used {
        model
            .enroll_image(&mut enroller, &images[i * pixels..][..pixels], &mut scratch)
            .expect("enroll_image");
    }
    let mut prior = vec![0f32; model.latent_dim()];
    model
        .mean_label_variance(&mut prior)
        .expect("mean_label_variance");
    let enrolled = enroller
        .finish_with_prior(DEFAULT_VAR_FLOOR, &prior, PRIOR_WEIGHT)
        .expect("finish_with_prior");
    let mut line = format!("ENROLL {}", enroller.count());
    for i in &used {
        write!(line, " {i}").expect("write to String");
    }
    line.push_str(" mu");
    hex_bits(&mut line, enrolled.mu());
    line.push_str(" logvar");
    hex_bits(&mut line, enrolled.logvar());
    lines.push(line);

    // Every image again, with the enrolled label as label `label_count()`, which stands for
    // class ENROLL_CLASS (see ACCX in firmware-example/README.md).
    let mut table = LabelTable::<1>::new();
    let index = model.label_count() + table.push(enrolled).expect("table has room");
    let (mut correct, mut wins, mut class_images) = (0, 0, 0);
    for (i, (image, &truth)) in images.chunks(pixels).zip(&labels).enumerate() {
        let verdict = model
            .annotate(image, table.as_slice(), &mut scratch, &mut ann)
            .expect("annotate with the enrolled label");
        let best = ann.best();
        let best_class = if best == Some(index) {
            Some(usize::from(ENROLL_CLASS))
        } else {
            best.and_then(|l| class_of(&model, l))
        };
        if best_class == Some(usize::from(truth)) {
            correct += 1;
        }
        if truth == ENROLL_CLASS {
            class_images += 1;
            if best == Some(index) {
                wins += 1;
            }
        }
        let mut line = format!("ANNX {i} {truth} {} ll", verdict_text(verdict));
        hex_bits(&mut line, ann.log_likelihoods());
        lines.push(line);
    }
    lines.push(format!("ACCX {correct} {wins} {class_images}"));
    lines
}

const RESULT_PREFIXES: &[&str] = &[
    "MODEL ", "ANN ", "ACC ", "NOISE ", "GEN ", "ART ", "ENROLL ", "ANNX ", "ACCX ",
];

fn compare(encoding: &str, device: &str, host: &[String]) {
    let device: Vec<&str> = device
        .lines()
        .filter(|l| RESULT_PREFIXES.iter().any(|p| l.starts_with(p)))
        .collect();
    for (n, (d, h)) in device.iter().zip(host).enumerate() {
        if *d != h.as_str() {
            let dt: Vec<&str> = d.split(' ').collect();
            let ht: Vec<&str> = h.split(' ').collect();
            let field = dt
                .iter()
                .zip(&ht)
                .position(|(a, b)| a != b)
                .unwrap_or(dt.len().min(ht.len()));
            panic!(
                "{encoding}: host and device differ at result line {n}, field {field} \
                 (device {:?}, host {:?})\n  device: {d}\n  host:   {h}",
                dt.get(field),
                ht.get(field)
            );
        }
    }
    assert_eq!(
        device.len(),
        host.len(),
        "{encoding}: the device printed {} result lines, the host computed {}",
        device.len(),
        host.len()
    );
}

// ---- Measurements. ----

fn field<'a>(stdout: &'a str, prefix: &str) -> Vec<&'a str> {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no `{prefix}` line in the firmware output"))
        .split_whitespace()
        .collect()
}

fn num(s: &str) -> u64 {
    s.parse().unwrap_or_else(|_| panic!("not a number: {s}"))
}

fn arm_size(elf: &Path) -> Option<String> {
    let o = Command::new("arm-none-eabi-size").arg(elf).output().ok()?;
    o.status
        .success()
        .then(|| String::from_utf8_lossy(&o.stdout).into_owned())
}

/// What a run measured, for the comparison with `pse-trainer inspect`'s figures.
struct Measured {
    /// Flash without the test images.
    flash: u64,
    /// Static RAM and peak stack.
    ram: u64,
    /// Instructions per annotation.
    annotate: u64,
    /// Instructions per generation (0 without a decoder).
    generate: u64,
}

/// The measurements report of a run (also written as a row of the core × encoding table)
/// and its figures.
fn measurements(
    encoding: &str,
    core: &Core,
    blob: &[u8],
    elf: &Path,
    run: &Run,
) -> (String, Measured) {
    let model = Model::from_bytes(blob).expect("valid blob");
    let macs = pse_trainer::export::inspect::macs(&model);
    let (ann_macs, gen_macs) = (macs.annotate, macs.generate);
    let mem = field(&run.stdout, "MEM ");
    let (flash, static_ram, stack) = (num(mem[0]), num(mem[1]), num(mem[2]));
    // The annotate-only firmware prints no generation or enrollment lines: those count 0.
    let optional = |prefix: &str| {
        let has = run.stdout.lines().any(|l| l.starts_with(prefix));
        if has {
            field(&run.stdout, prefix)
        } else {
            vec!["0", "0"]
        }
    };
    let stack_phase = |p: &str| num(optional(&format!("STACK {p} "))[0]);
    // A blob for generation only prints no annotation lines either.
    let ann = optional("COST ANNOTATE ");
    let gen_line = optional("COST GENERATE ");
    let (n_ann, ann_ticks) = (num(ann[0]), num(ann[1]));
    let (n_gen, gen_ticks) = (num(gen_line[0]), num(gen_line[1]));
    let load_ticks = num(field(&run.stdout, "COST LOAD ")[0]);
    let enroll_line = optional("COST ENROLL ");
    let (n_enroll, enroll_ticks) = (num(enroll_line[0]), num(enroll_line[1]));
    let enrolled = u64::from(n_enroll > 0);
    // Instructions per operation: exact from the plugin (spans in firmware order: load,
    // each annotation, each generation, the enrollment), else the counter's ticks: exact
    // instructions, or SysTick ticks converted at the machine's clock (± one tick).
    let per_tick = |ticks: u64| ticks * INSTRUCTIONS_PER_SECOND / core.counter.hz();
    let (load_i, ann_i, gen_i, enroll_i, how) = match &run.spans {
        Some(s) if s.len() as u64 == 1 + n_ann + n_gen + enrolled => {
            let (n_ann, n_gen) = (n_ann as usize, n_gen as usize);
            let a: u64 = s[1..=n_ann].iter().sum();
            let g: u64 = s[1 + n_ann..1 + n_ann + n_gen].iter().sum();
            let e = s.get(1 + n_ann + n_gen).copied().unwrap_or(0);
            (
                s[0],
                a / n_ann.max(1) as u64,
                g / n_gen.max(1) as u64,
                e,
                "exact, QEMU plugin",
            )
        }
        _ => (
            per_tick(load_ticks),
            per_tick(ann_ticks) / n_ann.max(1),
            per_tick(gen_ticks) / n_gen.max(1),
            per_tick(enroll_ticks),
            core.counter.how(),
        ),
    };
    let ratio = |i: u64, m: u64| if m == 0 { 0.0 } else { i as f64 / m as f64 };
    let mut s = String::new();
    let _ = writeln!(
        s,
        "firmware measurements, {encoding} blob ({} bytes), {} ({}, QEMU {})",
        blob.len(),
        core.name,
        core.target,
        core.machine
    );
    let images = fs::metadata(root().join(IMAGES)).map_or(0, |m| m.len())
        + fs::metadata(root().join(LABELS)).map_or(0, |m| m.len());
    let _ = writeln!(
        s,
        "  flash: {flash} bytes in all = blob {} + test images {images} + code and constants {}",
        blob.len(),
        flash.saturating_sub(blob.len() as u64 + images)
    );
    let _ = writeln!(
        s,
        "  flash without the test images: {} bytes ({:.3} MiB)",
        flash - images,
        (flash - images) as f64 / 1_048_576.0
    );
    let _ = writeln!(
        s,
        "  RAM: static {static_ram} + peak stack {stack} = {} bytes ({:.2} KiB); \
         stack by phase: load {}, annotate {}, generate {}, enroll {}",
        static_ram + stack,
        (static_ram + stack) as f64 / 1024.0,
        stack_phase("LOAD"),
        stack_phase("ANNOTATE"),
        stack_phase("GENERATE"),
        stack_phase("ENROLL")
    );
    let _ = writeln!(
        s,
        "  instructions ({how}, -icount shift=0): load+validate {load_i}, \
         annotate {ann_i} ({ann_macs} MACs: {:.2}/MAC), generate {gen_i} ({gen_macs} MACs: {:.2}/MAC)",
        ratio(ann_i, ann_macs),
        ratio(gen_i, gen_macs)
    );
    let _ = writeln!(
        s,
        "  enroll ({n_enroll} images encoded and accumulated, prior, label Gaussian): \
         {enroll_i} instructions ({} per image)",
        enroll_i / n_enroll.max(1)
    );
    let _ = writeln!(
        s,
        "  {} ticks: annotate {} per image, generate {} per image",
        core.counter.name(),
        ann_ticks / n_ann.max(1),
        gen_ticks / n_gen.max(1)
    );
    if run.stdout.lines().any(|l| l.starts_with("ACC ")) {
        let acc = field(&run.stdout, "ACC ");
        let _ = writeln!(
            s,
            "  accuracy on the {} images: {}/{}",
            acc[1], acc[0], acc[1]
        );
    }
    if run.stdout.lines().any(|l| l.starts_with("ACCX ")) {
        let accx = field(&run.stdout, "ACCX ");
        let _ = writeln!(
            s,
            "  with the enrolled label (counted as class {ENROLL_CLASS}): {}/{} correct; \
             the enrolled label is best for {} of the {} images of class {ENROLL_CLASS}",
            accx[0],
            field(&run.stdout, "ACC ")[1],
            accx[1],
            accx[2]
        );
    }
    // arm-none-eabi-size, when it is installed, on the Arm cores (MEM has the figures).
    if core.target.starts_with("thumb")
        && let Some(size) = arm_size(elf)
    {
        let _ = write!(s, "  arm-none-eabi-size:\n{size}");
    }
    // One row of the core × encoding table (docs/mcu.md), written once the run was found
    // bit-identical to the host (the callers compare first).
    // (A blob for generation only: its generation's figures.)
    let (op_i, op_macs) = if ann_macs == 0 {
        (gen_i, gen_macs)
    } else {
        (ann_i, ann_macs)
    };
    let row = format!(
        "| {} | {encoding} | yes | {op_i} | {:.2} | {} | {} |\n",
        core.name,
        ratio(op_i, op_macs),
        flash - images,
        static_ram + stack
    );
    let rows = work_dir().join("table");
    let _ = fs::create_dir_all(&rows);
    let _ = fs::write(rows.join(format!("{}-{encoding}.md", core.name)), row);
    let measured = Measured {
        flash: flash - images,
        ram: static_ram + stack,
        annotate: ann_i,
        generate: gen_i,
    };
    (s, measured)
}

/// `pse-trainer inspect`'s figures for this blob on this core's target and CPU (from the
/// table of `trainer/src/export/targets.rs`; the CPU is the `-C target-cpu` of the core's
/// RUSTFLAGS, e.g. the Helium build's) against what the run measured: flash within 2 KiB,
/// RAM within 512 bytes (code size moves by up to ~1 KiB with the blob), and instructions
/// within 10 % where the target's per-multiply-add rates were measured on this model (the
/// 512/64 MNIST blobs; the small model on the Cortex-M0); elsewhere the instruction figures
/// are printed, not checked (rates do not carry over exactly to other layer widths).
fn check_inspect(core: &Core, name: &str, blob: &[u8], m: &Measured) {
    use pse_trainer::export::{inspect, targets};
    let cpu = core
        .rustflags
        .split_whitespace()
        .find_map(|f| f.trim_start_matches("-C").strip_prefix("target-cpu="));
    let t = targets::target_for(core.target, cpu).unwrap_or_else(|| {
        panic!(
            "{} (CPU {}): no profile in export/targets.rs",
            core.target,
            cpu.unwrap_or("default")
        )
    });
    let model = Model::from_bytes(blob).expect("valid blob");
    let p = inspect::device_needs(&model, blob.len(), t);
    let what = format!("inspect vs {} with {name}", core.name);
    let near = |a: u64, b: u64, tol: u64| a.abs_diff(b) <= tol;
    assert!(
        near(p.flash_bytes as u64, m.flash, 2048),
        "{what}: flash {} predicted, {} measured",
        p.flash_bytes,
        m.flash
    );
    assert!(
        near(p.ram_bytes as u64, m.ram, 512),
        "{what}: RAM {} predicted, {} measured",
        p.ram_bytes,
        m.ram
    );
    let calibrated = (name == SMALL_BLOB) == (core.target == "thumbv6m-none-eabi");
    let within = |pred: Option<u64>, got: u64, op: &str| {
        let pred = pred.unwrap_or_else(|| panic!("{what}: no {op} rate for this encoding"));
        println!("{what}: {op} {pred} instructions predicted, {got} measured");
        assert!(
            !calibrated || pred.abs_diff(got) * 10 <= got,
            "{what}: {op} {pred} instructions predicted, {got} measured"
        );
    };
    if m.annotate > 0 {
        within(p.annotate_instructions, m.annotate, "annotate");
    }
    if m.generate > 0 {
        within(p.generate_instructions, m.generate, "generate");
    }
}

// ---- The tests. ----

/// One firmware run to check: a core, a blob, and how the firmware is built.
struct Check<'a> {
    core: &'a Core,
    /// The run's name in file names (`<core>-<name>-output.txt`, …).
    name: &'a str,
    blob: PathBuf,
    /// Cargo features of the firmware.
    features: &'a [&'a str],
    /// Cargo profile of the firmware.
    profile: &'a str,
}

impl<'a> Check<'a> {
    /// The default build of `core` with the blob [`blob_named`] `name`.
    fn new(core: &'a Core, name: &'a str) -> Self {
        Check {
            core,
            name,
            blob: blob_named(name),
            features: &[],
            profile: "release",
        }
    }
}

/// Builds and runs the firmware of `c`; checks that every result line equals the host's
/// (the annotation lines only, for the `annotate-only` firmware), writes the output and the
/// measurements (`<core>-<name>-output.txt`, `-measurements.txt`, a row of the table) and,
/// for the release builds, compares `inspect`'s figures with them. Returns the output and
/// the measured figures.
fn check_firmware(c: &Check<'_>) -> (String, Measured) {
    let core = c.core;
    require_qemu(core);
    let blob = fs::read(&c.blob).unwrap_or_else(|e| {
        panic!(
            "{}: {e}\nthe firmware test needs the committed MNIST blobs (written by \
             `pse-trainer export`)",
            c.blob.display()
        )
    });
    let file = c
        .blob
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let label = format!("{}-{}", core.name, c.name);
    let elf = build_firmware_as(&label, core, c.features, c.profile, &c.blob);
    let run = run_firmware(&elf, core);
    assert!(
        run.stdout.lines().any(|l| l == "DONE"),
        "{label} ({}) did not finish:\n{}",
        core.machine,
        tail(&run.stdout, 20)
    );
    let annotate_only = c.features.contains(&"annotate-only");
    let host: Vec<String> = expected_lines(&blob, &file)
        .into_iter()
        .filter(|l| {
            !annotate_only
                || ["MODEL ", "ANN ", "ACC ", "NOISE "]
                    .iter()
                    .any(|p| l.starts_with(p))
        })
        .collect();
    compare(&label, &run.stdout, &host);
    let (report, measured) = measurements(c.name, core, &blob, &elf, &run);
    println!(
        "{label} ({} under QEMU {}): all {} result lines bit-identical\n{report}",
        core.target,
        core.machine,
        host.len()
    );
    let _ = fs::write(
        work_dir().join(format!("{label}-measurements.txt")),
        &report,
    );
    let _ = fs::write(work_dir().join(format!("{label}-output.txt")), &run.stdout);
    if c.profile == "release" && !annotate_only {
        check_inspect(core, c.name, &blob, &measured);
    }
    (run.stdout, measured)
}

/// [`check_firmware`] of the default build.
fn core_bit_identical(core: &Core, name: &str) -> String {
    check_firmware(&Check::new(core, name)).0
}

/// The device's NOISE line (bit-identical to the host's, checked before) calls the noise
/// picture "unknown": the blob carries the open-world verdict.
fn assert_noise_unknown(out: &str) {
    let noise = out.lines().find(|l| l.starts_with("NOISE ")).unwrap();
    assert!(
        noise.starts_with("NOISE U") && !noise.contains(" none"),
        "{noise}"
    );
}

#[test]
fn firmware_i8_matches_host_bit_for_bit() {
    let out = core_bit_identical(&CORTEX_M4F, "i8");
    // The committed blob carries the open-world verdict: the device calls noise unknown
    // (and the line is bit-identical to the host's, checked above).
    assert_noise_unknown(&out);
}

/// The robust recipe's model (`models/mnist-pse-star-10d-robust-i8.pse`, for digits from
/// outside MNIST) on the device: bit-identical, and noise still "unknown".
#[test]
fn firmware_robust_model_matches_host_bit_for_bit() {
    let out = core_bit_identical(&CORTEX_M4F, "robust-i8");
    assert_noise_unknown(&out);
}

/// The blob `models/mnist-pse-star-10d-<name>.pse` ([`blob_path`]), or, for `i8-annotate`,
/// the committed int8 blob without its decoder (what `pse-trainer export --weights i8 --part
/// annotate` writes from the same weights), written once into the test's work folder.
fn blob_named(name: &str) -> PathBuf {
    type Derived = std::sync::OnceLock<PathBuf>;
    static ANNOTATE: Derived = Derived::new();
    static GENERATE: Derived = Derived::new();
    // Derived blobs are made once (parallel tests must not rewrite a file a build reads).
    let derive = |cell: &Derived, from: &str, part: fn(&[u8]) -> Vec<u8>| {
        cell.get_or_init(|| {
            let whole = fs::read(blob_path(from)).expect("a committed blob");
            let path = work_dir().join(format!("mnist-pse-star-10d-{name}.pse"));
            fs::write(&path, part(&whole)).expect("write the derived blob");
            path
        })
        .clone()
    };
    match name {
        "i8-annotate" => derive(&ANNOTATE, "i8", pse_tests::annotate_part),
        "i4-generate" => derive(&GENERATE, "i4", pse_tests::generate_part),
        _ => blob_path(name),
    }
}

/// The blobs of the core × encoding table: int8 and int4, whole and for annotation only.
const TABLE_BLOBS: [&str; 4] = ["i8", "i4", "i8-annotate", "i4-annotate"];

/// The model small enough for the micro:bit: PSE* 10D with hidden widths 128 and 32 (the
/// paper's are 512 and 64), int4, with its decoder and the open-world verdict.
const SMALL_BLOB: &str = "h128x32-i4";

#[test]
fn firmware_i4_and_annotate_only_blobs_match_host_bit_for_bit() {
    for name in &TABLE_BLOBS[1..] {
        core_bit_identical(&CORTEX_M4F, name);
    }
    // The int4 blob carries the verdict: the device calls the noise picture unknown (the
    // line bit-identical to the host's, checked above).
    let out = fs::read_to_string(work_dir().join("cortex-m4f-i4-output.txt")).unwrap();
    assert_noise_unknown(&out);
}

#[test]
fn firmware_on_cortex_m3_matches_host_bit_for_bit() {
    for name in TABLE_BLOBS {
        core_bit_identical(&CORTEX_M3, name);
    }
}

#[test]
fn firmware_on_cortex_m33_matches_host_bit_for_bit() {
    for name in TABLE_BLOBS {
        core_bit_identical(&CORTEX_M33, name);
    }
}

#[test]
fn firmware_on_cortex_m7_matches_host_bit_for_bit() {
    for name in TABLE_BLOBS {
        core_bit_identical(&CORTEX_M7, name);
    }
}

#[test]
fn firmware_on_cortex_m55_matches_host_bit_for_bit() {
    for name in TABLE_BLOBS {
        core_bit_identical(&CORTEX_M55, name);
    }
}

/// The Cortex-M0 class: the small model, whole (annotation with the verdict, generation,
/// enrollment), in the micro:bit's 256 KiB of flash (with the 100 test digits) and 16 KiB
/// of RAM; every result line equal to the host's. The same blob on the M4F for comparison.
#[test]
fn firmware_on_cortex_m0_microbit_matches_host_bit_for_bit() {
    core_bit_identical(&CORTEX_M0, SMALL_BLOB);
    core_bit_identical(&CORTEX_M4F, SMALL_BLOB);
}

#[test]
fn firmware_on_cortex_m55_with_helium_matches_host_bit_for_bit() {
    for name in TABLE_BLOBS {
        core_bit_identical(&CORTEX_M55_HELIUM, name);
    }
}

/// A blob for generation only (`--part generate`: label table and decoder, blob format 4)
/// on the Cortex-M4F: the device generates every label bit for bit as the host does, and
/// the blob and code fit a 512 KiB-flash board.
#[test]
fn firmware_generate_only_int4_matches_host_bit_for_bit() {
    let (out, m) = check_firmware(&Check::new(&CORTEX_M4F, "i4-generate"));
    assert!(
        out.lines().any(|l| l.starts_with("GEN 9 ")),
        "no generation"
    );
    assert!(
        !out.lines().any(|l| l.starts_with("ANN ")),
        "annotated without an encoder"
    );
    assert!(m.generate > 0 && m.annotate == 0);
    assert!(m.flash <= 512 * 1024, "{} bytes of flash", m.flash);
}

/// The RP2350 board (`PSE_BOARD=rp2350`; no QEMU machine runs it): the firmware links for
/// the Cortex-M33 with the boot ROM's minimum Arm `IMAGE_DEF` block inside the first 4 KiB
/// of flash, right after the vector table, and code after the block.
#[test]
fn rp2350_board_image_carries_its_image_def_in_the_first_4_kib() {
    let board = Core {
        name: "rp2350",
        board: "rp2350",
        ..CORTEX_M33
    };
    let elf = build_firmware_as("rp2350", &board, &[], "release", &blob_named("i4"));
    let elf = fs::read(&elf).expect("the RP2350 ELF");
    let section = |name: &str| {
        elf_section(&elf, name).unwrap_or_else(|| panic!("no {name} section in the RP2350 ELF"))
    };
    const FLASH: u32 = 0x1000_0000;
    let (vectors, _) = section(".vector_table");
    let (block, bytes) = section(".start_block");
    let (text, _) = section(".text");
    assert_eq!(vectors, FLASH, "the vector table starts the image");
    assert!(
        block > FLASH && block + 20 <= FLASH + 4096,
        "block at {block:#x}"
    );
    let words: Vec<u32> = bytes
        .chunks_exact(4)
        .map(|w| u32::from_le_bytes(w.try_into().unwrap()))
        .collect();
    assert_eq!(
        words,
        [
            0xffff_ded3,
            0x1021_0142,
            0x0000_01ff,
            0x0000_0000,
            0xab12_3579
        ]
    );
    assert!(text >= block + 20, "code at {text:#x} overlaps the block");
}

/// The address and bytes of the section `name` of a 32-bit little-endian ELF file.
fn elf_section(elf: &[u8], name: &str) -> Option<(u32, Vec<u8>)> {
    let u16_at = |o: usize| Some(u16::from_le_bytes(elf.get(o..o + 2)?.try_into().ok()?));
    let u32_at = |o: usize| Some(u32::from_le_bytes(elf.get(o..o + 4)?.try_into().ok()?));
    if elf.get(..6)? != b"\x7fELF\x01\x01" {
        return None;
    }
    let (shoff, shentsize) = (u32_at(0x20)? as usize, u16_at(0x2e)? as usize);
    let (shnum, shstrndx) = (u16_at(0x30)? as usize, u16_at(0x32)? as usize);
    let header = |i: usize| shoff + i * shentsize;
    let strtab = u32_at(header(shstrndx) + 0x10)? as usize;
    (0..shnum).find_map(|i| {
        let h = header(i);
        let at = strtab + u32_at(h)? as usize;
        let end = at + elf.get(at..)?.iter().position(|&b| b == 0)?;
        if elf.get(at..end)? != name.as_bytes() {
            return None;
        }
        let (addr, off, size) = (u32_at(h + 0x0c)?, u32_at(h + 0x10)?, u32_at(h + 0x14)?);
        let bytes = elf.get(off as usize..(off + size) as usize)?.to_vec();
        Some((addr, bytes))
    })
}

/// The smallest device build: the `annotate-only` firmware (`release-small` profile: the
/// runtime optimised for size) with the int4 blob without a decoder, on the Cortex-M4F.
/// Its results must equal the host's, and blob and code must fit a 256 KiB-flash,
/// 16 KiB-RAM board (the test images, which a device does not carry, aside).
#[test]
fn firmware_annotate_only_int4_fits_256_kib_flash_and_16_kib_ram() {
    let (_, m) = check_firmware(&Check {
        name: "i4-annotate-small",
        blob: blob_named("i4-annotate"),
        features: &["annotate-only"],
        profile: "release-small",
        ..Check::new(&CORTEX_M4F, "i4-annotate")
    });
    assert!(
        m.flash <= 256 * 1024 && m.ram <= 16 * 1024,
        "the annotate-only int4 firmware needs {} bytes of flash and {} of RAM (256 KiB / 16 KiB)",
        m.flash,
        m.ram
    );
}

/// The same firmware on an RV32 core (riscv-rt instead of cortex-m-rt, `minstret` instead of
/// SysTick): every result line as on the host.
#[test]
fn firmware_on_riscv32_matches_host_bit_for_bit() {
    for name in TABLE_BLOBS {
        core_bit_identical(&RISCV32, name);
    }
}

/// RV32IMC, the four table blobs.
#[test]
fn firmware_on_riscv32imc_matches_host_bit_for_bit() {
    for name in TABLE_BLOBS {
        core_bit_identical(&RISCV32IMC, name);
    }
}

#[test]
fn firmware_f32_matches_host_bit_for_bit() {
    check_firmware(&Check {
        features: &["f32"],
        ..Check::new(&CORTEX_M4F, "f32")
    });
}

/// The enrollment demo on the device: the model that never saw a seven (9 labels) learns
/// "seven" from five images on the device, bit for bit as the host does.
#[test]
fn firmware_enrolls_a_digit_the_model_never_saw() {
    let out = core_bit_identical(&CORTEX_M4F, "without-seven-i8");
    // The 15 sevens cannot be right before enrollment; after it most are.
    let acc = field(&out, "ACC ");
    let accx = field(&out, "ACCX ");
    assert!(num(acc[0]) <= 85, "{acc:?}");
    assert!(
        num(accx[0]) >= num(acc[0]) + 7,
        "ACC {acc:?}, ACCX {accx:?}"
    );
}

/// A HardFault must end the run with a failure status, not hang.
#[test]
fn firmware_hardfault_exits_nonzero() {
    require_qemu(&CORTEX_M4F);
    let elf = build_firmware("fault-test", &CORTEX_M4F, &["fault-test"], &blob_path("i8"));
    let out = run_qemu(&elf, None, &CORTEX_M4F);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a HardFault exited with success");
    assert!(
        stderr.contains("HARDFAULT"),
        "no HARDFAULT report on stderr: {stderr}"
    );
}

/// A trap on the RV32 core (an illegal instruction) must end the run with a failure status,
/// not hang.
#[test]
fn firmware_trap_on_riscv32_exits_nonzero() {
    require_qemu(&RISCV32);
    let elf = build_firmware(
        "fault-test-riscv32",
        &RISCV32,
        &["fault-test"],
        &blob_path("i8"),
    );
    let out = run_qemu(&elf, None, &RISCV32);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a trap exited with success");
    assert!(
        stderr.contains("TRAP mcause 00000002"),
        "no illegal-instruction TRAP report on stderr: {stderr}"
    );
}

/// The committed images are the first 100 of MNIST t10k (checked when the data is present).
#[test]
fn firmware_images_are_the_first_100_of_t10k() {
    let full = root().join("data/mnist/t10k-images-idx3-ubyte");
    let Ok(full) = fs::read(full) else {
        println!("note: data/mnist not fetched; skipped the provenance check of the images");
        return;
    };
    let ours = fs::read(root().join(IMAGES)).expect("committed images");
    assert_eq!(&ours[..4], &full[..4]);
    assert_eq!(u32::from_be_bytes(ours[4..8].try_into().unwrap()), 100);
    assert_eq!(&ours[8..16], &full[8..16]);
    assert_eq!(&ours[16..], &full[16..16 + 100 * 784]);
    if let Ok(full_labels) = fs::read(root().join("data/mnist/t10k-labels-idx1-ubyte")) {
        let ours = fs::read(root().join(LABELS)).expect("committed labels");
        assert_eq!(&ours[8..], &full_labels[8..108]);
    }
}
