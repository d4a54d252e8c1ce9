//! The simulated chips: descriptors, strings (quirks included), memory and timing.
//!
//! Timing follows the parts' datasheets (typical values): erase time per
//! sector is `erase_base_ms + erase_ms_per_kib * KiB`, programming time is per
//! write unit.

/// How a region behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegionKind {
    /// Flash: must be erased (0xFF) before it is written.
    Flash,
    /// Option bytes: written in place; writing them resets the device.
    OptionBytes,
    /// One-time programmable: written once, never erased.
    Otp,
    /// Read/write registers ("Device Feature").
    Feature,
}

/// One alternate setting of a simulated chip.
#[derive(Clone, Copy, Debug)]
pub struct Region {
    /// The iInterface string exactly as the ROM reports it.
    pub string: &'static str,
    /// How it behaves.
    pub kind: RegionKind,
    /// Initial contents: (address, bytes) pieces; the rest reads 0xFF.
    pub initial: &'static [(u32, &'static [u8])],
}

/// Where the read-protection level lives.
#[derive(Clone, Copy, Debug)]
pub struct Protection {
    /// Alternate setting of the option bytes.
    pub alt: u8,
    /// Address of the RDP byte.
    pub rdp_address: u32,
    /// RDP value meaning level 0 (no protection).
    pub level0: u8,
}

/// A simulated DfuSe bootloader.
#[derive(Clone, Copy, Debug)]
pub struct Chip {
    /// Lowercase part number, as in `sim:stm32f407`.
    pub id: &'static str,
    /// idVendor.
    pub vid: u16,
    /// idProduct.
    pub pid: u16,
    /// bcdDevice.
    pub bcd_device: u16,
    /// Manufacturer string.
    pub manufacturer: &'static str,
    /// Product string.
    pub product: &'static str,
    /// Serial number string.
    pub serial: &'static str,
    /// wTransferSize of the functional descriptor.
    pub transfer_size: u16,
    /// Flash programming unit in bytes: a shorter tail is silently dropped.
    pub write_unit: u32,
    /// The alternate settings.
    pub regions: &'static [Region],
    /// Read protection, when the chip has it.
    pub protection: Option<Protection>,
    /// The built-in option-byte layout (`dfuse/option-bytes/`) its write protection follows.
    pub option_layout: Option<&'static str>,
    /// Sector erase: fixed part.
    pub erase_base_ms: u32,
    /// Sector erase: per KiB of sector.
    pub erase_ms_per_kib: u32,
    /// Programming time per write unit, in microseconds.
    pub program_us_per_unit: u32,
    /// Mass erase time.
    pub mass_erase_ms: u32,
    /// A GETSTATUS that arrives while an operation runs is answered only when the
    /// operation ends, never "still busy": the ROM carries flash operations out inside
    /// its USB interrupt, so the request waits (docs/PROTOCOL.md).
    pub answers_when_done: bool,
}

const ST: &str = "STMicroelectronics";
// Factory option bytes, as each family's bootloader shows them (little-endian words).

/// RM0090 Rev 21, tables 15-16: USER 0xEF (BOR off, software watchdog, no reset
/// on Stop/Standby), RDP 0xAA, nWRP 0x0FFF (no sector protected).
const F4_BANK1: (u32, &[u8]) = (
    0x1FFF_C000,
    &[0xEF, 0xAA, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F],
);
const F4_OPTION_BYTES: &[(u32, &[u8])] = &[F4_BANK1];
/// The same, with bank 2's nWRP at 0x1FFE C008 (RM0090 table 17).
const F42X_OPTION_BYTES: &[(u32, &[u8])] = &[F4_BANK1, (0x1FFE_C008, &[0xFF, 0x0F])];
/// RM0091 Rev 10, table 12: 0x00FF55AA, then 0x00FF00FF three times.
const F0_OPTION_BYTES: &[(u32, &[u8])] = &[(
    0x1FFF_F800,
    &[
        0xAA, 0x55, 0xFF, 0x00, 0xFF, 0x00, 0xFF, 0x00, 0xFF, 0x00, 0xFF, 0x00, 0xFF, 0x00, 0xFF,
        0x00,
    ],
)];
/// RM0385 Rev 8, section 3.4.1: USER 0xFF, RDP 0xAA, nWRP 0xFF with the
/// watchdog bits set (0xC0FF), BOOT_ADD0 0x0080, BOOT_ADD1 0x0040.
const F7_OPTION_BYTES: &[(u32, &[u8])] = &[(
    0x1FFF_0000,
    &[
        0xFF, 0xAA, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xC0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFF, 0x80, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x40, 0x00,
    ],
)];
/// RM0351 Rev 9, section 3.4.1: FLASH_OPTR 0xFFEFF8AA, PCROP1 start 0xFFFF and
/// end 0 (none), WRP1A and WRP1B start 0xFF and end 0 (none); each word
/// followed by its complement.
const L4_OPTION_BYTES: &[(u32, &[u8])] = &[(
    0x1FFF_7800,
    &[
        0xAA, 0xF8, 0xEF, 0xFF, 0x55, 0x07, 0x10, 0x00, // OPTR
        0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, // PCROP1SR
        0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, // PCROP1ER
        0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, // WRP1AR
        0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, // WRP1BR
    ],
)];
/// RM0444 Rev 5, section 3.4.1: FLASH_OPTR 0xFFFFFEAA (BOR off, thresholds 3),
/// then PCROP1A and WRP1A/WRP1B as on the L4.
const G0_OPTION_BYTES: &[(u32, &[u8])] = &[(
    0x1FFF_7800,
    &[
        0xAA, 0xFE, 0xFF, 0xFF, 0x55, 0x01, 0x00, 0x00, // OPTR
        0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, // PCROP1ASR
        0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, // PCROP1AER
        0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, // WRP1AR
        0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, // WRP1BR
    ],
)];
/// RM0433 Rev 7, section 4.4: FLASH_OPTSR 0x13C6AAF0 (BOR level 0, software
/// watchdog, RDP 0xAA), WPSN 0xFF (no sector protected) and BOOT 0x1FF00800 in
/// each current/program register pair, bank 2's WPSN at 0x5200 2138.
const H7_OPTION_BYTES: &[(u32, &[u8])] = &[
    (
        0x5200_201C,
        &[0xF0, 0xAA, 0xC6, 0x13, 0xF0, 0xAA, 0xC6, 0x13],
    ),
    (
        0x5200_2038,
        &[
            0xFF, 0x00, 0x00, 0x00, 0xFF, 0x00, 0x00, 0x00, 0x00, 0x08, 0xF0, 0x1F, 0x00, 0x08,
            0xF0, 0x1F,
        ],
    ),
    (
        0x5200_2138,
        &[0xFF, 0x00, 0x00, 0x00, 0xFF, 0x00, 0x00, 0x00],
    ),
];
const GD_OPTION_BYTES: &[(u32, &[u8])] = &[(
    0x1FFF_F800,
    &[0xA5, 0x5A, 0xFF, 0x00, 0xFF, 0x00, 0xFF, 0x00],
)];
const FEATURE: &[(u32, &[u8])] = &[(0xFFFF_0000, &[0, 0, 0, 0])];

const fn region(
    string: &'static str,
    kind: RegionKind,
    initial: &'static [(u32, &'static [u8])],
) -> Region {
    Region {
        string,
        kind,
        initial,
    }
}

/// Every simulated chip.
pub const CHIPS: &[Chip] = &[
    Chip {
        id: "stm32f407",
        vid: 0x0483,
        pid: 0xDF11,
        bcd_device: 0x2200,
        manufacturer: ST,
        product: "STM32  BOOTLOADER",
        serial: "3276395A3032",
        transfer_size: 2048,
        write_unit: 4,
        regions: &[
            region(
                "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg",
                RegionKind::Flash,
                &[],
            ),
            region(
                "@Option Bytes  /0x1FFFC000/01*016 e",
                RegionKind::OptionBytes,
                F4_OPTION_BYTES,
            ),
            region(
                "@OTP Memory /0x1FFF7800/01*512 e,01*016 e",
                RegionKind::Otp,
                &[],
            ),
            region(
                "@Device Feature/0xFFFF0000/01*004 e",
                RegionKind::Feature,
                FEATURE,
            ),
        ],
        protection: Some(Protection {
            alt: 1,
            rdp_address: 0x1FFF_C001,
            level0: 0xAA,
        }),
        option_layout: Some("stm32f4.toml"),
        erase_base_ms: 125,
        erase_ms_per_kib: 7,
        program_us_per_unit: 16,
        mass_erase_ms: 8000,
        answers_when_done: true,
    },
    Chip {
        id: "stm32f429",
        vid: 0x0483,
        pid: 0xDF11,
        bcd_device: 0x2200,
        manufacturer: ST,
        product: "STM32  BOOTLOADER",
        serial: "2079347A5646",
        transfer_size: 2048,
        write_unit: 4,
        regions: &[
            // bLength 166 for 112 bytes of text: the host sees junk after the map.
            region(
                "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg,04*016Kg,01*064Kg,07*128Kg\u{0}\u{3412}\u{FFFF}\u{A5}",
                RegionKind::Flash,
                &[],
            ),
            region(
                "@Option Bytes  /0x1FFFC000/01*016 e/0x1FFEC000/01*016 e",
                RegionKind::OptionBytes,
                F42X_OPTION_BYTES,
            ),
            region(
                "@OTP Memory /0x1FFF7800/01*512 e,01*016 e",
                RegionKind::Otp,
                &[],
            ),
            region(
                "@Device Feature/0xFFFF0000/01*004 e",
                RegionKind::Feature,
                FEATURE,
            ),
        ],
        protection: Some(Protection {
            alt: 1,
            rdp_address: 0x1FFF_C001,
            level0: 0xAA,
        }),
        option_layout: Some("stm32f42x.toml"),
        erase_base_ms: 125,
        erase_ms_per_kib: 7,
        program_us_per_unit: 16,
        mass_erase_ms: 16000,
        answers_when_done: true,
    },
    Chip {
        id: "stm32f072",
        vid: 0x0483,
        pid: 0xDF11,
        bcd_device: 0x2200,
        manufacturer: ST,
        product: "STM32  BOOTLOADER",
        serial: "FFFFFFFEFFFF",
        transfer_size: 2048,
        write_unit: 2,
        regions: &[
            region(
                "@Internal Flash  /0x08000000/064*0002Kg",
                RegionKind::Flash,
                &[],
            ),
            region(
                "@Option Bytes  /0x1FFFF800/01*016 e",
                RegionKind::OptionBytes,
                F0_OPTION_BYTES,
            ),
        ],
        protection: Some(Protection {
            alt: 1,
            rdp_address: 0x1FFF_F800,
            level0: 0xAA,
        }),
        option_layout: Some("stm32f0.toml"),
        erase_base_ms: 20,
        erase_ms_per_kib: 0,
        program_us_per_unit: 53,
        mass_erase_ms: 40,
        answers_when_done: false,
    },
    Chip {
        id: "stm32f746",
        vid: 0x0483,
        pid: 0xDF11,
        bcd_device: 0x2200,
        manufacturer: ST,
        product: "STM32  BOOTLOADER",
        serial: "206A36705430",
        transfer_size: 2048,
        write_unit: 4,
        regions: &[
            region(
                "@Internal Flash  /0x08000000/04*032Kg,01*128Kg,03*256Kg",
                RegionKind::Flash,
                &[],
            ),
            region(
                "@Option Bytes  /0x1FFF0000/01*032 e",
                RegionKind::OptionBytes,
                F7_OPTION_BYTES,
            ),
        ],
        protection: Some(Protection {
            alt: 1,
            rdp_address: 0x1FFF_0001,
            level0: 0xAA,
        }),
        option_layout: Some("stm32f7.toml"),
        erase_base_ms: 125,
        erase_ms_per_kib: 7,
        program_us_per_unit: 16,
        mass_erase_ms: 16000,
        answers_when_done: false,
    },
    Chip {
        id: "stm32h743",
        vid: 0x0483,
        pid: 0xDF11,
        bcd_device: 0x0200,
        manufacturer: ST,
        product: "DFU in FS Mode",
        serial: "200364500000",
        transfer_size: 1024,
        write_unit: 32,
        regions: &[
            region(
                "@Internal Flash   /0x08000000/16*128Kg",
                RegionKind::Flash,
                &[],
            ),
            region(
                "@Option Bytes   /0x5200201C/01*297 e",
                RegionKind::OptionBytes,
                H7_OPTION_BYTES,
            ),
        ],
        protection: Some(Protection {
            alt: 1,
            rdp_address: 0x5200_201D,
            level0: 0xAA,
        }),
        option_layout: Some("stm32h7.toml"),
        erase_base_ms: 200,
        erase_ms_per_kib: 14,
        program_us_per_unit: 100,
        mass_erase_ms: 30000,
        answers_when_done: false,
    },
    Chip {
        id: "stm32l476",
        vid: 0x0483,
        pid: 0xDF11,
        bcd_device: 0x2200,
        manufacturer: ST,
        product: "STM32  BOOTLOADER",
        serial: "336F38703235",
        transfer_size: 2048,
        write_unit: 8,
        regions: &[
            region(
                "@Internal Flash  /0x08000000/512*0002Kg",
                RegionKind::Flash,
                &[],
            ),
            region(
                "@Option Bytes  /0x1FFF7800/01*040 e",
                RegionKind::OptionBytes,
                L4_OPTION_BYTES,
            ),
        ],
        protection: Some(Protection {
            alt: 1,
            rdp_address: 0x1FFF_7800,
            level0: 0xAA,
        }),
        option_layout: Some("stm32l4.toml"),
        erase_base_ms: 22,
        erase_ms_per_kib: 0,
        program_us_per_unit: 81,
        mass_erase_ms: 22,
        answers_when_done: false,
    },
    Chip {
        id: "stm32g0b1",
        vid: 0x0483,
        pid: 0xDF11,
        bcd_device: 0x0200,
        manufacturer: ST,
        product: "DFU in FS Mode",
        serial: "2052335E4E35",
        transfer_size: 1024,
        write_unit: 8,
        regions: &[
            // Every alternate setting carries the same name.
            region(
                "@Internal Flash   /0x08000000/256*02Kg",
                RegionKind::Flash,
                &[],
            ),
            region(
                "@Internal Flash   /0x1FFF7800/01*128 e",
                RegionKind::OptionBytes,
                G0_OPTION_BYTES,
            ),
        ],
        protection: Some(Protection {
            alt: 1,
            rdp_address: 0x1FFF_7800,
            level0: 0xAA,
        }),
        option_layout: Some("stm32g0.toml"),
        erase_base_ms: 22,
        erase_ms_per_kib: 0,
        program_us_per_unit: 85,
        mass_erase_ms: 22,
        answers_when_done: false,
    },
    Chip {
        id: "gd32vf103",
        vid: 0x28E9,
        pid: 0x0189,
        bcd_device: 0x1000,
        manufacturer: "GigaDevice",
        product: "GD32 DFU Bootloader",
        serial: "3CBJ",
        transfer_size: 2048,
        write_unit: 4,
        regions: &[
            region(
                "@Internal Flash  /0x08000000/128*001Kg",
                RegionKind::Flash,
                &[],
            ),
            region(
                "@Option Bytes  /0x1FFFF800/01*016 e",
                RegionKind::OptionBytes,
                GD_OPTION_BYTES,
            ),
        ],
        protection: Some(Protection {
            alt: 1,
            rdp_address: 0x1FFF_F800,
            level0: 0xA5,
        }),
        option_layout: None,
        erase_base_ms: 100,
        erase_ms_per_kib: 0,
        program_us_per_unit: 37,
        mass_erase_ms: 3200,
        answers_when_done: false,
    },
    Chip {
        id: "at32f415",
        vid: 0x2E3C,
        pid: 0xDF11,
        bcd_device: 0x0200,
        manufacturer: "ArteryTek",
        product: "DFU in FS Mode",
        serial: "AT32F415RCT7",
        transfer_size: 2048,
        write_unit: 4,
        regions: &[
            // A space after the slash before the count.
            region(
                "@Internal Flash  /0x08000000/ 128*02Kg",
                RegionKind::Flash,
                &[],
            ),
            region(
                "@Option Byte   /0x1FFFF800/01*048 e",
                RegionKind::OptionBytes,
                GD_OPTION_BYTES,
            ),
        ],
        protection: Some(Protection {
            alt: 1,
            rdp_address: 0x1FFF_F800,
            level0: 0xA5,
        }),
        option_layout: None,
        erase_base_ms: 50,
        erase_ms_per_kib: 0,
        program_us_per_unit: 42,
        mass_erase_ms: 2000,
        answers_when_done: false,
    },
    Chip {
        id: "stm32f205",
        vid: 0x2B04,
        pid: 0xD006,
        bcd_device: 0x0250,
        manufacturer: "Particle",
        product: "Photon DFU Mode",
        serial: "00000000010C",
        transfer_size: 4096,
        write_unit: 4,
        regions: &[
            // Particle's bootloader guards its own sectors as read-only ('a').
            region(
                "@Internal Flash   /0x08000000/03*016Ka,01*016Kg,01*064Kg,07*128Kg",
                RegionKind::Flash,
                &[],
            ),
            region("@DCT Flash   /0x00000000/01*016Kg", RegionKind::Flash, &[]),
        ],
        protection: None,
        option_layout: None,
        erase_base_ms: 125,
        erase_ms_per_kib: 7,
        program_us_per_unit: 16,
        mass_erase_ms: 8000,
        answers_when_done: true,
    },
];

/// The chip with this id, e.g. `stm32f407`.
pub fn find(id: &str) -> Option<&'static Chip> {
    CHIPS.iter().find(|chip| chip.id.eq_ignore_ascii_case(id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use dfuse::memory_map;

    #[test]
    fn every_region_string_parses_and_initial_data_fits() {
        for chip in CHIPS {
            for region in chip.regions {
                let parsed =
                    memory_map::parse(region.string).unwrap_or_else(|e| panic!("{}: {e}", chip.id));
                let size: u64 = parsed
                    .map
                    .segments
                    .iter()
                    .map(|s| s.end() - u64::from(s.address))
                    .sum();
                for (address, bytes) in region.initial {
                    let end = u64::from(*address) + bytes.len() as u64;
                    let inside = parsed
                        .map
                        .segments
                        .iter()
                        .any(|s| u64::from(s.address) <= u64::from(*address) && end <= s.end());
                    assert!(
                        inside,
                        "{}: initial bytes at {address:#X} outside the map",
                        chip.id
                    );
                }
                assert!(size > 0, "{}", chip.id);
            }
            assert!(chip.transfer_size.is_power_of_two(), "{}", chip.id);
        }
        assert_eq!(CHIPS.len(), 10);
        assert!(find("STM32F407").is_some());
        assert!(find("stm32f999").is_none());
    }
}
