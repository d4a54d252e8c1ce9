# Sourced: finding dfuse-gui's window and clicking in it with xdotool, for the scripts that
# drive the real window (tests/gui/screenshot, the USB lab's gui scenario). Needs xdotool.

# Window coordinates of the default layout (1100x760) with the example firmware loaded.
FLASH_BUTTON=(227 509)
FLASH_SECTOR_1=(232 262)

# gui_window PID SECONDS: prints the id of the visible window titled "dfuse", waiting up to
# SECONDS; fails if process PID exits first or no window appears.
gui_window() {
    local pid=$1 tries=$(($2 * 10)) window
    for _ in $(seq "$tries"); do
        window=$(xdotool search --onlyvisible --name '^dfuse$' 2>/dev/null | head -n 1 || true)
        [ -n "$window" ] && { echo "$window"; return 0; }
        kill -0 "$pid" 2>/dev/null || { echo "gui: dfuse-gui exited before its window appeared" >&2; return 1; }
        sleep 0.1
    done
    echo "gui: no dfuse window within $2 s" >&2
    return 1
}

# click_flash WINDOW LOG TEXT SECONDS: clicks Flash until LOG contains TEXT (the flash started),
# waiting SECONDS after each click, 20 clicks at most: a busy machine (or TCG with software
# GL) draws slowly, so the first click may come before the button is there.
click_flash() {
    local window=$1 log=$2 text=$3 tries=$(($4 * 10))
    for _ in $(seq 20); do
        xdotool mousemove --window "$window" "${FLASH_BUTTON[@]}" click 1
        for _ in $(seq "$tries"); do grep -qF "$text" "$log" && return 0; sleep 0.1; done
    done
    echo "gui: clicking Flash never started a flash ($text)" >&2
    return 1
}
