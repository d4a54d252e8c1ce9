# Sourced: starts Xvfb (with GLX) on a free display, exports DISPLAY, and stops it on exit.
# -noreset: the server must not reset when the last window closes, or the next program
# started in that moment cannot connect (the screenshot scripts start the GUI again and again).
# Needs Debian's xvfb; the caller's EXIT trap should call stop_xvfb.
command -v Xvfb >/dev/null || { echo "Xvfb missing: apt-get install xvfb xdotool imagemagick libgl1-mesa-dri" >&2; exit 2; }
xvfb_display=90
while [ -e "/tmp/.X11-unix/X$xvfb_display" ] || [ -e "/tmp/.X$xvfb_display-lock" ]; do
    xvfb_display=$((xvfb_display + 1))
done
export DISPLAY=:$xvfb_display
Xvfb "$DISPLAY" -screen 0 1280x800x24 +extension GLX -nolisten tcp -noreset >/dev/null 2>&1 &
xvfb_pid=$!
stop_xvfb() { kill "$xvfb_pid" 2>/dev/null || true; }
for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X$xvfb_display" ] && break; sleep 0.1; done
[ -e "/tmp/.X11-unix/X$xvfb_display" ] || { echo "Xvfb did not start on $DISPLAY" >&2; exit 1; }
