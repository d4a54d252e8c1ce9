//! Which driver Windows binds to a DfuSe device: its hardware and compatible IDs,
//! the shipped WinUSB INF (`dfuse-winusb.inf`), and the ranking Windows applies.
#![warn(missing_docs)]

mod ids;
mod inf;
mod rank;

pub use ids::UsbIds;
pub use inf::{Entry, Inf, InfError};
pub use rank::{IdKind, Match, rank};

/// The shipped INF package's text.
pub const SHIPPED_INF: &str = include_str!("../dfuse-winusb.inf");
