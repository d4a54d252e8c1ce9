//! The "Install the WinUSB driver" button, for a board Windows bound another driver to,
//! driven through the accessibility tree with a fake installer in place of Windows.

mod common;
mod harness;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use dfuse_gui::App;
use dfuse_gui::devices::DeviceList;
use dfuse_gui::driver_install::{BUTTON, DriverInstaller, EXPLANATION};
use dfuse_gui::log::Level;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use harness::window;

/// Stands in for Windows: counts installations; after a good one, the boards have WinUSB.
struct FakeInstaller {
    calls: AtomicUsize,
    refusal: Option<&'static str>,
}

impl DriverInstaller for FakeInstaller {
    fn install(&self) -> Result<Vec<String>, String> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        match self.refusal {
            Some(why) => Err(why.into()),
            None => Ok(vec![
                "installed dfuse-winusb.inf into the driver store (DiInstallDriverW)".into(),
            ]),
        }
    }

    fn refresh(&self, devices: &mut DeviceList) {
        for board in &mut devices.boards {
            board.driver = Some("WinUSB".into());
        }
    }
}

/// A window with one simulated board that Windows bound STTub30 to, and `installer` in charge.
fn with_sttub30(installer: Arc<FakeInstaller>) -> Harness<'static, App> {
    let mut harness = window(&["stm32f407"], false);
    harness.state_mut().devices.boards[0].driver = Some("STTub30".into());
    harness.state_mut().driver.installer = installer;
    harness.run_steps(2);
    harness
}

fn press_and_wait(harness: &mut Harness<'static, App>) {
    harness.get_by_label(BUTTON).click();
    harness.step();
    let deadline = Instant::now() + Duration::from_secs(20);
    while harness.state().driver.busy() {
        assert!(Instant::now() < deadline, "the installation did not end");
        harness.step();
        std::thread::sleep(Duration::from_millis(2));
    }
    harness.run_steps(3);
}

#[test]
fn a_board_with_sttub30_offers_the_install_and_is_usable_after_it() {
    let installer = Arc::new(FakeInstaller {
        calls: AtomicUsize::new(0),
        refusal: None,
    });
    let mut harness = with_sttub30(Arc::clone(&installer));
    harness.get_by_label("Windows has the STTub30 driver bound to this board; dfuse needs WinUSB.");
    harness.get_by_label(EXPLANATION);
    assert!(EXPLANATION.contains("administrator rights (User Account Control)"));
    assert_eq!(
        installer.calls.load(Ordering::SeqCst),
        0,
        "nothing runs unasked"
    );

    press_and_wait(&mut harness);
    assert_eq!(installer.calls.load(Ordering::SeqCst), 1);
    let app = harness.state();
    assert_eq!(app.devices.boards[0].driver.as_deref(), Some("WinUSB"));
    assert!(
        app.log
            .texts(Level::Info)
            .any(|line| line.contains("Driver: installed dfuse-winusb.inf")),
        "the installer's report is logged"
    );
    harness.get_by_label_contains("The WinUSB driver is installed");
    assert!(
        harness.query_by_label(BUTTON).is_none(),
        "with WinUSB bound the button goes away"
    );
    assert!(harness.query_by_label_contains("STTub30").is_none());
}

#[test]
fn a_refused_installation_keeps_the_button_and_names_the_fallback() {
    let installer = Arc::new(FakeInstaller {
        calls: AtomicUsize::new(0),
        refusal: Some("the administrator prompt was declined: nothing was changed"),
    });
    let mut harness = with_sttub30(Arc::clone(&installer));
    press_and_wait(&mut harness);
    assert_eq!(installer.calls.load(Ordering::SeqCst), 1);
    assert_eq!(
        harness.state().devices.boards[0].driver.as_deref(),
        Some("STTub30")
    );
    harness.get_by_label_contains("Not installed: the administrator prompt was declined");
    harness.get_by_label_contains("Zadig (WinUSB) is the fallback");
    harness.get_by_label(BUTTON);
}

#[test]
fn a_simulated_board_without_a_windows_driver_shows_no_button() {
    let harness = window(&["stm32f407"], false);
    assert!(harness.query_by_label(BUTTON).is_none());
}
