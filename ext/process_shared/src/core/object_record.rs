//! How a serialized object is stored in a region (`SharedMemory#put_object`):
//! a 16-byte header, then the payload (the bytes `Marshal.dump` made).
//!
//! | bytes      | field                                                   |
//! |------------|---------------------------------------------------------|
//! | 0..4       | magic `"PSO\x01"` (process_shared object, format 1)     |
//! | 4..8       | CRC-32 (IEEE) of bytes 8..16+n, little-endian           |
//! | 8..16      | n, the payload length in bytes, little-endian           |
//! | 16..16+n   | payload                                                 |
//!
//! Zero-filled memory has no magic, so "nothing stored" is told apart from
//! a record. The length is checked against the room left in the region
//! before a single payload byte is read. The checksum covers the length and
//! the payload, so a truncated, corrupted or half-written record (another
//! process writing while we read) is refused instead of handed to Marshal.
//! The payload is copied out first and checked on the copy: what the caller
//! gets is exactly what was checked, whatever other processes do meanwhile.

use super::region::SharedRegion;
use std::fmt;
use std::mem::MaybeUninit;
use std::sync::atomic::{fence, Ordering};

/// Identifies a record, and its format version in the last byte.
pub const MAGIC: [u8; 4] = *b"PSO\x01";
/// Bytes before the payload.
pub const HEADER_LEN: usize = 16;

/// Why a record could not be written or read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordError {
    /// The offset lies past the end of the region (`IndexError`).
    OutsideRegion { offset: u64, size: usize },
    /// Header and payload do not fit between the offset and the end of the
    /// region; nothing was written (`IndexError`).
    DoesNotFit {
        offset: u64,
        payload_len: usize,
        size: usize,
    },
    /// No record at the offset: no magic there (`TypeError`).
    NoObject { offset: u64 },
    /// Something that starts like a record but is not a whole, intact one
    /// (`TypeError`).
    Corrupt { offset: u64, reason: &'static str },
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordError::OutsideRegion { offset, size } => {
                write!(f, "offset {offset} is outside the region of {size} byte(s)")
            }
            RecordError::DoesNotFit {
                offset,
                payload_len,
                size,
            } => write!(
                f,
                "the object takes {} byte(s) ({HEADER_LEN}-byte header + {payload_len} byte(s) of \
                 Marshal data), which do not fit at offset {offset} in a region of {size} byte(s)",
                *payload_len as u128 + HEADER_LEN as u128
            ),
            RecordError::NoObject { offset } => write!(f, "no object stored at offset {offset}"),
            RecordError::Corrupt { offset, reason } => {
                write!(f, "the object at offset {offset} is unreadable: {reason}")
            }
        }
    }
}

pub type RecordResult<T> = Result<T, RecordError>;

/// The checksum stored in the header: CRC-32 of the length field and the
/// payload.
fn checksum(length_field: [u8; 8], payload: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&length_field);
    hasher.update(payload);
    hasher.finalize()
}

/// The header for `payload`.
pub fn encode_header(payload: &[u8]) -> [u8; HEADER_LEN] {
    let length_field = (payload.len() as u64).to_le_bytes();
    let mut header = [0u8; HEADER_LEN];
    header[0..4].copy_from_slice(&MAGIC);
    header[4..8].copy_from_slice(&checksum(length_field, payload).to_le_bytes());
    header[8..16].copy_from_slice(&length_field);
    header
}

/// What a valid-looking header says about the payload after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Payload length in bytes; at most the room the header was checked
    /// against.
    pub length: usize,
    checksum: u32,
}

/// Checks a header read at `offset` with `room` bytes left after it.
pub fn decode_header(header: &[u8; HEADER_LEN], offset: u64, room: usize) -> RecordResult<Header> {
    let corrupt = |reason| RecordError::Corrupt { offset, reason };
    if header[0..4] != MAGIC {
        return Err(if header[0..4] == [0; 4] {
            RecordError::NoObject { offset }
        } else if header[0..3] == MAGIC[0..3] {
            corrupt("it was stored in another format version")
        } else {
            corrupt("no object header there")
        });
    }
    let [_, _, _, _, c0, c1, c2, c3, l0, l1, l2, l3, l4, l5, l6, l7] = *header;
    let checksum = u32::from_le_bytes([c0, c1, c2, c3]);
    let length = u64::from_le_bytes([l0, l1, l2, l3, l4, l5, l6, l7]);
    match usize::try_from(length) {
        Ok(length) if length <= room => Ok(Header { length, checksum }),
        _ => Err(corrupt("its length runs past the end of the region")),
    }
}

/// Where a record at `offset` would start, and the room after its header;
/// `NoObject` when not even a header fits there.
fn header_room(region: &SharedRegion, offset: u64) -> RecordResult<(*mut u8, usize)> {
    let outside = RecordError::OutsideRegion {
        offset,
        size: region.len(),
    };
    let at = region.span(offset, 0).map_err(|_| outside)?;
    // `span` accepted the offset, so it is at most `len`.
    let available = region.len() - offset as usize;
    let room = available
        .checked_sub(HEADER_LEN)
        .ok_or(RecordError::NoObject { offset })?;
    Ok((at, room))
}

/// Writes `payload` as a record at `offset`, or nothing when it does not fit.
///
/// The magic is cleared first and set last, so a reader racing the writer
/// most likely sees "no object"; the checksum catches every other overlap.
pub fn write(region: &SharedRegion, offset: u64, payload: &[u8]) -> RecordResult<()> {
    let does_not_fit = || RecordError::DoesNotFit {
        offset,
        payload_len: payload.len(),
        size: region.len(),
    };
    let total = payload
        .len()
        .checked_add(HEADER_LEN)
        .ok_or_else(does_not_fit)?;
    let at = region.span(offset, total).map_err(|_| does_not_fit())?;
    let header = encode_header(payload);
    // SAFETY: `span` checked `total` = HEADER_LEN + payload.len() bytes at
    // `at`. The sources are Rust values, which never alias the mapping.
    unsafe {
        std::ptr::write_bytes(at, 0, MAGIC.len());
        fence(Ordering::Release);
        std::ptr::copy_nonoverlapping(payload.as_ptr(), at.add(HEADER_LEN), payload.len());
        std::ptr::copy_nonoverlapping(header.as_ptr().add(4), at.add(4), HEADER_LEN - 4);
        fence(Ordering::Release);
        std::ptr::copy_nonoverlapping(header.as_ptr(), at, MAGIC.len());
    }
    Ok(())
}

/// Reads and checks the header of the record at `offset`. The payload it
/// announces is inside the region.
pub fn locate(region: &SharedRegion, offset: u64) -> RecordResult<Header> {
    let (at, room) = header_room(region, offset)?;
    let mut header = [0u8; HEADER_LEN];
    // SAFETY: `header_room` found at least HEADER_LEN bytes at `at`.
    unsafe { std::ptr::copy_nonoverlapping(at, header.as_mut_ptr(), HEADER_LEN) };
    fence(Ordering::Acquire);
    decode_header(&header, offset, room)
}

/// Copies the payload of the record `header` describes (from `locate` at the
/// same offset) into `out`, which must be exactly `header.length` long, and
/// checks it against the checksum. Returns `out`, now initialized.
pub fn read_payload<'a>(
    region: &SharedRegion,
    offset: u64,
    header: &Header,
    out: &'a mut [MaybeUninit<u8>],
) -> RecordResult<&'a [u8]> {
    let corrupt = |reason| RecordError::Corrupt { offset, reason };
    if out.len() != header.length {
        return Err(corrupt("the buffer does not match its length"));
    }
    let (at, room) = header_room(region, offset)?;
    if header.length > room {
        return Err(corrupt("its length runs past the end of the region"));
    }
    // SAFETY: `header_room` found HEADER_LEN + room bytes at `at`, and
    // length <= room; `out` is a Rust buffer of `length` bytes, so it does
    // not overlap the mapping. After the copy all of `out` is initialized.
    let payload = unsafe {
        std::ptr::copy_nonoverlapping(
            at.add(HEADER_LEN),
            out.as_mut_ptr().cast::<u8>(),
            header.length,
        );
        std::slice::from_raw_parts(out.as_ptr().cast::<u8>(), header.length)
    };
    let length_field = (header.length as u64).to_le_bytes();
    if checksum(length_field, payload) != header.checksum {
        return Err(corrupt(
            "its checksum does not match (corrupted, or being written right now)",
        ));
    }
    Ok(payload)
}

/// `locate` and `read_payload` into a new Vec.
pub fn read(region: &SharedRegion, offset: u64) -> RecordResult<Vec<u8>> {
    let header = locate(region, offset)?;
    let mut out = Vec::with_capacity(header.length);
    read_payload(
        region,
        offset,
        &header,
        &mut out.spare_capacity_mut()[..header.length],
    )?;
    // SAFETY: `read_payload` initialized the first `length` bytes.
    unsafe { out.set_len(header.length) };
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAYLOAD: &[u8] = b"\x04\x08[\x07I\"\x06a\x06:\x06ETI\"\x06b\x06;\x00T";

    #[test]
    fn headers_carry_magic_checksum_and_length() {
        let header = encode_header(PAYLOAD);
        assert_eq!(&header[0..4], b"PSO\x01");
        assert_eq!(
            u64::from_le_bytes(header[8..16].try_into().unwrap()),
            PAYLOAD.len() as u64
        );
        let decoded = decode_header(&header, 0, PAYLOAD.len()).unwrap();
        assert_eq!(decoded.length, PAYLOAD.len());
        assert_eq!(
            decoded.checksum,
            checksum((PAYLOAD.len() as u64).to_le_bytes(), PAYLOAD)
        );
    }

    #[test]
    fn records_round_trip_at_any_offset() {
        let region = SharedRegion::new(100).unwrap();
        write(&region, 0, PAYLOAD).unwrap();
        write(&region, 51, b"second").unwrap();
        assert_eq!(read(&region, 0).unwrap(), PAYLOAD);
        assert_eq!(read(&region, 51).unwrap(), b"second");
        write(&region, 0, b"").unwrap();
        assert_eq!(read(&region, 0).unwrap(), b"");
    }

    #[test]
    fn a_record_may_fill_the_region_exactly() {
        let region = SharedRegion::new(HEADER_LEN + 4).unwrap();
        write(&region, 0, b"1234").unwrap();
        assert_eq!(read(&region, 0).unwrap(), b"1234");
        write(&region, 1, b"123").unwrap();
        assert_eq!(read(&region, 1).unwrap(), b"123");
    }

    #[test]
    fn a_record_that_does_not_fit_writes_nothing() {
        let region = SharedRegion::new(HEADER_LEN + 4).unwrap();
        let err = write(&region, 0, b"12345").unwrap_err();
        assert_eq!(
            err,
            RecordError::DoesNotFit {
                offset: 0,
                payload_len: 5,
                size: HEADER_LEN + 4
            }
        );
        assert!(err.to_string().contains("21 byte(s)"));
        assert!(write(&region, 1, b"1234").is_err());
        assert!(write(&region, u64::MAX, b"").is_err());
        assert!(write(&region, 100, b"").is_err());
        assert_eq!(region.read_bytes(0, HEADER_LEN + 4).unwrap(), vec![0; 20]);
    }

    #[test]
    fn zero_filled_memory_holds_no_object() {
        let region = SharedRegion::new(64).unwrap();
        assert_eq!(
            read(&region, 0).unwrap_err(),
            RecordError::NoObject { offset: 0 }
        );
        assert_eq!(
            read(&region, 48).unwrap_err(),
            RecordError::NoObject { offset: 48 }
        );
    }

    #[test]
    fn offsets_too_close_to_the_end_for_a_header_hold_no_object() {
        let region = SharedRegion::new(64).unwrap();
        region.write_bytes(50, b"PSO\x01").unwrap();
        assert_eq!(
            read(&region, 50).unwrap_err(),
            RecordError::NoObject { offset: 50 }
        );
        assert_eq!(
            read(&region, 64).unwrap_err(),
            RecordError::NoObject { offset: 64 }
        );
    }

    #[test]
    fn offsets_past_the_end_are_outside_the_region() {
        let region = SharedRegion::new(64).unwrap();
        for offset in [65, u64::MAX] {
            assert_eq!(
                read(&region, offset).unwrap_err(),
                RecordError::OutsideRegion { offset, size: 64 }
            );
        }
    }

    #[test]
    fn other_bytes_are_not_taken_for_a_record() {
        let region = SharedRegion::new(64).unwrap();
        region.write_bytes(0, b"\x04\x08[\x06i\x06").unwrap();
        assert!(matches!(read(&region, 0), Err(RecordError::Corrupt { .. })));
        region.write_bytes(0, b"PSO\x02").unwrap();
        let err = read(&region, 0).unwrap_err();
        assert!(err.to_string().contains("format version"), "{err}");
    }

    #[test]
    fn lengths_past_the_region_are_refused_before_reading() {
        let region = SharedRegion::new(64).unwrap();
        write(&region, 0, b"abc").unwrap();
        for length in [64 - HEADER_LEN as u64 + 1, u64::MAX] {
            region.write_bytes(8, &length.to_le_bytes()).unwrap();
            let err = read(&region, 0).unwrap_err();
            assert!(err.to_string().contains("past the end"), "{err}");
        }
    }

    #[test]
    fn truncated_or_altered_records_fail_the_checksum() {
        let region = SharedRegion::new(64).unwrap();
        write(&region, 0, PAYLOAD).unwrap();
        let length = PAYLOAD.len() as u64;
        region.write_bytes(8, &(length - 1).to_le_bytes()).unwrap();
        assert!(read(&region, 0)
            .unwrap_err()
            .to_string()
            .contains("checksum"));

        write(&region, 0, PAYLOAD).unwrap();
        region.write::<u8>(HEADER_LEN as u64 + 5, b'z').unwrap();
        assert!(matches!(read(&region, 0), Err(RecordError::Corrupt { .. })));

        write(&region, 0, PAYLOAD).unwrap();
        region.write::<u8>(5, 0xff).unwrap();
        assert!(matches!(read(&region, 0), Err(RecordError::Corrupt { .. })));
    }

    #[test]
    fn a_buffer_of_the_wrong_length_is_refused() {
        let region = SharedRegion::new(64).unwrap();
        write(&region, 0, b"abc").unwrap();
        let header = locate(&region, 0).unwrap();
        let mut short = [MaybeUninit::new(0u8); 2];
        assert!(read_payload(&region, 0, &header, &mut short).is_err());
    }

    #[test]
    fn a_header_from_another_offset_cannot_read_past_the_end() {
        let region = SharedRegion::new(64).unwrap();
        write(&region, 0, &[7u8; 40]).unwrap();
        let header = locate(&region, 0).unwrap();
        let mut out = vec![MaybeUninit::new(0u8); header.length];
        assert!(read_payload(&region, 20, &header, &mut out).is_err());
    }
}
