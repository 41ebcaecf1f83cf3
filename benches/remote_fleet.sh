#!/usr/bin/env bash
# Scale of --host / the Fleet view: N aliases of one local sshd, each
# refreshed every 2 s (examples/remote_fleet.rs). Needs root and
# openssh-server. Usage:
#   benches/remote_fleet.sh [--debug] [--secs S] [--hosts "1 5 10 20"]
# Beside the N live hosts, pw-silent points at a port that accepts TCP and
# never speaks (a hung host): the live ones must keep their 2 s clock.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=release secs=20 counts="1 5 10 20"
while [ $# -gt 0 ]; do
  case "$1" in
    --debug) profile=debug ;;
    --secs) secs="$2"; shift ;;
    --hosts) counts="$2"; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
flag=(); [ "$profile" = release ] && flag=(--release)
cargo build -q "${flag[@]}" --bin portwise --example remote_fleet
bin=target/$profile/portwise ex=target/$profile/examples/remote_fleet

d=$(mktemp -d) port=$(( 40000 + RANDOM % 20000 )) silent=$(( port + 1 ))
trap '[ -f "$d/sshd.pid" ] && kill "$(cat "$d/sshd.pid")" 2>/dev/null; [ -f "$d/silent.pid" ] && kill "$(cat "$d/silent.pid")" 2>/dev/null; rm -rf "$d"' EXIT
# The silent host: listens, queues connections, never accepts or speaks.
python3 -c 'import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(64); time.sleep(3600)' "$silent" &
echo $! > "$d/silent.pid"
mkdir -p "$d/home" /run/sshd
for k in host_key user_key; do ssh-keygen -q -t ed25519 -N '' -f "$d/$k"; done
cp "$d/user_key.pub" "$d/authorized_keys"
# MaxStartups: 20 handshakes at once exceed sshd's default 10:30:100, which
# drops some at random. The remote HOME is the temp dir (SetEnv).
cat > "$d/sshd_config" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $d/host_key
PidFile $d/sshd.pid
AuthorizedKeysFile $d/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
UsePAM no
StrictModes no
SetEnv HOME=$d/home
MaxStartups 100
LogLevel ERROR
CONF
echo "[127.0.0.1]:$port $(cat "$d/host_key.pub")" > "$d/known_hosts"
cat > "$d/ssh_config" <<CONF
Host pw-silent
  HostName 127.0.0.1
  Port $silent
  User root
  IdentityFile $d/user_key
  IdentitiesOnly yes
  UserKnownHostsFile $d/known_hosts
  GlobalKnownHostsFile /dev/null
  BatchMode yes
  LogLevel ERROR
Host pw-*
  HostName 127.0.0.1
  Port $port
  User root
  IdentityFile $d/user_key
  IdentitiesOnly yes
  UserKnownHostsFile $d/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  BatchMode yes
  LogLevel ERROR
CONF
/usr/sbin/sshd -f "$d/sshd_config"
sleep 0.5
PORTWISE_SSH_COMMAND="ssh -F $d/ssh_config" "$bin" free --host pw-1 --yes >/dev/null
echo "profile $profile, $secs s per run, refresh every 2 s, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for n in $counts; do
  "$ex" "$d/ssh_config" "$n" "$secs" 2 pw-silent
  echo "  load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
done
