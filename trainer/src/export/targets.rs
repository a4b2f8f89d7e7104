//! What a blob costs on each microcontroller class, from the firmware example's measurements
//! under QEMU (`tests/tests/firmware.rs` runs every committed MNIST blob on every core and
//! checks, on every run, that [`crate::export::inspect`]'s figures computed from this table
//! agree with what it measured), and a table of common boards.
//!
//! The runtime's scratch is exact for any blob (`Model::scratch_len`); what the table adds
//! is what a device needs beyond it: the firmware example's code, its stack beyond the
//! buffers it owns, and the executed instructions per multiply-add of each operation.

use pse_runtime::payload::Encoding;

/// Executed instructions per multiply-add of one encoding on one core class, measured with
/// the MNIST PSE* 10D blobs (784-512-64 encoder, 10-64-512-784 decoder).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rates {
    /// The weight encoding of the trunk and decoder layers.
    pub encoding: Encoding,
    /// Annotation without the open-world verdict, per encoder multiply-add.
    pub encode: f64,
    /// The verdict's extra work (decoding `mu_x`, scoring the image), per decoder
    /// multiply-add.
    pub verdict: f64,
    /// Generation, per decoder multiply-add.
    pub generate: f64,
}

/// A Rust target (and CPU, when the build names one) and what the firmware example measured
/// on it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TargetProfile {
    /// The Rust target triple.
    pub triple: &'static str,
    /// The CPU the firmware is built for (`-C target-cpu`), `None` for the triple's default.
    pub cpu: Option<&'static str>,
    /// The cores it stands for.
    pub cores: &'static str,
    /// Where it was measured.
    pub measured_on: &'static str,
    /// The firmware example's code and constants (flash beyond the blob and the test
    /// images), the largest measured with any blob.
    pub code_bytes: usize,
    /// Statically allocated RAM of the firmware example.
    pub static_ram: usize,
    /// Peak stack of `Model::from_bytes` (a format-3 blob).
    pub load_stack: usize,
    /// Peak stack of the inference phases beyond the buffers the firmware owns (the
    /// runtime's scratch and, with a decoder, one image of `f32`s for generation).
    pub phase_stack: usize,
    /// Peak stack of generation beyond the same buffers: the largest phase of a blob
    /// without an image encoder (`--part generate`), which neither annotates nor enrolls.
    pub generate_stack: usize,
    /// Instructions per multiply-add, per encoding measured (others: not measured).
    pub rates: &'static [Rates],
}

const fn rates(encoding: Encoding, encode: f64, verdict: f64, generate: f64) -> Rates {
    Rates {
        encoding,
        encode,
        verdict,
        generate,
    }
}

/// The core classes the firmware test runs (QEMU, `-icount shift=0`, the exact counts of
/// `firmware-example/tools/icount.c`).
pub const TARGETS: &[TargetProfile] = &[
    TargetProfile {
        triple: "thumbv7em-none-eabihf",
        cpu: None,
        cores: "Cortex-M4F, Cortex-M7",
        measured_on: "QEMU mps2-an386 (M4F), mps2-an500 (M7)",
        code_bytes: 51_454,
        static_ram: 8,
        load_stack: 8_852,
        phase_stack: 5_020,
        generate_stack: 3_612,
        rates: &[
            rates(Encoding::I8, 1.4319, 1.8383, 1.5877),
            rates(Encoding::I4, 2.2413, 2.6392, 2.3874),
            // Only the whole f32 blob was measured: the verdict is assumed to cost what
            // the encoder does per multiply-add.
            rates(Encoding::F32, 5.0597, 5.0597, 5.0354),
        ],
    },
    TargetProfile {
        triple: "thumbv7m-none-eabi",
        cpu: None,
        cores: "Cortex-M3",
        measured_on: "QEMU mps2-an385",
        code_bytes: 48_334,
        static_ram: 8,
        load_stack: 8_840,
        phase_stack: 4_976,
        generate_stack: 3_456,
        rates: &[
            rates(Encoding::I8, 6.3100, 13.4944, 8.8604),
            rates(Encoding::I4, 5.8255, 13.0527, 8.3890),
        ],
    },
    TargetProfile {
        triple: "thumbv8m.main-none-eabihf",
        cpu: None,
        cores: "Cortex-M33, Cortex-M55 (built without -C target-cpu: no Helium)",
        measured_on: "QEMU mps2-an505 (M33), mps3-an547 (M55)",
        code_bytes: 46_958,
        static_ram: 8,
        load_stack: 8_852,
        phase_stack: 5_020,
        generate_stack: 3_500,
        rates: &[
            rates(Encoding::I8, 5.1181, 5.4915, 5.2456),
            rates(Encoding::I4, 4.6303, 5.0178, 4.7707),
        ],
    },
    // The M55 built for its CPU (the firmware test's `cortex-m55-helium` runs): the runtime's
    // Helium (MVE) int8 and int4 kernels and the compiler's own MVE code, another binary than
    // the portable one above.
    TargetProfile {
        triple: "thumbv8m.main-none-eabihf",
        cpu: Some("cortex-m55"),
        cores: "Cortex-M55 with Helium: the MVE kernels",
        measured_on: "QEMU mps3-an547",
        code_bytes: 46_002,
        static_ram: 8,
        load_stack: 8_876,
        phase_stack: 5_020,
        generate_stack: 3_480,
        rates: &[
            rates(Encoding::I8, 0.2727, 0.6557, 0.3878),
            rates(Encoding::I4, 0.4440, 0.8106, 0.5414),
        ],
    },
    TargetProfile {
        triple: "thumbv6m-none-eabi",
        cpu: None,
        cores: "Cortex-M0, Cortex-M0+",
        measured_on: "QEMU microbit (nRF51822), with the small MNIST model (hidden 128, 32)",
        code_bytes: 49_176,
        static_ram: 8,
        load_stack: 8_992,
        phase_stack: 5_132,
        generate_stack: 3_676,
        rates: &[
            // Only the whole int4 blob of the small model was measured: the verdict is
            // assumed to cost what the encoder does per multiply-add.
            rates(Encoding::I4, 40.5174, 40.5174, 33.4041),
        ],
    },
    TargetProfile {
        triple: "riscv32imafc-unknown-none-elf",
        cpu: None,
        cores: "RV32IMAFC",
        measured_on: "QEMU virt (rv32)",
        code_bytes: 71_950,
        static_ram: 4,
        load_stack: 8_804,
        phase_stack: 4_956,
        generate_stack: 4_252,
        rates: &[
            rates(Encoding::I8, 7.8965, 8.5273, 8.2773),
            rates(Encoding::I4, 6.6621, 7.0998, 6.8484),
        ],
    },
    TargetProfile {
        triple: "riscv32imc-unknown-none-elf",
        cpu: None,
        cores: "RV32IMC (e.g. ESP32-C3): soft floats",
        measured_on: "QEMU virt (rv32)",
        code_bytes: 79_706,
        static_ram: 4,
        load_stack: 8_804,
        phase_stack: 5_036,
        generate_stack: 4_300,
        rates: &[
            rates(Encoding::I8, 8.9775, 16.0487, 11.7530),
            rates(Encoding::I4, 7.7409, 14.6497, 10.3268),
        ],
    },
];

/// A common board: its core's target and its memories.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Board {
    /// The board or chip.
    pub name: &'static str,
    /// Its core.
    pub core: &'static str,
    /// The Rust target of its core.
    pub triple: &'static str,
    /// Flash for code and the blob, bytes.
    pub flash: usize,
    /// RAM, bytes (the largest contiguous block the firmware can use for stack and data).
    pub ram: usize,
}

/// Boards users have (datasheet figures; none of them was run here: the measurements are
/// QEMU's, for the same cores).
pub const BOARDS: &[Board] = &[
    Board {
        name: "STM32F407 (Discovery)",
        core: "Cortex-M4F",
        triple: "thumbv7em-none-eabihf",
        flash: 1024 * 1024,
        ram: 128 * 1024,
    },
    Board {
        name: "nRF52840",
        core: "Cortex-M4F",
        triple: "thumbv7em-none-eabihf",
        flash: 1024 * 1024,
        ram: 256 * 1024,
    },
    Board {
        name: "STM32L432KC (256 KiB flash)",
        core: "Cortex-M4F",
        triple: "thumbv7em-none-eabihf",
        flash: 256 * 1024,
        ram: 64 * 1024,
    },
    Board {
        name: "RP2040 (Pico, 2 MiB flash)",
        core: "Cortex-M0+",
        triple: "thumbv6m-none-eabi",
        flash: 2 * 1024 * 1024,
        ram: 264 * 1024,
    },
    Board {
        name: "RP2350 (Pico 2, 4 MiB flash)",
        core: "Cortex-M33",
        triple: "thumbv8m.main-none-eabihf",
        flash: 4 * 1024 * 1024,
        ram: 520 * 1024,
    },
    Board {
        name: "ESP32-C3 (4 MiB flash)",
        core: "RISC-V RV32IMC",
        triple: "riscv32imc-unknown-none-elf",
        flash: 4 * 1024 * 1024,
        ram: 400 * 1024,
    },
    Board {
        name: "micro:bit v1 (nRF51822)",
        core: "Cortex-M0",
        triple: "thumbv6m-none-eabi",
        flash: 256 * 1024,
        ram: 16 * 1024,
    },
];

/// The profile of `triple` built for its default CPU (no `-C target-cpu`), if it was
/// measured.
pub fn target(triple: &str) -> Option<&'static TargetProfile> {
    target_for(triple, None)
}

/// The profile of `triple` built for `cpu` (`-C target-cpu`; `None`: the default CPU), if
/// that combination was measured.
pub fn target_for(triple: &str, cpu: Option<&str>) -> Option<&'static TargetProfile> {
    TARGETS.iter().find(|t| t.triple == triple && t.cpu == cpu)
}

impl TargetProfile {
    /// The target as `inspect` takes it: the triple, and `--cpu CPU` when built for one.
    pub fn name(&self) -> String {
        match self.cpu {
            Some(cpu) => format!("{} --cpu {cpu}", self.triple),
            None => self.triple.to_string(),
        }
    }

    /// The rates of `encoding`, if measured on this target.
    pub fn rates(&self, encoding: Encoding) -> Option<&'static Rates> {
        self.rates.iter().find(|r| r.encoding == encoding)
    }
}
