//! `pse-trainer inspect`: a blob's contents and what it needs on a device.

use crate::export::host::BlobFile;
use crate::export::inspect::{self, DeviceNeeds, Inspection};
use crate::export::targets::{self, TARGETS};
use clap::Args;
use std::error::Error;
use std::path::PathBuf;

/// `pse-trainer inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The blob.
    #[arg(value_name = "MODEL", required_unless_present = "model_flag")]
    pub model: Option<PathBuf>,
    /// The blob (the same as MODEL, as the other commands name it).
    #[arg(long = "model", value_name = "MODEL", conflicts_with = "model")]
    pub model_flag: Option<PathBuf>,
    /// The Rust target of the device whose flash, RAM and instruction counts to print
    /// (measured: thumbv6m-none-eabi, thumbv7m-none-eabi, thumbv7em-none-eabihf,
    /// thumbv8m.main-none-eabihf, also with --cpu cortex-m55, riscv32imafc-unknown-none-elf,
    /// riscv32imc-unknown-none-elf).
    #[arg(long, default_value = "thumbv7em-none-eabihf")]
    pub target: String,
    /// The CPU the firmware is built for (`-C target-cpu`); cortex-m55 selects the Helium
    /// kernels' profile (with --target thumbv8m.main-none-eabihf).
    #[arg(long, value_name = "CPU")]
    pub cpu: Option<String>,
    /// Print everything as one JSON object instead of the text.
    #[arg(long)]
    pub json: bool,
}

fn kib(bytes: usize) -> String {
    format!("{bytes} B ({:.1} KiB)", bytes as f64 / 1024.0)
}

fn mega(n: Option<u64>) -> String {
    n.map_or_else(
        || "not measured".to_string(),
        |n| format!("~{:.2} M instructions", n as f64 / 1e6),
    )
}

fn print_device(d: &DeviceNeeds) {
    let cpu = d
        .cpu
        .map_or_else(String::new, |c| format!(" with -C target-cpu={c}"));
    println!(
        "on {}{cpu} ({}; figures measured on {}):",
        d.triple, d.cores, d.measured_on
    );
    println!(
        "  flash  {}: the blob and the firmware example's code ({})",
        kib(d.flash_bytes),
        kib(d.code_bytes)
    );
    println!(
        "  RAM    {} at peak (buffers {}: the runtime's scratch, and an image for generation)",
        kib(d.ram_bytes),
        kib(d.buffer_bytes)
    );
    println!("  annotate  {}", mega(d.annotate_instructions));
    if let Some(g) = d.generate_instructions {
        println!("  generate  {}", mega(Some(g)));
    }
    println!(
        "  (instructions: this target's rates per multiply-add, measured on the MNIST blobs \
         with hidden widths 512, 64 (128, 32 on thumbv6m); other widths differ: the 128/32 \
         model takes 33 % more than this estimate on the M4F)"
    );
}

fn print(path: &str, i: &Inspection, target: &str) {
    println!(
        "{path}: {} bytes, format {}, payload CRC-32 {}",
        i.bytes, i.format_version, i.crc32
    );
    println!(
        "  {} {}D, {}x{} images, part: {}{}",
        i.kind,
        i.latent,
        i.image_size[0],
        i.image_size[1],
        i.part,
        match i.part {
            "annotate" => " (no decoder: no generation, no open-world verdict)",
            "generate" => " (no image encoder: no annotation, enrollment or verdict)",
            _ => "",
        }
    );
    println!("  {} labels: {}", i.labels.len(), i.labels.join(", "));
    if let Some(k) = i.word_dim {
        println!("  label encoder: word vectors of {k}");
    }
    let bound = |v: Option<f32>| v.map_or("off".to_string(), |v| format!("{v:.3}"));
    println!(
        "  unknown when: best label log-likelihood < {}",
        bound(i.unknown_threshold)
    );
    if let Some([r, g]) = i.open_world {
        println!(
            "                or reconstruction R < {}, or R - G < {}",
            bound(r),
            bound(g)
        );
    }
    println!("  layers:");
    for l in &i.layers {
        println!(
            "    {:<12} {:>2}  {:>5} -> {:<5} {:<8} {:<4} {:>9} B {:>9} MACs",
            l.part, l.index, l.inputs, l.outputs, l.activation, l.encoding, l.bytes, l.macs
        );
    }
    println!(
        "  multiply-adds: annotate {}, generate {}",
        i.macs.annotate, i.macs.generate
    );
    println!(
        "  scratch (exact, any target): {} f32 + {} i8 = {}",
        i.scratch.f32s,
        i.scratch.i8s,
        kib(i.scratch.bytes)
    );
    match &i.device {
        Some(d) => print_device(d),
        None => println!("on {target}: not measured (measured targets: {})", known()),
    }
    println!("boards (datasheet memories; flash and RAM as above for each board's core):");
    for b in &i.boards {
        let verdict = match (&b.needs, b.fits) {
            (Some(n), Some(true)) => format!(
                "fits: {} of {} flash, {} of {} RAM",
                n.flash_bytes, b.flash, n.ram_bytes, b.ram
            ),
            (Some(n), _) => format!(
                "does NOT fit: needs {} flash of {}, {} RAM of {}",
                n.flash_bytes, b.flash, n.ram_bytes, b.ram
            ),
            (None, _) => format!("{}: not measured", b.triple),
        };
        println!("  {:<30} {:<15} {verdict}", b.name, b.core);
    }
    println!(
        "(flash, RAM and instructions come from the firmware example under QEMU; \
         tests/tests/firmware.rs checks them against its runs)"
    );
}

/// The measured targets, as `--target` (and `--cpu`) name them.
fn known() -> String {
    TARGETS
        .iter()
        .map(|t| t.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `pse-trainer inspect`: prints the blob's layers, encodings, labels and thresholds, its
/// exact scratch, and its flash, RAM and cost on the target and the boards.
pub fn run_inspect(a: InspectArgs) -> Result<(), Box<dyn Error>> {
    let cpu = a.cpu.as_deref();
    let target = targets::target_for(&a.target, cpu);
    // A named CPU must have a profile; a bare triple without one prints "not measured".
    if let (Some(cpu), None) = (cpu, target) {
        return Err(format!(
            "no profile for --target {} --cpu {cpu} (measured: {})",
            a.target,
            known()
        )
        .into());
    }
    let path = a
        .model
        .or(a.model_flag)
        .ok_or("give the blob as MODEL or --model")?;
    let blob = BlobFile::read(&path)?;
    blob.model()?;
    let i = inspect::inspect(&blob.bytes, target)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&i)?);
    } else {
        print(&path.display().to_string(), &i, &a.target);
    }
    Ok(())
}
