# Every simulated chip enumerates through the real USB stack and passes a flash + verify round trip.
source tests/usb-lab/scenarios/lib.sh
# The chips as dfuse-sim's --chip refuses an unknown one: "[possible values: stm32f407, ...]".
chips=$({ "$SIM" attach --chip list 2>&1 || true; } | sed -n 's/.*\[possible values: \(.*\)\]/\1/p' | tr -d ',')
[ -n "$chips" ]
for chip in $chips; do
    attach "$chip" "$chip"
    for _ in $(seq 100); do shows '"location"' "$DFUSE" list --json && break; sleep 0.1; done
    case "$chip" in
        # Particle's bootloader guards 0x08000000-0x0800BFFF: the image goes to the application area.
        stm32f205) args=(assets/examples/blinky-f407.bin --address 0x08020000) ;;
        *) args=(assets/examples/blinky-f407.hex) ;;
    esac
    "$DFUSE" flash "${args[@]}" | tail -n 1
    detach_all
    for _ in $(seq 100); do shows '"location"' "$DFUSE" list --json || break; sleep 0.1; done
done
echo "all chips: ok"
