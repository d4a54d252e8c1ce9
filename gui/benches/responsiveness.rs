//! How quickly the window's first frame is ready, and how long frames take while a
//! flash runs on the worker thread (a simulated STM32F407 in real time, 256 KiB).
//!
//! `cargo bench -p dfuse-gui --bench responsiveness` prints the numbers; it fails when
//! the first frame takes 1 s or more, or a frame during the flash takes 100 ms or more.
//! Frames run through egui_kittest (layout, widgets and the accessibility tree; no GPU):
//! `tests/gui/startup` measures the first frame of the real window under Xvfb.

#[path = "../tests/common/mod.rs"]
mod common;

use common::Dropped;

use std::sync::Arc;
use std::time::{Duration, Instant};

use dfuse_gui::{App, Options};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let started = Instant::now();
    let options = Options {
        sims: vec!["stm32f407".into()],
        usb: false,
        real_time: true,
        ..Options::default()
    };
    let app = App::new(&options, None);
    let mut harness = Harness::builder()
        .with_size((1100.0, 760.0))
        .build_ui_state(|ui, app: &mut App| app.show(ui), app);
    harness.step();
    let first_frame = started.elapsed();
    println!(
        "first frame (app created, one frame laid out): {:.1} ms",
        first_frame.as_secs_f64() * 1000.0
    );

    let dir = std::env::temp_dir().join(format!("dfuse-gui-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let firmware = dir.join("256k.bin");
    let data: Vec<u8> = (0..256 * 1024u32).map(|i| (i * 13 + 7) as u8).collect();
    std::fs::write(&firmware, data).expect("the firmware file");
    harness
        .input_mut()
        .dropped_files
        .push(Arc::new(Dropped(firmware)));
    harness.run_steps(3);
    harness.get_by_label("Flash").click();
    harness.step();

    let flash_started = Instant::now();
    let mut frames = Vec::new();
    while harness.state().busy() {
        let frame = Instant::now();
        harness.step();
        frames.push(frame.elapsed());
        // About 60 frames a second, as a window would draw them.
        std::thread::sleep(Duration::from_millis(16).saturating_sub(frame.elapsed()));
        assert!(
            flash_started.elapsed() < Duration::from_secs(120),
            "the flash did not end"
        );
    }
    let flash_time = flash_started.elapsed();
    harness.run_steps(2);
    let outcome = format!("{:?}", harness.state().outcome);
    let _ = std::fs::remove_dir_all(&dir);
    frames.sort();
    let mean = frames.iter().sum::<Duration>() / frames.len().max(1) as u32;
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "flash of 256 KiB to sim:stm32f407 in real time: {:.2} s, {outcome}",
        flash_time.as_secs_f64()
    );
    println!(
        "frames during the flash: {} frames, mean {:.2} ms, median {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        frames.len(),
        ms(mean),
        ms(percentile(&frames, 0.5)),
        ms(percentile(&frames, 0.99)),
        ms(*frames.last().unwrap_or(&Duration::ZERO))
    );
    assert!(
        outcome.contains(", verified.") && !outcome.contains("not verified"),
        "the flash did not verify: {outcome}"
    );
    assert!(
        first_frame < Duration::from_secs(1),
        "the first frame took {first_frame:?}"
    );
    let worst = frames.last().copied().unwrap_or_default();
    assert!(
        worst < Duration::from_millis(100),
        "a frame took {worst:?} during the flash"
    );
}
