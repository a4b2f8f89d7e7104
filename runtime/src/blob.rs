//! The blob envelope: a 14-byte header, then the postcard-encoded [`Payload`].
//!
//! ```text
//! offset size field
//!      0    4 magic            b"PSE\0"
//!      4    2 format version   u16 little-endian (this runtime: FORMAT_VERSION)
//!      6    4 payload length   u32 little-endian, bytes after the header
//!     10    4 payload CRC-32   u32 little-endian, CRC-32/IEEE (ISO-HDLC) of the payload
//!     14    n payload          postcard(Payload)
//! ```
//!
//! [`encode`] validates the payload (as [`crate::Model::from_payload`] does) and writes the
//! blob into a caller buffer; [`decode`] checks the envelope and decodes the payload without
//! judging its contents; [`crate::Model::from_bytes`] does both checks. See `FORMAT.md`.

use crate::payload::{Payload, PayloadV1, PayloadV3};
use crate::{Error, Model};

/// The first four bytes of every blob.
pub const MAGIC: [u8; 4] = *b"PSE\0";
/// The format version this runtime writes; it reads this one and every older one
/// ([`OLDEST_VERSION`]..=`FORMAT_VERSION`).
pub const FORMAT_VERSION: u16 = 4;
/// The oldest format version this runtime reads.
pub const OLDEST_VERSION: u16 = 1;
/// Length of the header in bytes.
pub const HEADER_LEN: usize = 14;

/// The decoded header fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Format version.
    pub version: u16,
    /// Payload length in bytes.
    pub payload_len: u32,
    /// CRC-32 of the payload.
    pub crc: u32,
}

/// CRC-32/IEEE (the zlib / PNG / Ethernet CRC) of `bytes`.
pub fn crc32(bytes: &[u8]) -> u32 {
    crate::crc::crc32(bytes)
}

/// Reads the header: checks length, magic and version (in that order).
pub fn read_header(bytes: &[u8]) -> Result<Header, Error> {
    let Some((head, _)) = bytes.split_first_chunk::<HEADER_LEN>() else {
        return Err(Error::Truncated {
            needed: HEADER_LEN,
            got: bytes.len(),
        });
    };
    let [m0, m1, m2, m3, v0, v1, l0, l1, l2, l3, c0, c1, c2, c3] = *head;
    if [m0, m1, m2, m3] != MAGIC {
        return Err(Error::BadMagic);
    }
    let version = u16::from_le_bytes([v0, v1]);
    if !(OLDEST_VERSION..=FORMAT_VERSION).contains(&version) {
        return Err(Error::UnsupportedVersion {
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    Ok(Header {
        version,
        payload_len: u32::from_le_bytes([l0, l1, l2, l3]),
        crc: u32::from_le_bytes([c0, c1, c2, c3]),
    })
}

/// Checks the envelope (header, length, CRC) and decodes the payload, borrowing its arrays
/// from `bytes`. Does not check the payload's contents (shapes, and what the blob's version
/// may hold): use [`crate::Model::from_bytes`].
pub fn decode(bytes: &[u8]) -> Result<Payload<'_>, Error> {
    decode_versioned(bytes).map(|(_, p)| p)
}

/// [`decode`], also returning the blob's format version (for the content rules that depend
/// on it, which [`crate::Model::from_bytes`] applies).
pub(crate) fn decode_versioned(bytes: &[u8]) -> Result<(u16, Payload<'_>), Error> {
    let header = read_header(bytes)?;
    let declared = HEADER_LEN.saturating_add(header.payload_len as usize);
    if bytes.len() < declared {
        return Err(Error::Truncated {
            needed: declared,
            got: bytes.len(),
        });
    }
    if bytes.len() > declared {
        return Err(Error::LengthMismatch {
            declared,
            actual: bytes.len(),
        });
    }
    let payload = bytes.get(HEADER_LEN..).unwrap_or_default();
    let computed = crc32(payload);
    if computed != header.crc {
        return Err(Error::CrcMismatch {
            stored: header.crc,
            computed,
        });
    }
    let (p, rest) = match header.version {
        1 => postcard::take_from_bytes::<PayloadV1<'_>>(payload).map(|(p, r)| (p.into(), r)),
        2 | 3 => postcard::take_from_bytes::<PayloadV3<'_>>(payload).map(|(p, r)| (p.into(), r)),
        _ => postcard::take_from_bytes::<Payload<'_>>(payload),
    }
    .map_err(|_| Error::Decode)?;
    if !rest.is_empty() {
        return Err(Error::TrailingPayload { unread: rest.len() });
    }
    Ok((header.version, p))
}

/// Bytes [`encode`] writes for `payload` (validating it first).
pub fn encoded_len(payload: &Payload<'_>) -> Result<usize, Error> {
    Model::from_payload(*payload)?;
    raw_len(payload)
}

fn raw_len(payload: &Payload<'_>) -> Result<usize, Error> {
    let n = postcard::serialize_with_flavor::<_, _, usize>(
        payload,
        postcard::ser_flavors::Size::default(),
    )
    .map_err(|_| Error::Encode)?;
    HEADER_LEN.checked_add(n).ok_or(Error::Encode)
}

/// Validates `payload` (exactly as [`crate::Model::from_payload`]) and writes the blob to the
/// start of `out`; returns the number of bytes written ([`encoded_len`]).
pub fn encode(payload: &Payload<'_>, out: &mut [u8]) -> Result<usize, Error> {
    Model::from_payload(*payload)?;
    encode_unchecked(payload, out)
}

/// Writes the blob for `payload` WITHOUT validating it: for tests and tools that need blobs
/// the runtime rejects. Everything else should call [`encode`].
pub fn encode_unchecked(payload: &Payload<'_>, out: &mut [u8]) -> Result<usize, Error> {
    let total = raw_len(payload)?;
    if out.len() < total {
        return Err(Error::BufferTooSmall {
            needed: total,
            got: out.len(),
        });
    }
    let Some((head, body)) = out.split_first_chunk_mut::<HEADER_LEN>() else {
        return Err(Error::BufferTooSmall {
            needed: total,
            got: out.len(),
        });
    };
    let written = postcard::to_slice(payload, body).map_err(|_| Error::Encode)?;
    let len = written.len();
    let crc = crc32(written);
    let len32 = u32::try_from(len).map_err(|_| Error::Encode)?;
    let mut header = [0u8; HEADER_LEN];
    for (dst, src) in header.iter_mut().zip(
        MAGIC
            .iter()
            .chain(&FORMAT_VERSION.to_le_bytes())
            .chain(&len32.to_le_bytes())
            .chain(&crc.to_le_bytes()),
    ) {
        *dst = *src;
    }
    *head = header;
    Ok(HEADER_LEN.saturating_add(len))
}

/// Rewrites the header's CRC to match the payload (tests use it to craft blobs whose damage
/// lies past the CRC check). Does nothing to a buffer shorter than the header.
pub fn fix_crc(blob: &mut [u8]) {
    let Some((head, body)) = blob.split_first_chunk_mut::<HEADER_LEN>() else {
        return;
    };
    let crc = crc32(body).to_le_bytes();
    for (dst, src) in head.iter_mut().skip(10).zip(crc) {
        *dst = src;
    }
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    clippy::arithmetic_side_effects
)]
mod tests {
    use super::*;
    use crate::payload::Encoding;
    use crate::testutil::{OwnedModel, Spec, WireEncoder, WirePayload, blob_before_v4, to_blob};
    use std::vec;

    const ENCODINGS: [Encoding; 4] = [Encoding::F32, Encoding::F16, Encoding::I8, Encoding::I4];

    #[test]
    fn round_trip_each_encoding() {
        for enc in ENCODINGS {
            for spec in [Spec::tiny(enc), Spec::mnist(2, enc)] {
                let m = OwnedModel::random(&spec, 11);
                let p = m.payload();
                let blob = to_blob(&p);
                let back = decode(&blob).unwrap();
                assert_eq!(back, p, "{enc:?}");
                // Zero-copy: the decoded weights point into the blob.
                let w = match back.decoder.layers()[0].weights {
                    crate::payload::Weights::F32(w) | crate::payload::Weights::F16(w) => w,
                    crate::payload::Weights::I8 { q, .. }
                    | crate::payload::Weights::I4 { q, .. } => q,
                };
                let range = blob.as_ptr_range();
                assert!(range.contains(&w.as_ptr()));
                // And re-encoding the decoded payload gives the same bytes.
                assert_eq!(to_blob(&back), blob);
                let model = Model::from_bytes(&blob).unwrap();
                assert_eq!(model.latent_dim(), spec.d);
                assert_eq!(model.pixels(), spec.width * spec.height);
                assert_eq!(model.label_count(), spec.labels);
                assert_eq!(model.label_name(1), Some("label1"));
                assert_eq!(model.label_index("label2"), Some(2));
                assert_eq!(model.word_dim(), spec.word);
            }
        }
    }

    #[test]
    fn header_layout() {
        let m = OwnedModel::random(&Spec::tiny(Encoding::F32), 1);
        let blob = to_blob(&m.payload());
        assert_eq!(&blob[..4], b"PSE\0");
        assert_eq!(&blob[4..6], &[4, 0]);
        let len = u32::from_le_bytes(blob[6..10].try_into().unwrap()) as usize;
        assert_eq!(len, blob.len() - HEADER_LEN);
        let crc = u32::from_le_bytes(blob[10..14].try_into().unwrap());
        assert_eq!(crc, crc32(&blob[14..]));
        // CRC-32/IEEE check value.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(
            read_header(&blob).unwrap(),
            Header {
                version: 4,
                payload_len: len as u32,
                crc
            }
        );
    }

    /// A version-1 blob (the payload without the open-world field) decodes to the same
    /// payload with no open-world section; the same bytes labelled version 2 are refused.
    #[test]
    fn version_1_blobs_still_load() {
        let m = OwnedModel::random(&Spec::tiny(Encoding::I8), 4);
        let v1 = blob_before_v4(1, &m.payload());
        assert_eq!(decode(&v1).unwrap(), m.payload());
        assert!(Model::from_bytes(&v1).is_ok());
        // The same payload bytes labelled version 2 lack the open-world field.
        let relabelled = crate::testutil::envelope_version(2, &v1[HEADER_LEN..]);
        assert_eq!(decode(&relabelled), Err(Error::Decode));
    }

    #[test]
    fn version_2_blobs_load_without_what_version_3_added() {
        let refused = |b: &[u8]| Model::from_bytes(b).map(|_| ()).unwrap_err();
        let m = OwnedModel::random(&Spec::tiny(Encoding::I8), 5);
        assert_eq!(
            decode(&blob_before_v4(2, &m.payload())).unwrap(),
            m.payload()
        );
        // Int4 weights and a blob without a decoder are version 3's.
        let i4 = OwnedModel::random(&Spec::tiny(Encoding::I4), 5);
        assert!(Model::from_bytes(&blob_before_v4(3, &i4.payload())).is_ok());
        assert_eq!(refused(&blob_before_v4(2, &i4.payload())), Error::Decode);
        let mut annotate_only = m.clone();
        annotate_only.decoder.clear();
        assert!(Model::from_bytes(&blob_before_v4(3, &annotate_only.payload())).is_ok());
        assert_eq!(
            refused(&blob_before_v4(2, &annotate_only.payload())),
            Error::MissingLayers {
                part: crate::error::Part::Decoder
            }
        );
    }

    /// Version 4 wraps the encoder in an `Option` (a blob for generation only has none):
    /// version 3 bytes labelled 4 are refused, and each version reads its own layout to the
    /// same payload.
    #[test]
    fn version_3_blobs_load_and_version_4_may_lack_the_encoder() {
        let m = OwnedModel::random(&Spec::tiny(Encoding::I4), 6);
        let v3 = blob_before_v4(3, &m.payload());
        let v4 = to_blob(&m.payload());
        assert_eq!(decode(&v3).unwrap(), decode(&v4).unwrap());
        assert_eq!(v4.len(), v3.len() + 1, "the encoder's Option tag");
        let relabelled = crate::testutil::envelope_version(4, &v3[HEADER_LEN..]);
        assert_eq!(
            Model::from_bytes(&relabelled).map(|_| ()),
            Err(Error::Decode)
        );
        let mut generate_only = m.clone();
        generate_only.encoder = false;
        let blob = to_blob(&generate_only.payload());
        let model = Model::from_bytes(&blob).unwrap();
        assert!(!model.has_encoder() && model.has_decoder());
    }

    #[test]
    fn chain_writes_the_same_bytes_as_a_slice() {
        let m = OwnedModel::random(&Spec::tiny(Encoding::I8), 3);
        let p = m.payload();
        let (trunk, decoder) = (m.trunk_layers(), m.decoder_layers());
        let e = p.encoder.unwrap();
        let wire = WirePayload {
            kind: p.kind,
            latent_dim: p.latent_dim,
            image_width: p.image_width,
            image_height: p.image_height,
            unknown_threshold: p.unknown_threshold,
            labels: p.labels,
            label_encoder: p.label_encoder,
            encoder: Some(WireEncoder {
                trunk: &trunk,
                mu: e.mu,
                logvar: e.logvar,
            }),
            decoder: &decoder,
            open_world: None,
        };
        let mut x = vec![0u8; 1 << 16];
        let mut y = vec![0u8; 1 << 16];
        let xs = postcard::to_slice(&p, &mut x).unwrap().len();
        let ys = postcard::to_slice(&wire, &mut y).unwrap().len();
        assert_eq!(&x[..xs], &y[..ys]);
    }

    #[test]
    fn encode_checks_buffer_and_validates() {
        let m = OwnedModel::random(&Spec::tiny(Encoding::F16), 5);
        let p = m.payload();
        let n = encoded_len(&p).unwrap();
        let mut small = vec![0u8; n - 1];
        assert_eq!(
            encode(&p, &mut small),
            Err(Error::BufferTooSmall {
                needed: n,
                got: n - 1
            })
        );
        let mut big = vec![0u8; n + 10];
        assert_eq!(encode(&p, &mut big), Ok(n));
        assert!(Model::from_bytes(&big[..n]).is_ok());
        let mut bad = p;
        bad.latent_dim = 0;
        assert!(matches!(
            encode(&bad, &mut big),
            Err(Error::DimensionOutOfRange { .. })
        ));
        assert!(matches!(
            encoded_len(&bad),
            Err(Error::DimensionOutOfRange { .. })
        ));
    }
}
