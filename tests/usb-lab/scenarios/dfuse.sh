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

# Started with standard output closed (a service, a cron job): the device file must not take
# its number, or the plan line printed while it is open goes to the board's file (usbfs
# refuses the write and the print would panic).
"$DFUSE" flash assets/examples/blinky-f407.hex >&- 2> /tmp/closed-stdout.txt \
    || { cat /tmp/closed-stdout.txt; echo "lab: flash with standard output closed failed" >&2; exit 1; }
echo "flash with standard output closed: nothing printed reached the device"

"$DFUSE" flash assets/examples/blinky-f407.dfu --leave | tail -n 1
wait_for '^replugged' /tmp/f407.log
wait_devices 0483 df11 1
echo "flash --leave: the board left DFU mode and came back"
"$DFUSE" flash assets/examples/blinky-f407.dfu --leave --wait > /tmp/wait.txt
cat /tmp/wait.txt
grep -q '^The board is back: 1-1 0483:DF11 "STM32  BOOTLOADER"' /tmp/wait.txt
detach_all

# Blocks over a page: usbfs's one-call control request takes at most 4 KiB, so dfuse sends
# these through nusb on the same device file (dfuse/src/usb.rs). A board declaring 8 KiB:
attach stm32f407 f407-8k --transfer-size 8192 --log /tmp/f407-8k.jsonl
wait_devices 0483 df11 1
head -c 40000 /dev/urandom > /tmp/big-blocks.bin
"$DFUSE" flash /tmp/big-blocks.bin --address 0x08010000 | tail -n 1
"$DFUSE" read -o /tmp/big-back.bin --address 0x08010000 --length 40000 | tail -n 1
cmp /tmp/big-back.bin /tmp/big-blocks.bin
# (dfu-util is no witness here: on Linux it cuts the transfer size to 4096 and then reads
# block n from where the ROM's 8 KiB stride puts it, so from byte 4097 on it reads wrong data.)
grep '"length":8192,' /tmp/f407-8k.jsonl > /tmp/8k-requests.jsonl || true
for request in DFU_DNLOAD DFU_UPLOAD; do
    grep -q "\"request\":\"$request\"" /tmp/8k-requests.jsonl \
        || { echo "lab: no 8 KiB $request in the board's log" >&2; exit 1; }
done
echo "8 KiB blocks: flashed, verified and read back"
detach_all
