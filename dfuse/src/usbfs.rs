//! Linux: a control transfer as one blocking usbfs call (`USBDEVFS_CONTROL`).
//!
//! nusb completes every transfer on its event thread, which then wakes the waiting one:
//! two thread switches per request. A DfuSe flash is hundreds of short requests in a row,
//! each waited for, so [`UsbTransport`](crate::usb::UsbTransport) sends its requests
//! through the same open device file with this ioctl instead: the calling thread sleeps
//! in the kernel until the transfer is done (docs/PERFORMANCE.md). Claiming the interface
//! and choosing the alternate setting stay with nusb, on the same open file.
//!
//! The request and its structure are the kernel's `include/uapi/linux/usbdevice_fs.h`.

use std::ffi::c_void;
use std::fs::File;
use std::time::Duration;

use rustix::io::Errno;
use rustix::ioctl::{Ioctl, IoctlOutput, Opcode, ioctl, opcode};

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
