# dfuse-gui, in a real window on Xvfb inside the guest, follows a board plugged in over USB,
# flashes the example firmware to it (Flash clicked with xdotool; verified by reading back),
# and sees the board unplugged.
source tests/usb-lab/scenarios/lib.sh
source tests/gui/window.sh
GUI=target/debug/dfuse-gui
mkdir -p /tmp/.X11-unix /dev/shm
Xvfb :5 -screen 0 1280x800x24 +extension GLX -nolisten tcp > /tmp/xvfb.log 2>&1 &
for _ in $(seq 100); do [ -e /tmp/.X11-unix/X5 ] && break; sleep 0.1; done
export DISPLAY=:5
: > /tmp/gui.log
"$GUI" --log /tmp/gui.log assets/examples/blinky-f407.hex > /tmp/gui.out 2>&1 &
gui=$!
wait_for 'Opened .*blinky-f407.hex' /tmp/gui.log 600
attach stm32f407 f407
wait_for 'Board arrived: 1-1 0483:DF11 STM32 system bootloader' /tmp/gui.log 600
wait_for 'interface FE/01/02 of 0483:DF11 rev 2200 → STM32 system bootloader, built-in record' /tmp/gui.log
wait_for 'Selected 1-1' /tmp/gui.log
window=$(gui_window "$gui" 30) || { cat /tmp/gui.out; exit 1; }
click_flash "$window" /tmp/gui.log 'Flash on 1-1 started' 5
wait_for 'Flashed 212 bytes to alt 0 (Internal Flash): 2 sectors already blank, 256 bytes written, verified.' /tmp/gui.log 1200
kill -TERM "$(jobs -p | tail -n 1)"              # unplug the board (the last job: dfuse-sim)
wait_for 'Board left: 1-1' /tmp/gui.log 600
cat /tmp/gui.log
echo "gui: the window followed the board in and out, and flashed it over USB"
