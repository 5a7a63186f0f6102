# $1: 0 on removal, 1+ on upgrade. Stop and disable everything only on removal.
if [ "$1" -eq 0 ]; then
	systemctl disable --now certwright-renew.timer certwright.service >/dev/null 2>&1 || :
fi
