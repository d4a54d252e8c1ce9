# Sourced: a Wine prefix where Rust .exe files start (Wine 8 lacks bcryptprimitives.dll's
# ProcessPrng; a shim built with mingw provides it). Sets WINEPREFIX and WINEDEBUG.
# Needs Debian's wine wine64 and gcc-mingw-w64-x86-64.
wine_prefix_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
for tool in wine wineboot winepath x86_64-w64-mingw32-gcc; do
    command -v "$tool" >/dev/null || { echo "$tool missing: apt-get install wine wine64 gcc-mingw-w64-x86-64" >&2; exit 2; }
done
export WINEPREFIX=${WINEPREFIX:-$HOME/.cache/dfuse-wine}
export WINEDEBUG=-all
if [ ! -f "$WINEPREFIX/done" ]; then
    wineboot --init >/dev/null 2>&1
    x86_64-w64-mingw32-gcc -shared -O2 -o "$WINEPREFIX/bcryptprimitives.dll" \
        "$wine_prefix_here/process-prng-shim.c" "$wine_prefix_here/process-prng-shim.def" -ladvapi32
    cp "$WINEPREFIX/bcryptprimitives.dll" "$WINEPREFIX/drive_c/windows/system32/"
    touch "$WINEPREFIX/done"
fi

# wine_certificates STORE: the SHA-1 thumbprints in Wine's LocalMachine certificate store
# STORE (Root, TrustedPublisher, ...), one a line, read from its registry.
wine_certificates() {
    wine reg query "HKLM\\Software\\Microsoft\\SystemCertificates\\$1\\Certificates" 2>/dev/null \
        | grep -o 'Certificates\\[0-9A-F]\{40\}' | cut -d'\' -f2 || true
}
