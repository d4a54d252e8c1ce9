//! The 16-byte DFU suffix (DFU 1.1 appendix B, UM0391) and its CRC.

use crate::error::{Error, Result};

/// Length of the standard suffix.
pub const SUFFIX_LEN: usize = 16;

/// bcdDFU written in DfuSe files.
pub const BCD_DFU_DFUSE: u16 = 0x011A;

/// bcdDFU of plain DFU 1.0 files (what `dfu-suffix` writes).
pub const BCD_DFU_1_0: u16 = 0x0100;

/// The "any" value of the suffix's device identification fields.
pub const ANY_ID: u16 = 0xFFFF;

const SIGNATURE: &[u8; 3] = b"UFD";
const CRC_ALGORITHM: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_JAMCRC);

/// The device a file is meant for, as the suffix names it (0xFFFF means any).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceIds {
    /// idVendor.
    pub vid: u16,
    /// idProduct.
    pub pid: u16,
    /// bcdDevice.
    pub bcd_device: u16,
}

impl Default for DeviceIds {
    /// The STM32 system bootloader (0483:DF11), any bcdDevice.
    fn default() -> Self {
        DeviceIds {
            vid: 0x0483,
            pid: 0xDF11,
            bcd_device: ANY_ID,
        }
    }
}

/// A decoded suffix and the verdict on its CRC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Suffix {
    /// Device identification fields.
    pub ids: DeviceIds,
    /// bcdDFU: 0x011A for DfuSe, 0x0100 or 0x0110 for plain DFU.
    pub bcd_dfu: u16,
    /// bLength: bytes of suffix at the end of the file (16 in practice).
    pub length: u8,
    /// dwCRC as stored.
    pub stored_crc: u32,
    /// CRC computed over the file.
    pub computed_crc: u32,
}

impl Suffix {
    /// True when the stored CRC matches the file.
    pub fn crc_ok(&self) -> bool {
        self.stored_crc == self.computed_crc
    }

    /// The CRC mismatch as an error, if there is one.
    pub fn crc_error(&self) -> Option<Error> {
        (!self.crc_ok()).then_some(Error::CrcMismatch {
            stored: self.stored_crc,
            computed: self.computed_crc,
        })
    }
}

/// CRC-32/JAMCRC (reflected, init 0xFFFFFFFF, no final XOR), as UM0391 specifies.
pub fn crc32(bytes: &[u8]) -> u32 {
    CRC_ALGORITHM.checksum(bytes)
}

/// Finds the suffix at the end of `file`; `Ok(None)` when its signature is absent.
pub fn find(file: &[u8]) -> Result<Option<Suffix>> {
    let Some(start) = file.len().checked_sub(SUFFIX_LEN) else {
        return Ok(None);
    };
    let tail = &file[start..];
    if &tail[8..11] != SIGNATURE {
        return Ok(None);
    }
    let length = tail[11];
    if usize::from(length) < SUFFIX_LEN || usize::from(length) > file.len() {
        return Err(Error::BadSuffixLength {
            offset: start + 11,
            length,
            file_len: file.len(),
        });
    }
    let u16_at = |i: usize| u16::from_le_bytes([tail[i], tail[i + 1]]);
    Ok(Some(Suffix {
        ids: DeviceIds {
            bcd_device: u16_at(0),
            pid: u16_at(2),
            vid: u16_at(4),
        },
        bcd_dfu: u16_at(6),
        length,
        stored_crc: u32::from_le_bytes([tail[12], tail[13], tail[14], tail[15]]),
        computed_crc: crc32(&file[..file.len() - 4]),
    }))
}

/// Appends a 16-byte suffix with a correct CRC to `file`.
pub fn append(file: &mut Vec<u8>, ids: DeviceIds, bcd_dfu: u16) {
    file.extend_from_slice(&ids.bcd_device.to_le_bytes());
    file.extend_from_slice(&ids.pid.to_le_bytes());
    file.extend_from_slice(&ids.vid.to_le_bytes());
    file.extend_from_slice(&bcd_dfu.to_le_bytes());
    file.extend_from_slice(SIGNATURE);
    file.push(SUFFIX_LEN as u8);
    let crc = crc32(file);
    file.extend_from_slice(&crc.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_is_the_complement_of_zlib_crc32() {
        // zlib's crc32("123456789") is 0xCBF43926; JAMCRC is its bitwise NOT.
        assert_eq!(crc32(b"123456789"), !0xCBF4_3926);
    }

    #[test]
    fn appended_suffix_is_found_with_a_good_crc() {
        let mut file = b"payload".to_vec();
        let ids = DeviceIds {
            vid: 0x0483,
            pid: 0xDF11,
            bcd_device: 0x2200,
        };
        append(&mut file, ids, BCD_DFU_DFUSE);
        assert_eq!(file.len(), 7 + SUFFIX_LEN);
        let suffix = find(&file).unwrap().unwrap();
        assert_eq!(suffix.ids, ids);
        assert_eq!(suffix.bcd_dfu, 0x011A);
        assert_eq!(suffix.length, 16);
        assert!(suffix.crc_ok());
    }

    #[test]
    fn flipped_byte_is_a_crc_mismatch() {
        let mut file = b"payload".to_vec();
        append(&mut file, DeviceIds::default(), BCD_DFU_1_0);
        file[0] ^= 1;
        let suffix = find(&file).unwrap().unwrap();
        assert!(!suffix.crc_ok());
        assert!(matches!(
            suffix.crc_error(),
            Some(Error::CrcMismatch { .. })
        ));
    }

    #[test]
    fn short_or_unsigned_files_have_no_suffix() {
        assert_eq!(find(b"UFD").unwrap(), None);
        assert_eq!(find(&[0u8; 40]).unwrap(), None);
    }

    #[test]
    fn impossible_length_is_an_error_naming_its_offset() {
        let mut file = vec![0u8; 8];
        file.extend_from_slice(b"UFD");
        file.push(3);
        file.extend_from_slice(&[0; 4]);
        let err = find(&file).unwrap_err();
        assert_eq!(
            err,
            Error::BadSuffixLength {
                offset: 11,
                length: 3,
                file_len: 16
            }
        );
        assert!(err.to_string().contains("offset 0xB"));
    }
}
