#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, for the `slurm`-labelled integration test and for
# trying sweeps on Slurm without a cluster. Run as root, with slurm-wlm and munge installed
# (scripts/install-deps.sh --slurm).
#
#   scripts/slurm-local.sh start   # brings munged, slurmctld and slurmd up; prints the SLURM_CONF
#                                  # line to export; does nothing if they already run
#   scripts/slurm-local.sh stop    # stops only the daemons it started (by their pid files) and
#                                  # removes the directory; does nothing if none run
#   scripts/slurm-local.sh env     # prints `export SLURM_CONF=...`
#
# Everything (munge key, socket, slurm.conf, state, spool, logs, pid files) lives in
# $GRADSCOPE_SLURM_DIR (default /tmp/gradscope-slurm); slurmctld listens on $GRADSCOPE_SLURM_PORT
# (default 6817) and slurmd on the next port. The munge key is 1024 random bytes owned
# by munge, mode 0400; munged runs as the munge user. One node (this host, all its CPUs), one
# default partition; ProctrackType=proctrack/linuxproc and TaskPlugin=task/none need no cgroups.
set -euo pipefail

DIR=${GRADSCOPE_SLURM_DIR:-/tmp/gradscope-slurm}
PORT=${GRADSCOPE_SLURM_PORT:-6817} # slurmctld's; slurmd takes the next one
CONF=$DIR/slurm.conf
HOST=$(hostname)

alive() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

running() {
  alive "$DIR/munge/munged.pid" && alive "$DIR/slurmctld.pid" && alive "$DIR/slurmd.pid"
}

print_env() { echo "export SLURM_CONF=$CONF"; }

write_conf() {
  cat >"$CONF" <<EOF
# Written by gradscope's scripts/slurm-local.sh: a one-node cluster for tests.
ClusterName=gradscope
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$DIR/munge/munge.socket
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=local Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
}

start() {
  if running; then
    echo "slurm-local: already running in $DIR" >&2
    print_env
    return 0
  fi
  for tool in munged slurmctld slurmd sinfo; do
    command -v "$tool" >/dev/null || {
      echo "slurm-local: $tool not found (install with scripts/install-deps.sh --slurm)" >&2
      exit 1
    }
  done
  [[ $(id -u) -eq 0 ]] || { echo "slurm-local: run as root" >&2; exit 1; }
  stop >/dev/null 2>&1 || true # leftovers of an earlier, half-started cluster
  mkdir -p "$DIR"/{munge,state,spool,log}
  chmod 0755 "$DIR"
  chown munge:munge "$DIR/munge" "$DIR/log"
  chmod 0700 "$DIR/munge"
  dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none
  chown munge:munge "$DIR/munge/munge.key"
  chmod 0400 "$DIR/munge/munge.key"
  runuser -u munge -- munged --force --key-file="$DIR/munge/munge.key" \
    --socket="$DIR/munge/munge.socket" --pid-file="$DIR/munge/munged.pid" \
    --log-file="$DIR/log/munged.log" --seed-file="$DIR/munge/munged.seed"
  write_conf
  export SLURM_CONF=$CONF
  slurmctld -f "$CONF"
  slurmd -f "$CONF"
  # Up when the node answers idle (bounded: 60 s).
  for _ in $(seq 1 120); do
    if sinfo -h -N -o '%T' 2>/dev/null | grep -qE '^idle'; then
      echo "slurm-local: up in $DIR ($HOST, $(nproc) CPUs)" >&2
      print_env
      return 0
    fi
    sleep 0.5
  done
  echo "slurm-local: the node did not become idle within 60 s; logs in $DIR/log" >&2
  tail -n 5 "$DIR"/log/*.log >&2 || true
  exit 1
}

stop() {
  local stopped=0
  for pidfile in "$DIR/slurmd.pid" "$DIR/slurmctld.pid" "$DIR/munge/munged.pid"; do
    if alive "$pidfile"; then
      kill "$(cat "$pidfile")" 2>/dev/null || true
      for _ in $(seq 1 50); do alive "$pidfile" || break; sleep 0.1; done
      alive "$pidfile" && kill -9 "$(cat "$pidfile")" 2>/dev/null || true
      stopped=1
    fi
  done
  rm -rf "$DIR"
  ((stopped)) && echo "slurm-local: stopped" >&2
  return 0
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) print_env ;;
  *)
    echo "usage: $0 start|stop|env" >&2
    exit 2
    ;;
esac
