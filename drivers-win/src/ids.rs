//! The hardware and compatible IDs Windows gives a USB device (or an interface of a composite one).

/// What Windows builds a USB device's IDs from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UsbIds {
    /// idVendor.
    pub vid: u16,
    /// idProduct.
    pub pid: u16,
    /// bcdDevice.
    pub rev: u16,
    /// Class, subclass and protocol: the device's, or its interface's when the device class is 0.
    pub class: (u8, u8, u8),
    /// For an interface of a composite device, its number (`&MI_nn`); `None` for a whole device.
    pub interface: Option<u8>,
}

impl UsbIds {
    /// Most specific first: `USB\VID_v&PID_p&REV_r[&MI_nn]`, `USB\VID_v&PID_p[&MI_nn]`.
    pub fn hardware_ids(&self) -> Vec<String> {
        let mi = self
            .interface
            .map(|n| format!("&MI_{n:02X}"))
            .unwrap_or_default();
        vec![
            format!(
                "USB\\VID_{:04X}&PID_{:04X}&REV_{:04X}{mi}",
                self.vid, self.pid, self.rev
            ),
            format!("USB\\VID_{:04X}&PID_{:04X}{mi}", self.vid, self.pid),
        ]
    }

    /// Most specific first: `USB\Class_cc&SubClass_ss&Prot_pp`, `USB\Class_cc&SubClass_ss`, `USB\Class_cc`.
    pub fn compatible_ids(&self) -> Vec<String> {
        let (class, subclass, protocol) = self.class;
        vec![
            format!("USB\\Class_{class:02X}&SubClass_{subclass:02X}&Prot_{protocol:02X}"),
            format!("USB\\Class_{class:02X}&SubClass_{subclass:02X}"),
            format!("USB\\Class_{class:02X}"),
        ]
    }
}
