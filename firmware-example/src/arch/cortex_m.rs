//! Cortex-M: cortex-m-rt's entry point, a HardFault (or any other exception) that ends the run
//! with a failure, semihosting output and exit, SysTick for costs (with `sev` markers for the
//! instruction-counting QEMU plugin), and the memory figures from cortex-m-rt's linker symbols.

use cortex_m::peripheral::SYST;
use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_rt::{ExceptionFrame, entry, exception};
use cortex_m_semihosting::debug::{self, EXIT_FAILURE, EXIT_SUCCESS};
use cortex_m_semihosting::hio;
pub use cortex_m_semihosting::hio::{HostStream, hstdout};
use panic_semihosting as _;

use crate::Mem;
use crate::line::Line;

// VECTOR_INTERRUPTS: build.rs, for this target.
include!(concat!(env!("OUT_DIR"), "/target_consts.rs"));

/// SysTick counts down from this value on the core clock (24 bits).
const SYST_RELOAD: u32 = 0x00ff_ffff;

/// What cortex-m-rt (feature `paint-stack`) fills the stack with at reset.
pub const STACK_PAINT: u32 = cortex_m_rt::STACK_PAINT_VALUE;

#[entry]
fn main() -> ! {
    crate::start()
}

/// Starts SysTick on the core clock, free-running over its 24 bits.
pub fn start_counter() -> Result<(), &'static str> {
    let mut syst = cortex_m::Peripherals::take()
        .ok_or("peripherals taken")?
        .SYST;
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(SYST_RELOAD);
    syst.clear_current();
    syst.enable_counter();
    Ok(())
}

/// Starts a cost measurement: reads SysTick, then executes `sev`, the marker the
/// instruction-counting QEMU plugin (`tools/icount.c`) pairs up. Returns the reading.
#[inline(always)]
pub fn cost_start() -> u32 {
    let t0 = SYST::get_current();
    cortex_m::asm::sev();
    t0
}

/// Ends a cost measurement started at `t0`: `sev`, then SysTick ticks since `t0` (spans
/// under 2^24 ticks).
#[inline(always)]
pub fn cost_stop(t0: u32) -> u32 {
    cortex_m::asm::sev();
    t0.wrapping_sub(SYST::get_current()) & SYST_RELOAD
}

/// An undefined instruction, escalated to a HardFault (feature `fault-test`).
#[cfg(feature = "fault-test")]
pub fn undefined_instruction() -> ! {
    cortex_m::asm::udf()
}

/// The stack region `[_stack_end, _stack_start)` of cortex-m-rt's linker script.
pub fn stack_bounds() -> (usize, usize) {
    unsafe extern "C" {
        static _stack_end: u32;
        static _stack_start: u32;
    }
    (
        &raw const _stack_end as usize,
        &raw const _stack_start as usize,
    )
}

/// The current stack pointer.
#[inline(always)]
pub fn stack_pointer() -> usize {
    cortex_m::register::msp::read() as usize
}

/// Flash image size and statically allocated RAM, from cortex-m-rt's linker symbols: the
/// vector table, then everything from `__stext` to the end of `.data`'s load image (on most
/// boards the two are adjacent; on `mps3-an547` the code starts in another memory).
pub fn memory() -> Mem {
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
pub fn exit(ok: bool) -> ! {
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
