//! The signed driver package: the INF, its catalog signed by a certificate made
//! for this package alone, and that certificate, written to a folder; and the
//! check that such a folder is whole. See docs/WINDOWS-DRIVER.md.

use std::path::Path;
use std::time::SystemTime;

use der::Encode;
use rand_core::{OsRng, RngCore};

use crate::catalog::{self, HashKind, Member};
use crate::signing::{self, Signer, SigningError};
use crate::{Inf, SHIPPED_INF};

/// The INF's file name (its `[Version]` names the catalog below).
pub const INF_NAME: &str = "dfuse-winusb.inf";
/// The catalog's file name, as the INF's `CatalogFile` says.
pub const CAT_NAME: &str = "dfuse-winusb.cat";
/// The signer's certificate (DER), for the machine's certificate stores.
pub const CER_NAME: &str = "dfuse-winusb.cer";

/// What went wrong building, writing or checking a package.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// Making or reading the signature failed.
    #[error("the catalog: {0}")]
    Signing(#[from] SigningError),
    /// A file could not be written or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The catalog does not cover the INF as it is.
    #[error("{0}")]
    Mismatch(String),
}

impl From<der::Error> for PackageError {
    fn from(error: der::Error) -> Self {
        PackageError::Signing(SigningError::Der(error))
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> PackageError + '_ {
    move |source| PackageError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// The largest file [`check_dir`] reads: dfuse's are a few kilobytes.
const MAX_FILE: u64 = 1 << 20;

/// A signed package in memory.
pub struct Package {
    /// The INF's bytes.
    pub inf: Vec<u8>,
    /// The signed catalog (DER).
    pub cat: Vec<u8>,
    /// The signer's certificate (DER).
    pub cer: Vec<u8>,
}

/// A line of the shipped INF that marks a driver-store copy as dfuse's.
#[cfg_attr(not(windows), allow(dead_code))]
pub(crate) const INF_MARKER: &str = "dfuse-winusb.inf: binds Windows' own WinUSB driver";

/// The distinct hardware IDs the INF's models name, in file order.
pub(crate) fn hardware_ids(inf: &str) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for entry in Inf::parse(inf).map(|inf| inf.entries).unwrap_or_default() {
        if let Some(id) = entry.ids.first()
            && !ids.iter().any(|seen| seen.eq_ignore_ascii_case(id))
        {
            ids.push(id.clone());
        }
    }
    ids
}

impl Package {
    /// The shipped INF, signed now with a fresh key that is dropped on return.
    pub fn build() -> Result<Package, PackageError> {
        Package::build_for(SHIPPED_INF.as_bytes(), SystemTime::now())
    }

    /// `inf`, signed at `now` with a fresh key that is dropped on return.
    pub fn build_for(inf: &[u8], now: SystemTime) -> Result<Package, PackageError> {
        let signer = Signer::generate(now)?;
        let mut list_id = [0u8; 16];
        OsRng.fill_bytes(&mut list_id);
        let list = catalog::trust_list(
            &[(INF_NAME, inf)],
            &hardware_ids(&String::from_utf8_lossy(inf)),
            list_id,
            der::asn1::UtcTime::from_system_time(now)?,
        )?;
        let cat = signer.sign_catalog(&list)?;
        let cer = signer.certificate.to_der()?;
        Ok(Package {
            inf: inf.to_vec(),
            cat,
            cer,
        })
    }

    /// Writes the three files into `dir` (made if missing).
    pub fn write(&self, dir: &Path) -> Result<(), PackageError> {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        for (name, bytes) in [
            (INF_NAME, &self.inf),
            (CAT_NAME, &self.cat),
            (CER_NAME, &self.cer),
        ] {
            let path = dir.join(name);
            std::fs::write(&path, bytes).map_err(io(&path))?;
        }
        Ok(())
    }
}

/// What [`check_dir`] found.
#[derive(Debug)]
pub struct Checked {
    /// The catalog's members.
    pub members: Vec<Member>,
    /// The catalog-wide name/value attributes (`OSAttr`, `HWIDn`).
    pub names: Vec<(String, String)>,
    /// The signer's subject name.
    pub signer: String,
    /// The INF's hashes, as the catalog tags them.
    pub inf_hashes: Vec<(HashKind, String)>,
}

/// Checks a package folder: the catalog's signature holds against the certificate it
/// carries, that certificate is the `.cer` beside it, and the INF's SHA-1 and SHA-256
/// hashes, computed now, are members naming the INF.
pub fn check_dir(dir: &Path) -> Result<Checked, PackageError> {
    let read = |name: &str| {
        let path = dir.join(name);
        let size = std::fs::metadata(&path).map_err(io(&path))?.len();
        if size > MAX_FILE {
            return Err(PackageError::Mismatch(format!(
                "{} is {size} bytes: too big for a file of dfuse's driver package",
                path.display()
            )));
        }
        std::fs::read(&path).map_err(io(&path))
    };
    let (inf, cat, cer) = (read(INF_NAME)?, read(CAT_NAME)?, read(CER_NAME)?);
    let checked = signing::check_catalog(&cat)?;
    if checked.certificate.to_der()? != cer {
        return Err(PackageError::Mismatch(format!(
            "{CER_NAME} is not the certificate that signed {CAT_NAME}"
        )));
    }
    let members = checked.list.members();
    let mut inf_hashes = Vec::new();
    for kind in HashKind::ALL {
        let tag = catalog::hex(&kind.hash(&inf));
        let found = members.iter().any(|m| {
            m.tag == tag
                && m.hash == Some(kind)
                && catalog::hex(&m.digest) == tag
                && m.file.as_deref() == Some(INF_NAME)
        });
        if !found {
            return Err(PackageError::Mismatch(format!(
                "{CAT_NAME} has no {kind} member {tag} for {INF_NAME}: the INF changed after signing"
            )));
        }
        inf_hashes.push((kind, tag));
    }
    Ok(Checked {
        members,
        names: checked.list.names(),
        signer: checked.certificate.tbs_certificate.subject.to_string(),
        inf_hashes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_inf_carries_its_marker_and_names_every_board() {
        assert!(SHIPPED_INF.contains(INF_MARKER));
        let ids = hardware_ids(SHIPPED_INF);
        assert_eq!(ids.len(), 7, "{ids:?}");
        assert_eq!(ids[0], "USB\\VID_0483&PID_DF11");
        assert_eq!(ids[6], "USB\\Class_FE&SubClass_01&Prot_02");
    }

    #[test]
    fn a_written_package_checks_and_any_changed_byte_is_caught() {
        let dir = tempfile::tempdir().unwrap();
        let package = Package::build().unwrap();
        package.write(dir.path()).unwrap();
        let checked = check_dir(dir.path()).unwrap();
        assert_eq!(checked.members.len(), 2);
        assert!(checked.signer.contains(signing::SIGNER_NAME_PREFIX));
        assert!(
            checked
                .names
                .contains(&("HWID1".into(), "usb\\vid_0483&pid_df11".into())),
            "{:?}",
            checked.names
        );

        // One byte of the INF changed: its hash is no longer a member.
        let mut inf = package.inf.clone();
        inf[0] ^= 1;
        std::fs::write(dir.path().join(INF_NAME), &inf).unwrap();
        let error = check_dir(dir.path()).unwrap_err().to_string();
        assert!(error.contains("INF changed after signing"), "{error}");
        std::fs::write(dir.path().join(INF_NAME), &package.inf).unwrap();

        // One byte of the catalog's content changed: the digest no longer matches.
        let mut cat = package.cat.clone();
        let at = cat
            .windows(8)
            .position(|w| {
                w == "OSAttr"
                    .encode_utf16()
                    .flat_map(u16::to_be_bytes)
                    .take(8)
                    .collect::<Vec<_>>()
            })
            .unwrap();
        cat[at + 1] ^= 0x20;
        std::fs::write(dir.path().join(CAT_NAME), &cat).unwrap();
        let error = check_dir(dir.path()).unwrap_err().to_string();
        assert!(error.contains("changed after signing"), "{error}");

        // Another package's certificate beside this catalog.
        std::fs::write(dir.path().join(CAT_NAME), &package.cat).unwrap();
        let other = Package::build().unwrap();
        std::fs::write(dir.path().join(CER_NAME), &other.cer).unwrap();
        let error = check_dir(dir.path()).unwrap_err().to_string();
        assert!(error.contains("not the certificate"), "{error}");
    }
}
