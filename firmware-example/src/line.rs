//! Output lines over semihosting, without `core::fmt` for numbers (integers in decimal,
//! float bits in hex): formatting floats would cost ~15 KB of flash, and one semihosting
//! call per buffer instead of per fragment keeps the output fast.

use core::fmt::{self, Write};

use crate::arch::HostStream;

/// Bytes gathered before a semihosting write. Longer lines are written in pieces.
const CAP: usize = 128;

/// A line being built, written to `stream` when full and at [`Line::flush`].
pub struct Line {
    stream: HostStream,
    buf: [u8; CAP],
    len: usize,
    ok: bool,
}

impl Line {
    pub const fn new(stream: HostStream) -> Self {
        Line {
            stream,
            buf: [0; CAP],
            len: 0,
            ok: true,
        }
    }

    /// Whether every write so far reached the host.
    pub const fn ok(&self) -> bool {
        self.ok
    }

    fn write_out(&mut self) {
        let n = self.len;
        self.len = 0;
        if let Some(bytes) = self.buf.get(..n) {
            self.ok &= self.stream.write_all(bytes).is_ok();
        }
    }

    pub fn push_byte(&mut self, b: u8) {
        if self.len == CAP {
            self.write_out();
        }
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    pub fn push_str(&mut self, s: &str) {
        s.bytes().for_each(|b| self.push_byte(b));
    }

    /// `v` in decimal, no separator.
    pub fn push_dec_raw(&mut self, mut v: u64) {
        let mut digits = [0u8; 20];
        let mut n = 0;
        loop {
            digits[n] = b'0' + (v % 10) as u8;
            n += 1;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        digits[..n].iter().rev().for_each(|&d| self.push_byte(d));
    }

    /// A space, then `v` in decimal.
    pub fn push_dec(&mut self, v: u64) {
        self.push_byte(b' ');
        self.push_dec_raw(v);
    }

    fn push_hex(&mut self, v: u64, digits: u32) {
        self.push_byte(b' ');
        for i in (0..digits).rev() {
            let nibble = ((v >> (4 * i)) & 0xf) as u8;
            self.push_byte(if nibble < 10 {
                b'0' + nibble
            } else {
                b'a' + nibble - 10
            });
        }
    }

    /// A space, then `v` as 8 lower-case hex digits.
    pub fn push_hex32(&mut self, v: u32) {
        self.push_hex(u64::from(v), 8);
    }

    /// A space, then `v` as 16 lower-case hex digits.
    #[cfg_attr(feature = "annotate-only", allow(dead_code))]
    pub fn push_hex64(&mut self, v: u64) {
        self.push_hex(v, 16);
    }

    /// Anything `Display` (used for error messages only).
    pub fn push_display(&mut self, v: &dyn fmt::Display) {
        let _ = write!(self, "{v}");
    }

    /// Ends a partly written line, if there is one (before an error report).
    pub fn end_partial(&mut self) {
        if self.len > 0 {
            self.flush();
        }
    }

    /// Ends the line: writes what is left and a newline.
    pub fn flush(&mut self) {
        self.push_byte(b'\n');
        self.write_out();
    }
}

impl Write for Line {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push_str(s);
        Ok(())
    }
}
