//! RV32 (QEMU `virt`): riscv-rt's entry point, traps and panics that end the run with a
//! failure, semihosting output and exit, the retired-instruction counter `minstret` for costs,
//! and the memory figures from riscv-rt's linker symbols.

use riscv::register::{mcause, mepc, minstret, mtval};
use riscv_semihosting::debug::{self, EXIT_FAILURE, EXIT_SUCCESS};
pub use riscv_semihosting::hio::{HostStream, hstderr, hstdout};

use crate::Mem;
use crate::line::Line;

/// What the stack is painted with (the value cortex-m-rt uses).
pub const STACK_PAINT: u32 = 0xcccc_cccc;

/// riscv-rt does not paint the stack (cortex-m-rt does, feature `paint-stack`): it is painted
/// here, before anything else runs.
#[riscv_rt::entry]
fn main() -> ! {
    crate::stack::repaint();
    crate::start()
}

/// Nothing to start: `minstret` counts retired instructions from reset (exactly, and the same
/// on every run, under QEMU's `-icount shift=0`).
pub fn start_counter() -> Result<(), &'static str> {
    Ok(())
}

/// Starts a cost measurement: the low 32 bits of `minstret`.
#[inline(always)]
pub fn cost_start() -> u32 {
    minstret::read() as u32
}

/// Ends a cost measurement started at `t0`: instructions retired since `t0` (spans under
/// 2^32 instructions).
#[inline(always)]
pub fn cost_stop(t0: u32) -> u32 {
    (minstret::read() as u32).wrapping_sub(t0)
}

/// An illegal instruction, trapped by [`exception_handler`] (feature `fault-test`).
#[cfg(feature = "fault-test")]
pub fn undefined_instruction() -> ! {
    // SAFETY: `unimp` only raises an illegal-instruction exception, which does not return.
    unsafe { core::arch::asm!("unimp", options(noreturn, nomem, nostack)) }
}

/// The stack region `[__estack, _stack_start)` of riscv-rt's linker script (one hart).
pub fn stack_bounds() -> (usize, usize) {
    unsafe extern "C" {
        static __estack: u32;
        static _stack_start: u32;
    }
    (
        &raw const __estack as usize,
        &raw const _stack_start as usize,
    )
}

/// The current stack pointer.
#[inline(always)]
pub fn stack_pointer() -> usize {
    let sp: usize;
    // SAFETY: copies `sp` to a register; no memory access.
    unsafe {
        core::arch::asm!("mv {0}, sp", out(reg) sp, options(nomem, nostack, preserves_flags))
    };
    sp
}

/// Flash image size and statically allocated RAM, from riscv-rt's linker symbols: everything
/// from `__stext` (the entry point, at the start of the flash region) to the end of `.data`'s
/// load image, and RAM from `.data` to the bottom of the stack.
pub fn memory() -> Mem {
    unsafe extern "C" {
        static __stext: u32;
        static __sidata: u32;
        static __sdata: u32;
        static __edata: u32;
        static __estack: u32;
    }
    let stext = &raw const __stext as usize;
    let sidata = &raw const __sidata as usize;
    let sdata = &raw const __sdata as usize;
    let edata = &raw const __edata as usize;
    let estack = &raw const __estack as usize;
    Mem {
        flash: sidata + (edata - sdata) - stext,
        static_ram: estack - sdata,
    }
}

/// Semihosting exit. Never returns: if no debugger/QEMU listens, it waits for one.
pub fn exit(ok: bool) -> ! {
    debug::exit(if ok { EXIT_SUCCESS } else { EXIT_FAILURE });
    loop {
        riscv::asm::wfi();
    }
}

/// `TRAP mcause <hex> mepc <hex> mtval <hex>` on stderr, then exit with a failure.
fn trap() -> ! {
    if let Ok(err) = hstderr() {
        let mut line = Line::new(err);
        line.push_str("TRAP mcause");
        line.push_hex32(mcause::read().bits() as u32);
        line.push_str(" mepc");
        line.push_hex32(mepc::read() as u32);
        line.push_str(" mtval");
        line.push_hex32(mtval::read() as u32);
        line.flush();
    }
    exit(false)
}

/// Any exception (illegal instruction, access fault, misaligned access, …) ends the run with
/// a failure instead of spinning forever.
#[unsafe(export_name = "ExceptionHandler")]
extern "C" fn exception_handler(_frame: &riscv_rt::TrapFrame) -> ! {
    trap()
}

/// Any interrupt (none is enabled, so none is expected) also ends the run with a failure.
#[unsafe(export_name = "DefaultHandler")]
extern "C" fn default_handler() -> ! {
    trap()
}

/// A panic prints its message on stderr and exits with a failure (as panic-semihosting does
/// on Cortex-M).
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    if let Ok(err) = hstderr() {
        let mut line = Line::new(err);
        line.push_display(info);
        line.flush();
    }
    exit(false)
}

// `_pre_init_trap`: a trap in riscv-rt's start-up code, before `mtvec` points at its trap
// handler (a bad memory map, say), exits with a failure too. Nothing is set up yet, so it is
// the semihosting call itself: SYS_EXIT (0x18) with ADP_Stopped_RunTimeErrorUnknown
// (0x20023, exit status 1), the three-instruction sequence uncompressed and in one page.
core::arch::global_asm!(
    ".section .trap.pre_init, \"ax\"",
    ".balign 4",
    ".global _pre_init_trap",
    "_pre_init_trap:",
    "li a0, 0x18",
    "li a1, 0x20023",
    ".balign 16",
    ".option push",
    ".option norvc",
    "slli x0, x0, 0x1f",
    "ebreak",
    "srai x0, x0, 0x7",
    ".option pop",
    "1: j 1b",
);
