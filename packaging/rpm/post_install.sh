# $1: 1 on first install, 2+ on upgrade. Enable and start the renew timer on first install
# (as the .deb does); on upgrade restart the daemon only if it was running.
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || :
	if [ "$1" -eq 1 ]; then
		systemctl enable --now certwright-renew.timer >/dev/null 2>&1 || :
	else
		systemctl try-restart certwright.service >/dev/null 2>&1 || :
	fi
elif [ "$1" -eq 1 ]; then
	# No running systemd (a container, or a chroot): enable the timer for the next boot.
	systemctl enable certwright-renew.timer >/dev/null 2>&1 || :
fi
