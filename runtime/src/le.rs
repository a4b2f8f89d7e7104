//! Little-endian `f32` arrays in byte slices, read and written without `unsafe` casts.

/// The `f32` values of a little-endian byte array (a trailing partial value is ignored).
pub(crate) fn f32s(bytes: &[u8]) -> impl Iterator<Item = f32> + '_ {
    bytes
        .as_chunks::<4>()
        .0
        .iter()
        .map(|c| f32::from_le_bytes(*c))
}

/// Row `row` of a little-endian `[rows][width]` `f32` matrix, as bytes (`None` when out of
/// range or `width == 0`).
pub(crate) fn row(bytes: &[u8], width: usize, row: usize) -> Option<&[u8]> {
    let start = row.checked_mul(width)?.checked_mul(4)?;
    let end = start.checked_add(width.checked_mul(4)?)?;
    if width == 0 {
        return None;
    }
    bytes.get(start..end)
}

/// Reads the `f32` values of `bytes` into `out` (as many as both hold).
pub(crate) fn read_f32s(bytes: &[u8], out: &mut [f32]) {
    for (o, v) in out.iter_mut().zip(f32s(bytes)) {
        *o = v;
    }
}

/// The `index`-th `f32` of a little-endian array.
pub(crate) fn f32_at(bytes: &[u8], index: usize) -> Option<f32> {
    bytes
        .as_chunks::<4>()
        .0
        .get(index)
        .map(|c| f32::from_le_bytes(*c))
}
