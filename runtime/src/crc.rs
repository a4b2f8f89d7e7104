//! CRC-32/IEEE of a blob's payload. Written here rather than taken from `crc32fast`: that
//! crate's slice-by-16 table is 16 KiB of flash (6 % of a 256 KiB board); this byte-at-a-time
//! loop needs one 1 KiB table, built at compile time, and costs a few instructions per byte
//! once per `Model::from_bytes`.

/// The reflected polynomial `0x04C11DB7`.
const POLY: u32 = 0xEDB8_8320;

/// `TABLE[b]`: the CRC register after shifting the byte `b` through it.
const TABLE: [u32; 256] = table();

// Evaluated at compile time only: an out-of-range index or overflow would be a build error.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
const fn table() -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { POLY ^ (c >> 1) } else { c >> 1 };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}

/// CRC-32/IEEE (ISO-HDLC: the zlib, PNG and Ethernet CRC) of `bytes`.
pub(crate) fn crc32(bytes: &[u8]) -> u32 {
    !bytes.iter().fold(!0u32, |c, &b| {
        let i = ((c ^ u32::from(b)) & 0xff) as usize;
        TABLE.get(i).copied().unwrap_or(0) ^ (c >> 8)
    })
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use std::vec::Vec;

    #[test]
    fn equals_the_standard_crc() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
        let mut rng = Rng::new(9);
        for len in [1usize, 7, 16, 1000, 65_537] {
            let data: Vec<u8> = (0..len).map(|_| (rng.uniform() * 256.0) as u8).collect();
            assert_eq!(crc32(&data), crc32fast::hash(&data), "{len} bytes");
        }
    }
}
