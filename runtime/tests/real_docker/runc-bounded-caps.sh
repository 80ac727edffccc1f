#!/bin/sh
# An OCI runtime for the real-docker tests: runc, after removing from the bundle's config.json (create, run)
# or the exec process file (exec --process) every capability that is not in this process's bounding set.
#
# Why: docker 20.10 gives a --privileged container every capability the kernel knows, and runc fails with
# "unable to apply caps: operation not permitted" when the sandbox running dockerd lacks one of them in its
# bounding set (here CAP_SYS_RESOURCE). Leaving out what nobody here could grant anyway lets a privileged
# container start; it stays privileged for docker (HostConfig.Privileged, all devices, no seccomp or
# AppArmor profile), which is what the tests look at. The tests use it only after a plain --privileged run
# failed with that error; ensure_dockerd registers it (dockerd --add-runtime frule-bounded-caps=THIS).
set -eu
files=
prev=
for a in "$@"; do
  case "$prev" in
    --bundle | -b) files="$files $a/config.json" ;;
    --process | -p) files="$files $a" ;;
  esac
  case "$a" in
    --bundle=*) files="$files ${a#--bundle=}/config.json" ;;
    --process=*) files="$files ${a#--process=}" ;;
  esac
  prev=$a
done
bnd=$(sed -n 's/^CapBnd:[[:space:]]*//p' /proc/self/status)
for f in $files; do
  [ -f "$f" ] || continue
  i=0
  for name in CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE \
    NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO SYS_CHROOT \
    SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE \
    AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ \
    PERFMON BPF CHECKPOINT_RESTORE; do
    if [ $(((0x$bnd >> i) & 1)) -eq 0 ]; then
      # the JSON is compact (one line, no spaces): drop the name with the comma before or after it
      sed -i -e "s/\"CAP_$name\",//g" -e "s/,\"CAP_$name\"//g" -e "s/\"CAP_$name\"//g" "$f"
    fi
    i=$((i + 1))
  done
done
exec runc "$@"
