//! Windows hardware / compatible IDs of DfuSe devices and ranking of INF model
//! entries against them, the way Windows picks a driver.
//!
//! Empty on purpose until the Windows work lands; the INF package will sit
//! beside this crate in `drivers-win/`.
