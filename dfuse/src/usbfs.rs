//! Linux: the device file's requests as one blocking usbfs call each.
//!
//! nusb completes every transfer on its event thread, which then wakes the waiting one:
//! two thread switches per request. A DfuSe flash is hundreds of short requests in a row,
//! each waited for, so [`UsbTransport`](crate::usb::UsbTransport) sends its requests
//! through the device file with `USBDEVFS_CONTROL` instead: the calling thread sleeps in
//! the kernel until the transfer is done (docs/PERFORMANCE.md). It claims the interface and
//! chooses the alternate setting here too, so that a flash starts no nusb device (nor its
//! event thread); nusb is asked only for a transfer over a page, which this call refuses.
//!
//! The requests and their structures are the kernel's `include/uapi/linux/usbdevice_fs.h`.

use std::ffi::c_void;
use std::fs::File;
use std::time::Duration;

use rustix::io::Errno;
use rustix::ioctl::{Ioctl, IoctlOutput, Opcode, Setter, ioctl, opcode};

use crate::transport::{OsError, TransportError};

/// The most one `USBDEVFS_CONTROL` call carries: the kernel refuses more than a page.
pub const MAX_LENGTH: usize = 4096;

/// `struct usbdevfs_ctrltransfer`.
#[repr(C)]
struct CtrlTransfer {
    request_type: u8,
    request: u8,
    value: u16,
    index: u16,
    length: u16,
    /// Milliseconds; 0 would wait for ever.
    timeout: u32,
    data: *mut c_void,
}

/// `USBDEVFS_CONTROL = _IOWR('U', 0, struct usbdevfs_ctrltransfer)`.
const USBDEVFS_CONTROL: Opcode = opcode::read_write::<CtrlTransfer>(b'U', 0);

/// One control transfer, as the ioctl's argument.
struct Control(CtrlTransfer);

// SAFETY: the opcode is USBDEVFS_CONTROL and the argument the kernel's own structure for it.
// `Usbfs::call`, the only place one is made, points `data` at a buffer of `length` bytes that
// outlives the call: a slice for an OUT request (which the kernel only reads), a Vec it owns
// for an IN request. The call's result is the number of bytes transferred.
unsafe impl Ioctl for Control {
    type Output = usize;
    const IS_MUTATING: bool = true;

    fn opcode(&self) -> Opcode {
        USBDEVFS_CONTROL
    }

    fn as_ptr(&mut self) -> *mut c_void {
        (&raw mut self.0).cast()
    }

    unsafe fn output_from_ptr(
        out: IoctlOutput,
        _: *mut c_void,
    ) -> rustix::io::Result<Self::Output> {
        usize::try_from(out).map_err(|_| Errno::INVAL)
    }
}

/// `struct usbdevfs_setinterface`.
#[repr(C)]
struct SetInterface {
    interface: u32,
    alt_setting: u32,
}

/// `struct usbdevfs_disconnect_claim`: claim an interface, detaching a kernel driver first.
#[repr(C)]
struct DisconnectClaim {
    interface: u32,
    flags: u32,
    driver: [u8; 256],
}

/// `struct usbdevfs_ioctl`: an ioctl passed on to the interface's driver.
#[repr(C)]
struct InterfaceIoctl {
    interface: u32,
    code: u32,
    data: *mut c_void,
}

/// `USBDEVFS_SETINTERFACE = _IOR('U', 4, struct usbdevfs_setinterface)`.
const USBDEVFS_SETINTERFACE: Opcode = opcode::read::<SetInterface>(b'U', 4);
/// `USBDEVFS_RELEASEINTERFACE = _IOR('U', 16, unsigned int)`.
const USBDEVFS_RELEASEINTERFACE: Opcode = opcode::read::<u32>(b'U', 16);
/// `USBDEVFS_IOCTL = _IOWR('U', 18, struct usbdevfs_ioctl)`.
const USBDEVFS_IOCTL: Opcode = opcode::read_write::<InterfaceIoctl>(b'U', 18);
/// `USBDEVFS_CONNECT = _IO('U', 23)`: let the kernel bind a driver to the interface again.
const USBDEVFS_CONNECT: Opcode = opcode::none(b'U', 23);
/// `USBDEVFS_DISCONNECT_CLAIM = _IOR('U', 27, struct usbdevfs_disconnect_claim)`.
const USBDEVFS_DISCONNECT_CLAIM: Opcode = opcode::read::<DisconnectClaim>(b'U', 27);
/// How long the kernel waits for a SET_INTERFACE (`USB_CTRL_SET_TIMEOUT`).
const SET_INTERFACE_TIMEOUT: Duration = Duration::from_secs(5);
/// Detach any driver but the one named (usbfs itself: another program's claim is kept).
const DISCONNECT_CLAIM_EXCEPT_DRIVER: u32 = 0x02;

/// The setup packet of a request, without its length (the buffer gives that).
#[derive(Clone, Copy, Debug)]
pub struct Setup {
    /// bmRequestType: direction, type and recipient.
    pub request_type: u8,
    /// bRequest.
    pub request: u8,
    /// wValue.
    pub value: u16,
    /// wIndex.
    pub index: u16,
}

/// An open usbfs device file (`/dev/bus/usb/BBB/DDD`), shared with nusb.
pub struct Usbfs {
    file: File,
}

impl Usbfs {
    /// Uses `file`, an open device file whose interface is (or will be) claimed through
    /// the same open file description.
    pub fn new(file: File) -> Usbfs {
        Usbfs { file }
    }

    /// A second handle on the same open file (for nusb, for a transfer over a page).
    pub fn share(&self) -> std::io::Result<File> {
        self.file.try_clone()
    }

    /// Claims `interface` for this open file, detaching a kernel driver bound to it first;
    /// another program's claim is not taken ([`TransportError::Busy`]).
    pub fn claim(&self, interface: u8) -> Result<(), TransportError> {
        let mut claim = DisconnectClaim {
            interface: u32::from(interface),
            flags: DISCONNECT_CLAIM_EXCEPT_DRIVER,
            driver: [0; 256],
        };
        claim.driver[..5].copy_from_slice(b"usbfs");
        // SAFETY: the opcode is USBDEVFS_DISCONNECT_CLAIM and the argument its structure.
        unsafe {
            ioctl(
                &self.file,
                Setter::<USBDEVFS_DISCONNECT_CLAIM, DisconnectClaim>::new(claim),
            )
        }
        .map_err(|errno| match errno {
            Errno::BUSY => TransportError::Busy(OsError::new(std::io::Error::from(errno))),
            other => error(other, SET_INTERFACE_TIMEOUT),
        })
    }

    /// Selects alternate setting `alt` of the claimed `interface` (SET_INTERFACE).
    pub fn set_alt(&self, interface: u8, alt: u8) -> Result<(), TransportError> {
        let setting = SetInterface {
            interface: u32::from(interface),
            alt_setting: u32::from(alt),
        };
        // SAFETY: the opcode is USBDEVFS_SETINTERFACE and the argument its structure.
        unsafe {
            ioctl(
                &self.file,
                Setter::<USBDEVFS_SETINTERFACE, SetInterface>::new(setting),
            )
        }
        .map_err(|errno| error(errno, SET_INTERFACE_TIMEOUT))
    }

    /// Releases `interface` and lets the kernel bind its driver again, if it has one (what
    /// closing the file alone would not do).
    pub fn release(&self, interface: u8) {
        // SAFETY: the opcode is USBDEVFS_RELEASEINTERFACE and the argument an unsigned int.
        let released = unsafe {
            ioctl(
                &self.file,
                Setter::<USBDEVFS_RELEASEINTERFACE, u32>::new(u32::from(interface)),
            )
        };
        if released.is_ok() {
            #[allow(clippy::unnecessary_cast)] // `Opcode` is wider than 32 bits on some targets
            let connect = InterfaceIoctl {
                interface: u32::from(interface),
                code: USBDEVFS_CONNECT as u32,
                data: std::ptr::null_mut(),
            };
            // SAFETY: the opcode is USBDEVFS_IOCTL and the argument its structure; CONNECT
            // takes no data. Nothing to do if it fails: the interface is free either way.
            let _ = unsafe {
                ioctl(
                    &self.file,
                    Setter::<USBDEVFS_IOCTL, InterfaceIoctl>::new(connect),
                )
            };
        }
    }

    /// Sends `data` (at most [`MAX_LENGTH`] bytes) to the device.
    pub fn control_out(
        &self,
        setup: Setup,
        data: &[u8],
        timeout: Duration,
    ) -> Result<(), TransportError> {
        // The kernel only reads an OUT request's buffer.
        let pointer = data.as_ptr().cast_mut().cast();
        self.call(setup, pointer, data.len(), timeout).map(|_| ())
    }

    /// Reads up to `length` (at most [`MAX_LENGTH`]) bytes from the device.
    pub fn control_in(
        &self,
        setup: Setup,
        length: u16,
        timeout: Duration,
    ) -> Result<Vec<u8>, TransportError> {
        let mut buffer = vec![0u8; usize::from(length)];
        let received = self.call(setup, buffer.as_mut_ptr().cast(), buffer.len(), timeout)?;
        buffer.truncate(received);
        Ok(buffer)
    }

    fn call(
        &self,
        setup: Setup,
        data: *mut c_void,
        length: usize,
        timeout: Duration,
    ) -> Result<usize, TransportError> {
        let length = u16::try_from(length)
            .ok()
            .filter(|&length| usize::from(length) <= MAX_LENGTH)
            .ok_or_else(|| {
                TransportError::Io(OsError::new(std::io::Error::other(format!(
                    "a control transfer of {length} bytes is over the {MAX_LENGTH} usbfs allows"
                ))))
            })?;
        let transfer = CtrlTransfer {
            request_type: setup.request_type,
            request: setup.request,
            value: setup.value,
            index: setup.index,
            length,
            timeout: u32::try_from(timeout.as_millis())
                .unwrap_or(u32::MAX)
                .max(1),
            data,
        };
        // SAFETY: see `impl Ioctl for Control`; the callers' buffers outlive this call.
        unsafe { ioctl(&self.file, Control(transfer)) }.map_err(|errno| error(errno, timeout))
    }
}

/// What a failed `USBDEVFS_CONTROL` means (usbfs and usb_control_msg's errors).
fn error(errno: Errno, timeout: Duration) -> TransportError {
    match errno {
        Errno::PIPE => TransportError::Stall,
        Errno::TIMEDOUT => TransportError::Timeout(timeout),
        Errno::NODEV | Errno::SHUTDOWN => TransportError::Disconnected,
        other => TransportError::Io(OsError::new(std::io::Error::from(other))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_pointer_width = "64")]
    fn the_request_number_is_the_kernels() {
        // _IOWR('U', 0, 24 bytes) on x86-64 and arm64: direction 3 << 30, size 24 << 16.
        assert_eq!(std::mem::size_of::<CtrlTransfer>(), 24);
        assert_eq!(USBDEVFS_CONTROL as u64, 0xC018_5500);
        // The others, as the kernel's headers give them on x86-64 and arm64.
        assert_eq!(USBDEVFS_SETINTERFACE as u64, 0x8008_5504);
        assert_eq!(USBDEVFS_RELEASEINTERFACE as u64, 0x8004_5510);
        assert_eq!(USBDEVFS_IOCTL as u64, 0xC010_5512);
        assert_eq!(USBDEVFS_CONNECT as u64, 0x5517);
        assert_eq!(USBDEVFS_DISCONNECT_CLAIM as u64, 0x8108_551B);
    }

    #[test]
    fn claiming_a_file_that_is_no_usb_device_fails_without_a_crash() {
        let usbfs = Usbfs::new(File::open("/dev/null").unwrap());
        assert!(usbfs.claim(0).is_err());
        assert!(usbfs.set_alt(0, 1).is_err());
        usbfs.release(0);
    }

    /// A file that is no USB device, and a DFU class request to interface 0.
    fn not_a_device(request_type: u8, request: u8, value: u16) -> (Usbfs, Setup) {
        let usbfs = Usbfs::new(File::open("/dev/null").unwrap());
        let setup = Setup {
            request_type,
            request,
            value,
            index: 0,
        };
        (usbfs, setup)
    }

    #[test]
    fn a_transfer_over_a_page_is_refused_before_the_kernel() {
        let (usbfs, setup) = not_a_device(0x21, 1, 2);
        let error = usbfs
            .control_out(setup, &[0; MAX_LENGTH + 1], Duration::from_secs(1))
            .unwrap_err();
        assert!(error.to_string().contains("4097 bytes"), "{error}");
    }

    #[test]
    fn a_file_that_is_no_usb_device_gives_an_error_not_a_crash() {
        let (usbfs, setup) = not_a_device(0xA1, 3, 0);
        assert!(matches!(
            usbfs.control_in(setup, 6, Duration::from_secs(1)),
            Err(TransportError::Io(_))
        ));
    }
}
