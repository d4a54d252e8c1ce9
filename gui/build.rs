//! Windows builds carry the icon (gui/assets/icons/dfuse.ico) as a resource, so
//! Explorer, the Start menu and the taskbar show it.

fn main() {
    println!("cargo:rerun-if-changed=assets/icons/dfuse.ico");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("windows") {
        return;
    }
    let mut resource = winresource::WindowsResource::new();
    resource.set_icon("assets/icons/dfuse.ico");
    if let Err(error) = resource.compile() {
        panic!(
            "cannot embed the icon in dfuse-gui.exe: {error} (cross-building needs mingw's windres: apt-get install gcc-mingw-w64-x86-64)"
        );
    }
}
