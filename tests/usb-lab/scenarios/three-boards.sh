# Three boards at once: an F407 and two F072s that share the F0 ROM's constant serial FFFFFFFEFFFF.
source tests/usb-lab/scenarios/lib.sh
attach stm32f407 f407
attach stm32f072 f072a
attach stm32f072 f072b
wait_devices 0483 df11 3
f407=$(locations_of 3276395A3032)
f072=$(locations_of FFFFFFFEFFFF)
echo "F407 at $f407; F072s at" $f072

for location in $f407 $f072; do
    "$DFUSE" info --json --device "$location" > /tmp/info.json
    grep -q "\"location\":\"$location\"" /tmp/info.json
done
echo "selection by port path works for each board"

shows "\"location\":\"$f407\"" "$DFUSE" info --json --serial 3276395A3032
if "$DFUSE" info --serial FFFFFFFEFFFF > /tmp/out.txt 2>&1; then echo "serial of the F072s was not ambiguous" >&2; exit 1; fi
grep -q 'error\[ambiguous\]: more than one DfuSe device matches with serial FFFFFFFEFFFF; choose one by its location' /tmp/out.txt
grep -q 'help: name one board by its location (the first column) with --device' /tmp/out.txt
for location in $f072; do grep -q "$location" /tmp/out.txt; done
echo "selection by serial works for the F407 and reports the F072 ambiguity"

if "$DFUSE" flash assets/examples/blinky-f407.hex > /tmp/out.txt 2>&1; then echo "no selector was not ambiguous" >&2; exit 1; fi
grep -q 'more than one DfuSe device matches; choose one by its location' /tmp/out.txt
for location in $f407 $f072; do grep -q "$location" /tmp/out.txt; done
cat /tmp/out.txt
second=$(echo $f072 | cut -d' ' -f2)
"$DFUSE" flash assets/examples/blinky-f407.hex --device "$second" | tail -n 1
detach_all
