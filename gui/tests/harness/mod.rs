//! Driving the window in tests: a harness over simulated boards, and waiting for its jobs.
#![allow(dead_code)] // each test file uses its own share

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dfuse_gui::{App, Options};
use eframe::egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable, by};

use crate::common::Dropped;

pub fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../assets/examples")
        .join(name)
}

pub fn window(chips: &[&str], real_time: bool) -> Harness<'static, App> {
    let options = Options {
        sims: chips.iter().map(|c| c.to_string()).collect(),
        usb: false,
        real_time,
        ..Options::default()
    };
    let app = App::new(&options, None);
    let mut harness = Harness::builder()
        .with_size((1100.0, 900.0))
        .build_ui_state(|ui, app: &mut App| app.show(ui), app);
    harness.run_steps(2);
    harness
}

pub fn drop_file(harness: &mut Harness<'static, App>, path: PathBuf) {
    harness
        .input_mut()
        .dropped_files
        .push(Arc::new(Dropped(path)));
    harness.run_steps(3);
}

/// Steps frames until the job ends (bounded), then lets the window settle.
pub fn wait_for_job(harness: &mut Harness<'static, App>) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while harness.state().busy() {
        assert!(Instant::now() < deadline, "the job did not end within 60 s");
        harness.step();
        std::thread::sleep(Duration::from_millis(2));
    }
    harness.run_steps(3);
}

/// The text of the one label (outside the log) that starts with `prefix`.
pub fn shown(harness: &Harness<'static, App>, prefix: &str) -> String {
    let node = harness.get(
        by().role(Role::Label)
            .predicate(|n| n.value().is_some_and(|v| v.starts_with(prefix))),
    );
    node.accesskit_node().value().unwrap_or_default()
}

pub fn sim(
    harness: &Harness<'static, App>,
    location: &str,
) -> Arc<std::sync::Mutex<dfuse_sim::SimTransport>> {
    harness
        .state()
        .devices
        .simulated_chip(location)
        .expect("the simulated board is listed")
}
