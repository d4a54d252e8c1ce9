//! Which driver Windows binds to a DfuSe device: its hardware and compatible IDs,
//! the shipped WinUSB INF (`dfuse-winusb.inf`), and the ranking Windows applies.
#![warn(missing_docs)]

mod catalog;
mod ids;
mod inf;
mod package;
mod rank;
mod signing;
pub mod system;

pub use catalog::{HashKind, Member, OS_ATTR, hex};
pub use ids::UsbIds;
pub use inf::{Entry, Inf, InfError};
pub use package::{CAT_NAME, CER_NAME, Checked, INF_NAME, Package, PackageError, check_dir};
pub use rank::{IdKind, Match, rank};
pub use signing::{SIGNER_NAME_PREFIX, SigningError};

/// The shipped INF package's text.
pub const SHIPPED_INF: &str = include_str!("../dfuse-winusb.inf");
