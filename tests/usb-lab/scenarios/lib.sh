# Helpers for lab scenarios (sourced).
set -euo pipefail
SIM=target/debug/dfuse-sim
DFUSE=target/debug/dfuse

# use_release: the scenario times things, so it runs the release builds, dfuse as people
# install it (packaging/linux-cli; tests/usb-lab/bench builds them).
use_release() {
    SIM=target/release/dfuse-sim
    DFUSE=target/linux-cli/dfuse
    [ -x "$SIM" ] && [ -x "$DFUSE" ] && return 0
    echo "lab: no release build: run tests/usb-lab/bench, or cargo build --release -p dfuse-sim and packaging/linux-cli" >&2
    return 1
}

# attach CHIP NAME [ARGS...]: starts dfuse-sim for CHIP (with ARGS), its output in /tmp/NAME.log,
# and waits for its ready line.
attach() {
    "$SIM" attach --chip "$1" "${@:3}" > "/tmp/$2.log" 2>&1 &
    for _ in $(seq 200); do grep -q '^ready' "/tmp/$2.log" && return 0; sleep 0.05; done
    echo "lab: dfuse-sim $1 did not get ready:" >&2
    cat "/tmp/$2.log" >&2
    return 1
}

# wait_for TEXT FILE [TRIES]: waits until FILE contains TEXT.
wait_for() {
    for _ in $(seq "${3:-200}"); do grep -q "$1" "$2" && return 0; sleep 0.05; done
    echo "lab: no \"$1\" in $2:" >&2
    cat "$2" >&2
    return 1
}

# count_devices VID PID: how many enumerated USB devices have this VID:PID (hex, lowercase).
count_devices() {
    local n=0 dir
    for dir in /sys/bus/usb/devices/*; do
        [ "$(cat "$dir/idVendor" 2>/dev/null)" = "$1" ] && [ "$(cat "$dir/idProduct" 2>/dev/null)" = "$2" ] && n=$((n + 1))
    done
    echo "$n"
}

# wait_devices VID PID N: waits until N devices with VID:PID are enumerated.
wait_devices() {
    for _ in $(seq 200); do [ "$(count_devices "$1" "$2")" -ge "$3" ] && return 0; sleep 0.05; done
    echo "lab: only $(count_devices "$1" "$2") of $3 devices $1:$2 enumerated" >&2
    return 1
}

# locations_of SERIAL: the sysfs names (<bus>-<port.path>) of devices with this serial number.
locations_of() {
    local dir
    for dir in /sys/bus/usb/devices/[0-9]*-*; do
        [ "$(cat "$dir/serial" 2>/dev/null)" = "$1" ] && basename "$dir"
    done
    return 0
}

# detach_all: stops every dfuse-sim of this scenario and waits until the boards are gone.
detach_all() {
    kill -TERM $(jobs -p) 2>/dev/null || true
    wait || true
    # The kernel removes a detached board a moment after its dfuse-sim has exited (boards
    # are 1-1, 1-1.2, ...; 1-0:1.0 is the root hub's own interface).
    local _
    for _ in $(seq 100); do
        compgen -G '/sys/bus/usb/devices/[0-9]*-[1-9]*' > /dev/null || return 0
        sleep 0.05
    done
}

# shows PATTERN COMMAND...: runs COMMAND, then greps its whole output for PATTERN. Never pipe
# a command into `grep -q`: grep exits at the first match and, under pipefail, the command's
# SIGPIPE fails the scenario at random.
shows() {
    local pattern=$1 out
    shift
    out=$("$@" 2>&1) || return 1
    grep -q -- "$pattern" <<< "$out"
}
