# dfu-util against dfuse-sim through the real USB stack: download, upload, leave and re-plug.
source tests/usb-lab/scenarios/lib.sh
attach stm32f407 f407
wait_devices 0483 df11 1

bin=assets/examples/blinky-f407.bin
dfu-util -a 0 -s 0x08000000 -D "$bin" > /tmp/download.txt 2>&1 || { cat /tmp/download.txt; exit 1; }
grep -E 'Download done|File downloaded successfully' /tmp/download.txt
dfu-util -a 0 -s 0x08000000:16432 -U /tmp/back.bin > /tmp/upload.txt 2>&1 || { cat /tmp/upload.txt; exit 1; }
grep 'Upload done' /tmp/upload.txt
cmp /tmp/back.bin "$bin"
echo "dfu-util: download and upload agree"

# Leave: the board resets, drops off the bus and comes back.
dfu-util -a 0 -s 0x08000000:leave -U /tmp/ignored.bin 2>&1 | tail -n 2 || true
dfu-util -a 0 -s 0x08000000:leave -D "$bin" 2>&1 | tail -n 2 || true
wait_for '^replugged' /tmp/f407.log
wait_devices 0483 df11 1      # dfuse-sim says so before the kernel has enumerated the board again
shows 'Found DFU: \[0483:df11\]' dfu-util -l
echo "dfu-util: the board came back after leave"
kill -TERM %1
wait || true
