# dfuse-sim --state keeps a board's memory across unplugging and plugging it in again.
source tests/usb-lab/scenarios/lib.sh
rm -f /tmp/board.dfu
"$SIM" attach --chip stm32f407 --state /tmp/board.dfu > /tmp/sim1.log 2>&1 &
wait_for '^ready' /tmp/sim1.log
wait_devices 0483 df11 1
"$DFUSE" flash assets/examples/blinky-f407.hex | tail -n 1
detach_all
test -s /tmp/board.dfu
"$DFUSE" file info /tmp/board.dfu > /tmp/state-info.txt
head -n 3 /tmp/state-info.txt
"$SIM" attach --chip stm32f407 --state /tmp/board.dfu > /tmp/sim2.log 2>&1 &
wait_for '^ready' /tmp/sim2.log
wait_devices 0483 df11 1
"$DFUSE" read -o /tmp/back.bin --address 0x08000000 --length 16432 | tail -n 1
cmp /tmp/back.bin assets/examples/blinky-f407.bin
echo "sim-state: the board kept its memory"
detach_all
