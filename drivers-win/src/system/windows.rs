//! The Windows side of [`super`]: certificate stores (crypt32), the driver store
//! (newdev, setupapi, cfgmgr32), the catalog API (wintrust) and elevation (shell32).

use std::os::windows::io::AsRawHandle;
use std::path::Path;

use der::Decode;
use sha1::{Digest, Sha1};
use windows::Win32::Devices::DeviceAndDriverInstallation::{
    CM_LOCATE_DEVNODE_NORMAL, CM_Locate_DevNodeW, CM_REENUMERATE_SYNCHRONOUS,
    CM_Reenumerate_DevNode, CR_SUCCESS, DIIRFLAG_FORCE_INF, DiInstallDriverW, INSTALLFLAG_FORCE,
    SUOI_FORCEDELETE, SetupUninstallOEMInfW, UpdateDriverForPlugAndPlayDevicesW,
};
use windows::Win32::Foundation::{CloseHandle, ERROR_CANCELLED, HANDLE};
use windows::Win32::Security::Cryptography::Catalog::{
    CRYPTCAT_OPEN_EXISTING, CRYPTCAT_VERSION_1, CryptCATAdminAcquireContext2,
    CryptCATAdminCalcHashFromFileHandle, CryptCATAdminCalcHashFromFileHandle2,
    CryptCATAdminReleaseContext, CryptCATClose, CryptCATEnumerateMember, CryptCATOpen,
};
use windows::Win32::Security::Cryptography::{
    CERT_CONTEXT, CERT_FIND_EXISTING, CERT_OPEN_STORE_FLAGS, CERT_QUERY_ENCODING_TYPE,
    CERT_STORE_ADD_REPLACE_EXISTING, CERT_STORE_PROV_SYSTEM_REGISTRY_W,
    CERT_SYSTEM_STORE_LOCAL_MACHINE, CertAddEncodedCertificateToStore, CertCloseStore,
    CertCreateCertificateContext, CertDeleteCertificateFromStore, CertEnumCertificatesInStore,
    CertFindCertificateInStore, CertFreeCertificateContext, CertOpenStore, HCERTSTORE,
    X509_ASN_ENCODING,
};
use windows::Win32::System::Threading::{GetExitCodeProcess, INFINITE, WaitForSingleObject};
use windows::Win32::UI::Shell::{
    IsUserAnAdmin, SEE_MASK_NOASYNC, SEE_MASK_NOCLOSEPROCESS, SHELLEXECUTEINFOW, ShellExecuteExW,
};
use windows::Win32::UI::WindowsAndMessaging::SW_HIDE;
use windows::core::{HRESULT, HSTRING, PCWSTR, w};

use super::SystemError;
use crate::package::{INF_MARKER, hardware_ids};
use crate::{CAT_NAME, HashKind, INF_NAME, Package, SIGNER_NAME_PREFIX, hex};

/// The machine stores the certificate goes into: trusted as a root, and as a publisher
/// so that Windows installs without asking.
const STORES: [&str; 2] = ["Root", "TrustedPublisher"];
/// SetupAPI's ERROR_NO_SUCH_DEVINST: no device with that ID is present.
const NO_SUCH_DEVINST: u32 = 0xE000_020B;

fn call(what: &str, error: windows::core::Error, done: &[String]) -> SystemError {
    SystemError::Call {
        what: what.into(),
        error: error.message().to_string(),
        done: done.to_vec(),
    }
}

pub fn is_elevated() -> bool {
    // SAFETY: no arguments; reads the process token.
    unsafe { IsUserAnAdmin().as_bool() }
}

/// A LocalMachine system store, closed on drop.
struct Store(HCERTSTORE, &'static str);

impl Store {
    fn open(name: &'static str) -> windows::core::Result<Store> {
        let wide = HSTRING::from(name);
        // SAFETY: `wide` outlives the call; the provider takes a wide store name.
        let handle = unsafe {
            CertOpenStore(
                CERT_STORE_PROV_SYSTEM_REGISTRY_W,
                CERT_QUERY_ENCODING_TYPE(0),
                None,
                CERT_OPEN_STORE_FLAGS(CERT_SYSTEM_STORE_LOCAL_MACHINE),
                Some(wide.as_ptr().cast()),
            )?
        };
        Ok(Store(handle, name))
    }

    /// Every certificate in the store, DER.
    fn certificates(&self) -> Vec<Vec<u8>> {
        let mut all = Vec::new();
        let mut context: *mut CERT_CONTEXT = std::ptr::null_mut();
        loop {
            // SAFETY: `context` is null or the previous context of this enumeration, which
            // this call frees.
            context = unsafe { CertEnumCertificatesInStore(self.0, Some(context)) };
            if context.is_null() {
                return all;
            }
            // SAFETY: a live context; its encoded bytes stay valid while it does.
            all.push(unsafe {
                let cert = &*context;
                std::slice::from_raw_parts(cert.pbCertEncoded, cert.cbCertEncoded as usize).to_vec()
            });
        }
    }

    /// Deletes the one certificate whose DER is `der`; says what happened.
    fn delete(&self, der: &[u8]) -> String {
        let name = subject(der);
        // SAFETY: `der` outlives the new context, which is freed here; the found context
        // is consumed by the delete.
        let result = unsafe {
            let wanted = CertCreateCertificateContext(X509_ASN_ENCODING, der);
            if wanted.is_null() {
                return format!("could not read certificate \"{name}\"");
            }
            let found = CertFindCertificateInStore(
                self.0,
                X509_ASN_ENCODING,
                0,
                CERT_FIND_EXISTING,
                Some(wanted as *const _),
                None,
            );
            let _ = CertFreeCertificateContext(Some(wanted));
            if found.is_null() {
                return format!(
                    "certificate \"{name}\" is no longer in LocalMachine\\{}",
                    self.1
                );
            }
            CertDeleteCertificateFromStore(found)
        };
        match result {
            Ok(()) => format!(
                "removed certificate \"{name}\" from LocalMachine\\{}",
                self.1
            ),
            Err(e) => format!(
                "could not remove certificate \"{name}\" from LocalMachine\\{}: {}",
                self.1,
                e.message()
            ),
        }
    }
}

/// A certificate's subject, as dfuse reads it (not through Windows).
fn subject(der: &[u8]) -> String {
    x509_cert::Certificate::from_der(der)
        .map(|cert| cert.tbs_certificate.subject.to_string())
        .unwrap_or_default()
}

/// Whether dfuse made this certificate: its subject's common name starts with the prefix.
fn made_by_dfuse(der: &[u8]) -> bool {
    subject(der).contains(&format!("CN={SIGNER_NAME_PREFIX} "))
}

impl Drop for Store {
    fn drop(&mut self) {
        // SAFETY: the handle came from CertOpenStore and is closed once.
        let _ = unsafe { CertCloseStore(Some(self.0), 0) };
    }
}

/// Deletes the certificates `pick` chooses (by DER) from both stores; says what happened.
/// The stores are read whole first and changed after, never while enumerating.
fn remove_certificates(pick: &dyn Fn(&[u8]) -> bool) -> Vec<String> {
    STORES
        .iter()
        .flat_map(|name| match Store::open(name) {
            Ok(store) => {
                let chosen: Vec<Vec<u8>> = store
                    .certificates()
                    .into_iter()
                    .filter(|der| pick(der))
                    .collect();
                chosen.iter().map(|der| store.delete(der)).collect()
            }
            Err(e) => vec![format!(
                "could not open LocalMachine\\{name}: {}",
                e.message()
            )],
        })
        .collect()
}

pub fn trust(cer: &[u8]) -> Result<Vec<String>, SystemError> {
    let thumbprint = hex(&Sha1::digest(cer));
    let mut done = Vec::new();
    for name in STORES {
        let added = Store::open(name).and_then(|store| {
            // SAFETY: `cer` is a DER certificate; the store handle is open.
            unsafe {
                CertAddEncodedCertificateToStore(
                    Some(store.0),
                    X509_ASN_ENCODING,
                    cer,
                    CERT_STORE_ADD_REPLACE_EXISTING,
                    None,
                )
            }
        });
        if let Err(error) = added {
            done.extend(remove_certificates(&|der| der == cer));
            return Err(call(
                &format!("adding the certificate to LocalMachine\\{name}"),
                error,
                &done,
            ));
        }
        done.push(format!(
            "added the package's certificate (SHA-1 thumbprint {thumbprint}) to LocalMachine\\{name}"
        ));
    }
    Ok(done)
}

pub fn install(package: &Package) -> Result<Vec<String>, SystemError> {
    if !is_elevated() {
        return Err(SystemError::NotElevated);
    }
    let dir =
        tempfile::tempdir().map_err(|e| call("making a folder for the package", e.into(), &[]))?;
    package.write(dir.path())?;
    let inf = HSTRING::from(dir.path().join(INF_NAME).as_os_str());
    let mut done = vec![
        "signed dfuse-winusb.cat with a certificate made for this computer; its key is gone"
            .to_string(),
    ];
    done.extend(trust(&package.cer)?);
    let mut reboot = windows::core::BOOL(0);
    // SAFETY: `inf` is a full path that outlives the call.
    if let Err(error) =
        unsafe { DiInstallDriverW(None, &inf, DIIRFLAG_FORCE_INF, Some(&mut reboot)) }
    {
        done.extend(remove_certificates(&|der| der == package.cer.as_slice()));
        return Err(call(
            "installing the package into the driver store (DiInstallDriverW)",
            error,
            &done,
        ));
    }
    done.push("installed dfuse-winusb.inf into the driver store (DiInstallDriverW)".into());
    let mut bound = 0;
    for id in hardware_ids(&String::from_utf8_lossy(&package.inf)) {
        let wide = HSTRING::from(id.as_str());
        // SAFETY: both strings outlive the call.
        match unsafe {
            UpdateDriverForPlugAndPlayDevicesW(
                None,
                &wide,
                &inf,
                INSTALLFLAG_FORCE,
                Some(&mut reboot),
            )
        } {
            Ok(()) => {
                bound += 1;
                done.push(format!("bound WinUSB to the plugged-in device {id}"));
            }
            Err(e) if e.code() == HRESULT(NO_SUCH_DEVINST as i32) => {}
            Err(e) => done.push(format!("could not bind WinUSB to {id}: {}", e.message())),
        }
    }
    if bound == 0 {
        done.push("no DfuSe board is plugged in: Windows binds WinUSB when one arrives".into());
    }
    let mut root = 0u32;
    // SAFETY: a null device ID locates the root of the device tree.
    let rescanned = unsafe {
        CM_Locate_DevNodeW(&mut root, PCWSTR::null(), CM_LOCATE_DEVNODE_NORMAL) == CR_SUCCESS
            && CM_Reenumerate_DevNode(root, CM_REENUMERATE_SYNCHRONOUS) == CR_SUCCESS
    };
    done.push(
        if rescanned {
            "rescanned the devices"
        } else {
            "could not rescan the devices: replug the board"
        }
        .into(),
    );
    if reboot.as_bool() {
        done.push("Windows asks for a restart to finish".into());
    }
    Ok(done)
}

/// The driver store's copies of dfuse's INF: `oem*.inf` files holding its marker line.
fn installed_infs() -> Vec<String> {
    let windir = std::env::var_os("WINDIR").unwrap_or_else(|| "C:\\Windows".into());
    let Ok(entries) = std::fs::read_dir(Path::new(&windir).join("INF")) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().to_string();
            let lower = name.to_ascii_lowercase();
            let ours = lower.starts_with("oem")
                && lower.ends_with(".inf")
                && std::fs::read(entry.path())
                    .is_ok_and(|bytes| String::from_utf8_lossy(&bytes).contains(INF_MARKER));
            ours.then_some(name)
        })
        .collect()
}

pub fn uninstall() -> Result<Vec<String>, SystemError> {
    if !is_elevated() {
        return Err(SystemError::NotElevated);
    }
    let mut done = Vec::new();
    for name in installed_infs() {
        let wide = HSTRING::from(name.as_str());
        // SAFETY: `wide` outlives the call.
        if unsafe { SetupUninstallOEMInfW(&wide, SUOI_FORCEDELETE, None) }.as_bool() {
            done.push(format!("removed {name} ({INF_NAME}) from the driver store"));
        } else {
            let error = windows::core::Error::from_thread();
            done.push(format!("could not remove {name}: {}", error.message()));
        }
    }
    if done.is_empty() {
        done.push("no dfuse package is in the driver store".into());
    }
    let removed = remove_certificates(&made_by_dfuse);
    if removed.is_empty() {
        done.push("no dfuse certificate is in LocalMachine\\Root or TrustedPublisher".into());
    }
    done.extend(removed);
    Ok(done)
}

/// Windows' hash of `path` under `kind`, through the catalog admin API.
fn windows_hash(path: &Path, kind: HashKind) -> windows::core::Result<Vec<u8>> {
    let file = std::fs::File::open(path)?;
    let handle = HANDLE(file.as_raw_handle());
    let mut hash = vec![0u8; 64];
    let mut len = hash.len() as u32;
    match kind {
        // SAFETY: `hash` holds `len` bytes; `handle` stays open with `file`.
        HashKind::Sha1 => unsafe {
            CryptCATAdminCalcHashFromFileHandle(handle, &mut len, Some(hash.as_mut_ptr()), None)
                .ok()?;
        },
        HashKind::Sha256 => unsafe {
            let mut admin = 0isize;
            CryptCATAdminAcquireContext2(&mut admin, None, w!("SHA256"), None, None)?;
            let result = CryptCATAdminCalcHashFromFileHandle2(
                admin,
                handle,
                &mut len,
                Some(hash.as_mut_ptr()),
                None,
            );
            let _ = CryptCATAdminReleaseContext(admin, 0);
            result?;
        },
    }
    hash.truncate(len as usize);
    Ok(hash)
}

pub fn check_catalog(dir: &Path) -> Result<Vec<String>, SystemError> {
    let cat = HSTRING::from(dir.join(CAT_NAME).as_os_str());
    // SAFETY: `cat` outlives the call; 0 means the default provider and encoding.
    let handle = unsafe { CryptCATOpen(&cat, CRYPTCAT_OPEN_EXISTING, 0, CRYPTCAT_VERSION_1, 0) };
    if handle.is_invalid() {
        return Err(call(
            "opening the catalog (CryptCATOpen)",
            windows::core::Error::from_thread(),
            &[],
        ));
    }
    let mut tags = Vec::new();
    let mut member = std::ptr::null_mut();
    loop {
        // SAFETY: `member` is null or the previous member of this open catalog.
        member = unsafe { CryptCATEnumerateMember(handle, member) };
        if member.is_null() {
            break;
        }
        // SAFETY: a member of the open catalog; its tag is a NUL-ended wide string.
        tags.push(unsafe { (*member).pwszReferenceTag.to_string() }.unwrap_or_default());
    }
    // SAFETY: opened above, closed once.
    let _ = unsafe { CryptCATClose(handle) };
    let mut found = vec![format!(
        "CryptCATOpen read {CAT_NAME}: {} members ({})",
        tags.len(),
        tags.join(", ")
    )];
    let inf = dir.join(INF_NAME);
    for kind in HashKind::ALL {
        let api = match kind {
            HashKind::Sha1 => "CryptCATAdminCalcHashFromFileHandle",
            HashKind::Sha256 => "CryptCATAdminCalcHashFromFileHandle2 (SHA256)",
        };
        match windows_hash(&inf, kind) {
            Ok(hash) => {
                let tag = hex(&hash);
                if !tags.iter().any(|t| t.eq_ignore_ascii_case(&tag)) {
                    return Err(SystemError::Call {
                        what: format!("finding {INF_NAME}'s hash in the catalog"),
                        error: format!("{api} says {tag}, which is not a member"),
                        done: found,
                    });
                }
                found.push(format!(
                    "{api}: {INF_NAME} hashes to {tag}, a member of the catalog"
                ));
            }
            Err(e) if kind == HashKind::Sha256 => {
                found.push(format!("{api} is not available here: {}", e.message()))
            }
            Err(e) => return Err(call(api, e, &found)),
        }
    }
    Ok(found)
}

/// One argument quoted for a Windows command line.
fn quote(arg: &str) -> String {
    if !arg.is_empty() && !arg.contains([' ', '\t', '"']) {
        return arg.to_string();
    }
    format!("\"{}\"", arg.replace('"', "\\\""))
}

pub fn run_elevated(args: &[String]) -> Result<u32, SystemError> {
    let exe = std::env::current_exe().map_err(|e| call("finding this program", e.into(), &[]))?;
    let exe = HSTRING::from(exe.as_os_str());
    let params = HSTRING::from(args.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" "));
    let mut info = SHELLEXECUTEINFOW {
        cbSize: std::mem::size_of::<SHELLEXECUTEINFOW>() as u32,
        fMask: SEE_MASK_NOCLOSEPROCESS | SEE_MASK_NOASYNC,
        lpVerb: w!("runas"),
        lpFile: PCWSTR(exe.as_ptr()),
        lpParameters: PCWSTR(params.as_ptr()),
        nShow: SW_HIDE.0,
        ..Default::default()
    };
    // SAFETY: every string in `info` outlives the call.
    if let Err(error) = unsafe { ShellExecuteExW(&mut info) } {
        if error.code() == HRESULT::from_win32(ERROR_CANCELLED.0) {
            return Err(SystemError::Declined);
        }
        return Err(call("starting dfuse as administrator", error, &[]));
    }
    let mut code = 1u32;
    // SAFETY: SEE_MASK_NOCLOSEPROCESS gave us the process handle, closed once here.
    unsafe {
        WaitForSingleObject(info.hProcess, INFINITE);
        let _ = GetExitCodeProcess(info.hProcess, &mut code);
        let _ = CloseHandle(info.hProcess);
    }
    Ok(code)
}
