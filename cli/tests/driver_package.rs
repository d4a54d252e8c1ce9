//! `dfuse driver install --dry-run` and `driver verify-package` on any system, and what
//! `install` / `uninstall` say where they cannot work (not Windows).

mod common;

use common::{dfuse, p, stderr, stdout};

#[test]
fn a_dry_run_writes_a_package_that_verifies_and_a_changed_one_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let package = dir.path().join("pkg");
    let out = dfuse(["driver", "install", "--dry-run", p(&package)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("Nothing was installed"));
    let inf = std::fs::read(package.join("dfuse-winusb.inf")).unwrap();
    assert_eq!(inf, dfuse_drivers_win::SHIPPED_INF.as_bytes());
    assert!(package.join("dfuse-winusb.cat").is_file());
    assert!(package.join("dfuse-winusb.cer").is_file());

    let out = dfuse(["driver", "verify-package", p(&package)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let shown = stdout(&out);
    for kind in dfuse_drivers_win::HashKind::ALL {
        let tag = dfuse_drivers_win::hex(&kind.hash(&inf));
        assert!(
            shown.contains(&format!("{kind} {tag}: a member")),
            "{shown}"
        );
    }

    // Two dry runs make two different keys: a certificate belongs to one package.
    let other = dir.path().join("other");
    assert!(
        dfuse(["driver", "install", "--dry-run", p(&other)])
            .status
            .success()
    );
    assert_ne!(
        std::fs::read(package.join("dfuse-winusb.cer")).unwrap(),
        std::fs::read(other.join("dfuse-winusb.cer")).unwrap()
    );

    let mut changed = inf.clone();
    changed.extend_from_slice(b"; changed\r\n");
    std::fs::write(package.join("dfuse-winusb.inf"), changed).unwrap();
    let out = dfuse(["driver", "verify-package", p(&package)]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("error[driver-package]")
            && stderr(&out).contains("the INF changed after signing"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_missing_package_folder_says_which_file_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dfuse(["driver", "verify-package", p(dir.path())]);
    assert_eq!(out.status.code(), Some(4));
    assert!(
        stderr(&out).contains("dfuse-winusb.inf"),
        "{}",
        stderr(&out)
    );
}

#[cfg(not(windows))]
#[test]
fn install_and_uninstall_say_they_are_for_windows_and_change_nothing() {
    for args in [&["driver", "install"][..], &["driver", "uninstall"][..]] {
        let out = dfuse(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let error = stderr(&out);
        assert!(error.contains("error[windows-only]"), "{error}");
        assert!(error.contains("--dry-run DIR"), "{error}");
    }
}

#[test]
fn json_results_name_the_files_the_members_and_the_windows_only_refusal() {
    let dir = tempfile::tempdir().unwrap();
    let package = dir.path().join("pkg");
    let written = common::json(&dfuse([
        "driver",
        "install",
        "--dry-run",
        p(&package),
        "--json",
    ]));
    assert_eq!(written["result"], "ok");
    assert_eq!(written["installed"], false);
    assert_eq!(written["files"].as_array().unwrap().len(), 3);

    let checked = common::json(&dfuse(["driver", "verify-package", p(&package), "--json"]));
    assert_eq!(checked["result"], "ok");
    let members = checked["inf_members"].as_array().unwrap();
    assert_eq!(members.len(), 2);
    assert_eq!(members[0]["hash"], "SHA-1");
    assert_eq!(checked["attributes"]["HWID1"], "usb\\vid_0483&pid_df11");

    #[cfg(not(windows))]
    {
        let refused = common::json(&dfuse(["driver", "install", "--json"]));
        assert_eq!(refused["result"], "error");
        assert_eq!(refused["code"], "windows-only");
        assert_eq!(refused["exit"], 2);
    }
}
