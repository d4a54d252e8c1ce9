# dfuse through the real USB stack, cross-checked with dfu-util in both directions.
source tests/usb-lab/scenarios/lib.sh
attach stm32f407 f407
wait_devices 0483 df11 1

"$DFUSE" list --json > /tmp/list.json
grep -q '"name":"@Internal Flash  /0x08000000/04\*016Kg,01\*064Kg,07\*128Kg"' /tmp/list.json
grep -q '"sector_count":7' /tmp/list.json
shows 'alt=0, name="@Internal Flash  /0x08000000/04\*016Kg,01\*064Kg,07\*128Kg"' dfu-util -l
echo "dfuse list and dfu-util -l show the same board"

"$DFUSE" flash assets/examples/blinky-f407.hex | tail -n 1
dfu-util -a 0 -s 0x08000000:16432 -U /tmp/back.bin > /tmp/upload.txt 2>&1 || { cat /tmp/upload.txt; exit 1; }
cmp /tmp/back.bin assets/examples/blinky-f407.bin
echo "dfu-util -U returns what dfuse flashed"

head -c 6000 /dev/urandom > /tmp/random.bin
dfu-util -a 0 -s 0x08020000 -D /tmp/random.bin > /tmp/download.txt 2>&1 || { cat /tmp/download.txt; exit 1; }
"$DFUSE" read -o /tmp/read.bin --address 0x08020000 --length 6000 | tail -n 1
cmp /tmp/read.bin /tmp/random.bin
echo "dfuse read returns what dfu-util -D wrote"

"$DFUSE" flash assets/examples/blinky-f407.dfu --leave | tail -n 1
wait_for '^replugged' /tmp/f407.log
wait_devices 0483 df11 1
echo "flash --leave: the board left DFU mode and came back"
"$DFUSE" flash assets/examples/blinky-f407.dfu --leave --wait > /tmp/wait.txt
cat /tmp/wait.txt
grep -q '^The board is back: 1-1 0483:DF11 "STM32  BOOTLOADER"' /tmp/wait.txt
kill -TERM %1
wait || true
