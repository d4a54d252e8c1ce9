//! Sans-IO DFU 1.1 and DfuSe: request encoding, reply decoding, block arithmetic.
//!
//! Nothing here sleeps or touches USB; a transport sends what this builds.

use std::fmt;

/// bmRequestType of class requests to an interface, host to device.
pub const REQUEST_TYPE_OUT: u8 = 0x21;
/// bmRequestType of class requests to an interface, device to host.
pub const REQUEST_TYPE_IN: u8 = 0xA1;

/// The DFU class requests (DFU 1.1 table 3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Request {
    /// DFU_DETACH (runtime mode only).
    Detach = 0,
    /// DFU_DNLOAD: wValue is the block number.
    Dnload = 1,
    /// DFU_UPLOAD: wValue is the block number.
    Upload = 2,
    /// DFU_GETSTATUS: 6 bytes back.
    GetStatus = 3,
    /// DFU_CLRSTATUS: leaves dfuERROR.
    ClrStatus = 4,
    /// DFU_GETSTATE: 1 byte back.
    GetState = 5,
    /// DFU_ABORT: back to dfuIDLE.
    Abort = 6,
}

impl Request {
    /// The request's name as the specification writes it.
    pub fn name(self) -> &'static str {
        match self {
            Request::Detach => "DFU_DETACH",
            Request::Dnload => "DFU_DNLOAD",
            Request::Upload => "DFU_UPLOAD",
            Request::GetStatus => "DFU_GETSTATUS",
            Request::ClrStatus => "DFU_CLRSTATUS",
            Request::GetState => "DFU_GETSTATE",
            Request::Abort => "DFU_ABORT",
        }
    }

    /// The request for a bRequest value.
    pub fn from_code(code: u8) -> Option<Request> {
        Some(match code {
            0 => Request::Detach,
            1 => Request::Dnload,
            2 => Request::Upload,
            3 => Request::GetStatus,
            4 => Request::ClrStatus,
            5 => Request::GetState,
            6 => Request::Abort,
            _ => return None,
        })
    }

    /// True for requests whose data stage goes device to host.
    pub fn is_in(self) -> bool {
        matches!(
            self,
            Request::Upload | Request::GetStatus | Request::GetState
        )
    }
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The 8-byte setup packet of a control transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Setup {
    /// bmRequestType.
    pub request_type: u8,
    /// bRequest.
    pub request: u8,
    /// wValue.
    pub value: u16,
    /// wIndex: the DFU interface number.
    pub index: u16,
    /// wLength.
    pub length: u16,
}

impl Setup {
    /// The setup packet of `request` to `interface` with `value` and a data stage of `length` bytes.
    pub fn new(request: Request, interface: u8, value: u16, length: u16) -> Setup {
        Setup {
            request_type: if request.is_in() {
                REQUEST_TYPE_IN
            } else {
                REQUEST_TYPE_OUT
            },
            request: request as u8,
            value,
            index: u16::from(interface),
            length,
        }
    }

    /// The packet's 8 bytes, little-endian as on the wire.
    pub fn to_bytes(self) -> [u8; 8] {
        let [v0, v1] = self.value.to_le_bytes();
        let [i0, i1] = self.index.to_le_bytes();
        let [l0, l1] = self.length.to_le_bytes();
        [self.request_type, self.request, v0, v1, i0, i1, l0, l1]
    }

    /// Decodes 8 setup bytes.
    pub fn from_bytes(bytes: [u8; 8]) -> Setup {
        Setup {
            request_type: bytes[0],
            request: bytes[1],
            value: u16::from_le_bytes([bytes[2], bytes[3]]),
            index: u16::from_le_bytes([bytes[4], bytes[5]]),
            length: u16::from_le_bytes([bytes[6], bytes[7]]),
        }
    }
}

/// The device states of DFU 1.1 (section 6.1.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// appIDLE (0).
    AppIdle,
    /// appDETACH (1).
    AppDetach,
    /// dfuIDLE (2).
    DfuIdle,
    /// dfuDNLOAD-SYNC (3).
    DnloadSync,
    /// dfuDNBUSY (4).
    DnBusy,
    /// dfuDNLOAD-IDLE (5).
    DnloadIdle,
    /// dfuMANIFEST-SYNC (6).
    ManifestSync,
    /// dfuMANIFEST (7).
    Manifest,
    /// dfuMANIFEST-WAIT-RESET (8).
    ManifestWaitReset,
    /// dfuUPLOAD-IDLE (9).
    UploadIdle,
    /// dfuERROR (10).
    Error,
    /// A value the specification does not define.
    Unknown(u8),
}

impl State {
    /// The state a bState byte stands for.
    pub fn from_byte(byte: u8) -> State {
        match byte {
            0 => State::AppIdle,
            1 => State::AppDetach,
            2 => State::DfuIdle,
            3 => State::DnloadSync,
            4 => State::DnBusy,
            5 => State::DnloadIdle,
            6 => State::ManifestSync,
            7 => State::Manifest,
            8 => State::ManifestWaitReset,
            9 => State::UploadIdle,
            10 => State::Error,
            other => State::Unknown(other),
        }
    }

    /// The bState byte.
    pub fn to_byte(self) -> u8 {
        match self {
            State::AppIdle => 0,
            State::AppDetach => 1,
            State::DfuIdle => 2,
            State::DnloadSync => 3,
            State::DnBusy => 4,
            State::DnloadIdle => 5,
            State::ManifestSync => 6,
            State::Manifest => 7,
            State::ManifestWaitReset => 8,
            State::UploadIdle => 9,
            State::Error => 10,
            State::Unknown(byte) => byte,
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            State::AppIdle => "appIDLE",
            State::AppDetach => "appDETACH",
            State::DfuIdle => "dfuIDLE",
            State::DnloadSync => "dfuDNLOAD-SYNC",
            State::DnBusy => "dfuDNBUSY",
            State::DnloadIdle => "dfuDNLOAD-IDLE",
            State::ManifestSync => "dfuMANIFEST-SYNC",
            State::Manifest => "dfuMANIFEST",
            State::ManifestWaitReset => "dfuMANIFEST-WAIT-RESET",
            State::UploadIdle => "dfuUPLOAD-IDLE",
            State::Error => "dfuERROR",
            State::Unknown(byte) => return write!(f, "unknown state {byte}"),
        };
        f.write_str(name)
    }
}

/// The bStatus codes of DFU 1.1 (section 6.1.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// OK (0x00).
    Ok,
    /// errTARGET (0x01).
    ErrTarget,
    /// errFILE (0x02).
    ErrFile,
    /// errWRITE (0x03).
    ErrWrite,
    /// errERASE (0x04).
    ErrErase,
    /// errCHECK_ERASED (0x05).
    ErrCheckErased,
    /// errPROG (0x06).
    ErrProg,
    /// errVERIFY (0x07).
    ErrVerify,
    /// errADDRESS (0x08).
    ErrAddress,
    /// errNOTDONE (0x09).
    ErrNotDone,
    /// errFIRMWARE (0x0A).
    ErrFirmware,
    /// errVENDOR (0x0B).
    ErrVendor,
    /// errUSBR (0x0C).
    ErrUsbr,
    /// errPOR (0x0D).
    ErrPor,
    /// errUNKNOWN (0x0E).
    ErrUnknown,
    /// errSTALLEDPKT (0x0F).
    ErrStalledPkt,
    /// A value the specification does not define.
    Unknown(u8),
}

const STATUSES: [(Status, &str, &str); 16] = [
    (Status::Ok, "OK", "no error condition is present"),
    (
        Status::ErrTarget,
        "errTARGET",
        "the file or address is not targeted for use by this device",
    ),
    (
        Status::ErrFile,
        "errFILE",
        "the file is for this device but fails a vendor-specific verification",
    ),
    (
        Status::ErrWrite,
        "errWRITE",
        "the device is unable to write memory",
    ),
    (
        Status::ErrErase,
        "errERASE",
        "the memory erase function failed",
    ),
    (
        Status::ErrCheckErased,
        "errCHECK_ERASED",
        "the memory erase check failed",
    ),
    (
        Status::ErrProg,
        "errPROG",
        "the program memory function failed",
    ),
    (
        Status::ErrVerify,
        "errVERIFY",
        "the programmed memory failed verification",
    ),
    (
        Status::ErrAddress,
        "errADDRESS",
        "cannot program memory: the address is out of range",
    ),
    (
        Status::ErrNotDone,
        "errNOTDONE",
        "a zero-length download came before the device had all the data",
    ),
    (
        Status::ErrFirmware,
        "errFIRMWARE",
        "the device's firmware is corrupt and cannot return to run-time operation",
    ),
    (
        Status::ErrVendor,
        "errVENDOR",
        "a vendor-specific error (on STM32: read protection is active)",
    ),
    (
        Status::ErrUsbr,
        "errUSBR",
        "the device detected an unexpected USB reset",
    ),
    (
        Status::ErrPor,
        "errPOR",
        "the device detected an unexpected power-on reset",
    ),
    (
        Status::ErrUnknown,
        "errUNKNOWN",
        "something went wrong, but the device does not know what",
    ),
    (
        Status::ErrStalledPkt,
        "errSTALLEDPKT",
        "the device stalled an unexpected request",
    ),
];

impl Status {
    /// The status a bStatus byte stands for.
    pub fn from_byte(byte: u8) -> Status {
        STATUSES
            .get(usize::from(byte))
            .map_or(Status::Unknown(byte), |(status, _, _)| *status)
    }

    /// The bStatus byte.
    pub fn to_byte(self) -> u8 {
        match self {
            Status::Unknown(byte) => byte,
            known => STATUSES
                .iter()
                .position(|(s, _, _)| *s == known)
                .unwrap_or(0) as u8,
        }
    }

    /// The specification's name, e.g. `errTARGET`.
    pub fn name(self) -> String {
        match STATUSES.get(usize::from(self.to_byte())) {
            Some((_, name, _)) if !matches!(self, Status::Unknown(_)) => (*name).to_string(),
            _ => format!("status {:#04X}", self.to_byte()),
        }
    }

    /// What the status means, in the words of DFU 1.1.
    pub fn meaning(self) -> &'static str {
        match self {
            Status::Unknown(_) => "a status code DFU 1.1 does not define",
            known => STATUSES
                .get(usize::from(known.to_byte()))
                .map_or("", |(_, _, meaning)| meaning),
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.meaning())
    }
}

/// A DFU_GETSTATUS reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StatusReply {
    /// bStatus.
    pub status: Status,
    /// bwPollTimeout: milliseconds to wait before the next GETSTATUS.
    pub poll_timeout_ms: u32,
    /// bState.
    pub state: State,
    /// iString: index of a status description string.
    pub string_index: u8,
}

impl StatusReply {
    /// Length of the reply on the wire.
    pub const LEN: usize = 6;

    /// Decodes a reply; `None` unless it is exactly 6 bytes.
    pub fn decode(bytes: &[u8]) -> Option<StatusReply> {
        let bytes: &[u8; 6] = bytes.try_into().ok()?;
        Some(StatusReply {
            status: Status::from_byte(bytes[0]),
            poll_timeout_ms: u32::from_le_bytes([bytes[1], bytes[2], bytes[3], 0]),
            state: State::from_byte(bytes[4]),
            string_index: bytes[5],
        })
    }

    /// The reply's 6 bytes (bwPollTimeout is clamped to its 24 bits).
    pub fn encode(self) -> [u8; 6] {
        let [t0, t1, t2, _] = self.poll_timeout_ms.min(0xFF_FFFF).to_le_bytes();
        [
            self.status.to_byte(),
            t0,
            t1,
            t2,
            self.state.to_byte(),
            self.string_index,
        ]
    }
}

/// The DfuSe commands, sent as DFU_DNLOAD with block 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Command {
    /// 0x21 + address: set the address pointer.
    SetAddress(u32),
    /// 0x41 + address: erase the page or sector holding the address.
    Erase(u32),
    /// 0x41 alone: erase the whole flash.
    MassErase,
    /// 0x92: remove read protection (mass-erases and resets the device).
    ReadUnprotect,
}

/// Command byte of set-address.
pub const CMD_SET_ADDRESS: u8 = 0x21;
/// Command byte of erase.
pub const CMD_ERASE: u8 = 0x41;
/// Command byte of read-unprotect.
pub const CMD_READ_UNPROTECT: u8 = 0x92;

impl Command {
    /// The command's DNLOAD payload.
    pub fn encode(self) -> Vec<u8> {
        let with_address = |code: u8, address: u32| {
            let mut bytes = vec![code];
            bytes.extend_from_slice(&address.to_le_bytes());
            bytes
        };
        match self {
            Command::SetAddress(address) => with_address(CMD_SET_ADDRESS, address),
            Command::Erase(address) => with_address(CMD_ERASE, address),
            Command::MassErase => vec![CMD_ERASE],
            Command::ReadUnprotect => vec![CMD_READ_UNPROTECT],
        }
    }

    /// Decodes a block-0 DNLOAD payload; `None` for anything else.
    pub fn decode(payload: &[u8]) -> Option<Command> {
        let address =
            |rest: &[u8]| -> Option<u32> { Some(u32::from_le_bytes(rest.try_into().ok()?)) };
        match payload.split_first()? {
            (&CMD_SET_ADDRESS, rest) => address(rest).map(Command::SetAddress),
            (&CMD_ERASE, []) => Some(Command::MassErase),
            (&CMD_ERASE, rest) => address(rest).map(Command::Erase),
            (&CMD_READ_UNPROTECT, []) => Some(Command::ReadUnprotect),
            _ => None,
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::SetAddress(address) => write!(f, "set address {address:#010X}"),
            Command::Erase(address) => write!(f, "erase sector at {address:#010X}"),
            Command::MassErase => f.write_str("mass erase"),
            Command::ReadUnprotect => f.write_str("read unprotect"),
        }
    }
}

/// The first block number that carries data (0 is commands, 1 is invalid).
pub const FIRST_DATA_BLOCK: u16 = 2;

/// The address DNLOAD/UPLOAD block `block` reaches: `pointer + (block - 2) * transfer_size`.
///
/// `None` for blocks 0 and 1 and for addresses past 4 GiB.
pub fn block_address(pointer: u32, block: u16, transfer_size: u16) -> Option<u32> {
    let index = block.checked_sub(FIRST_DATA_BLOCK)?;
    let offset = u64::from(index) * u64::from(transfer_size);
    u32::try_from(u64::from(pointer) + offset).ok()
}

/// The block that starts `offset` bytes after the pointer; `None` if that is not a block boundary or too far.
pub fn block_for_offset(offset: u64, transfer_size: u16) -> Option<u16> {
    if transfer_size == 0 || !offset.is_multiple_of(u64::from(transfer_size)) {
        return None;
    }
    let index = offset / u64::from(transfer_size);
    u16::try_from(index + u64::from(FIRST_DATA_BLOCK)).ok()
}

/// The DFU functional descriptor (type 0x21), as found in the configuration descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FunctionalDescriptor {
    /// bmAttributes: bit 0 CanDnload, 1 CanUpload, 2 ManifestationTolerant, 3 WillDetach.
    pub attributes: u8,
    /// wDetachTimeOut in milliseconds.
    pub detach_timeout_ms: u16,
    /// wTransferSize: the largest DNLOAD/UPLOAD block.
    pub transfer_size: u16,
    /// bcdDFUVersion (0x011A for DfuSe); 0x0100 when the descriptor is the 7-byte DFU 1.0 form.
    pub dfu_version: u16,
}

/// Descriptor type of the DFU functional descriptor.
pub const FUNCTIONAL_DESCRIPTOR_TYPE: u8 = 0x21;

impl FunctionalDescriptor {
    /// Decodes a 9-byte (DFU 1.1) or 7-byte (DFU 1.0) functional descriptor.
    pub fn decode(bytes: &[u8]) -> Option<FunctionalDescriptor> {
        let (&length, rest) = bytes.split_first()?;
        if usize::from(length) > bytes.len()
            || length < 7
            || rest.first() != Some(&FUNCTIONAL_DESCRIPTOR_TYPE)
        {
            return None;
        }
        let u16_at = |i: usize| u16::from_le_bytes([bytes[i], bytes[i + 1]]);
        Some(FunctionalDescriptor {
            attributes: bytes[2],
            detach_timeout_ms: u16_at(3),
            transfer_size: u16_at(5),
            dfu_version: if length >= 9 { u16_at(7) } else { 0x0100 },
        })
    }

    /// The 9 bytes of this descriptor.
    pub fn encode(self) -> [u8; 9] {
        let [d0, d1] = self.detach_timeout_ms.to_le_bytes();
        let [t0, t1] = self.transfer_size.to_le_bytes();
        let [v0, v1] = self.dfu_version.to_le_bytes();
        [
            9,
            FUNCTIONAL_DESCRIPTOR_TYPE,
            self.attributes,
            d0,
            d1,
            t0,
            t1,
            v0,
            v1,
        ]
    }

    /// bitCanDnload.
    pub fn can_download(self) -> bool {
        self.attributes & 0x01 != 0
    }

    /// bitCanUpload.
    pub fn can_upload(self) -> bool {
        self.attributes & 0x02 != 0
    }

    /// bitManifestationTolerant.
    pub fn manifestation_tolerant(self) -> bool {
        self.attributes & 0x04 != 0
    }

    /// bitWillDetach.
    pub fn will_detach(self) -> bool {
        self.attributes & 0x08 != 0
    }
}

#[cfg(test)]
mod tests;
