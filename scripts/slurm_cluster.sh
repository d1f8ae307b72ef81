#!/usr/bin/env bash
# A throwaway one-node Slurm cluster for the tests and the Slurm benchmark:
# munged with its own key, slurmctld and slurmd with a minimal slurm.conf, all
# under one directory. Debian's slurm-wlm and munge (scripts/setup.sh).
#
#   slurm_cluster.sh start DIR   starts it unless it already answers (idempotent),
#                                then prints the SLURM_CONF to use
#   slurm_cluster.sh stop DIR    stops the daemons it started
#
# Ports: $TWINFLOW_SLURM_PORT (slurmctld; slurmd uses the next one), default
# 16817. Callers serialise start/stop themselves (tests/support/slurm_cluster.cc
# holds a lock file around it).
set -euo pipefail

cmd="${1:?usage: slurm_cluster.sh start|stop DIR}"
dir="${2:?usage: slurm_cluster.sh start|stop DIR}"
ctld_port="${TWINFLOW_SLURM_PORT:-16817}"
slurmd_port=$((ctld_port + 1))
conf="$dir/slurm.conf"

export SLURM_CONF="$conf"

stop_pidfile() {
  local pidfile="$1"
  [ -f "$pidfile" ] || return 0
  local pid
  pid="$(cat "$pidfile" 2>/dev/null || true)"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

stop_cluster() {
  stop_pidfile "$dir/slurmd.pid"
  stop_pidfile "$dir/slurmctld.pid"
  stop_pidfile "$dir/munge/munged.pid"
}

answers() {
  [ -f "$conf" ] && scontrol ping 2>/dev/null | grep -q "is UP" &&
    sinfo --noheader --responding --states=idle,mixed,allocated -o %N 2>/dev/null | grep -q .
}

write_conf() {
  local cpus mem_mb
  cpus="$(nproc)"
  mem_mb=$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 512))
  cat >"$conf" <<EOF
# Written by twinflow's scripts/slurm_cluster.sh: a one-node test cluster.
ClusterName=twinflow-test
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket.2
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/jobcomp.txt
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
MinJobAge=60
KillWait=2
OverTimeLimit=0
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=60
MessageTimeout=10
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
# Jobs in 'preemptible' are cancelled (state PREEMPTED) when a job of the
# default partition needs their CPUs: the tests' preemption.
PreemptType=preempt/partition_prio
PreemptMode=CANCEL
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP PriorityTier=10
PartitionName=preemptible Nodes=localhost MaxTime=INFINITE State=UP PriorityTier=1 PreemptMode=CANCEL
EOF
}

start_munge() {
  mkdir -p "$dir/munge"
  chmod 711 "$dir/munge"
  if [ ! -f "$dir/munge/munge.key" ]; then
    dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
  fi
  chmod 400 "$dir/munge/munge.key"
  if [ -f "$dir/munge/munged.pid" ] && kill -0 "$(cat "$dir/munge/munged.pid")" 2>/dev/null; then
    return 0
  fi
  munged --force --socket="$dir/munge/munge.socket.2" --key-file="$dir/munge/munge.key" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" \
    --seed-file="$dir/munge/munged.seed"
}

start_cluster() {
  mkdir -p "$dir/state" "$dir/spool"
  if answers; then
    echo "$conf"
    return 0
  fi
  stop_cluster
  write_conf
  start_munge
  # -c: a clean start, no jobs from an earlier life of this directory.
  slurmctld -c -f "$conf"
  slurmd -N localhost -f "$conf"
  for _ in $(seq 150); do
    if answers; then
      echo "$conf"
      return 0
    fi
    scontrol update nodename=localhost state=resume >/dev/null 2>&1 || true
    sleep 0.2
  done
  echo "slurm_cluster.sh: the cluster in $dir did not come up; its logs:" >&2
  tail -n 20 "$dir/munge/munged.log" "$dir/slurmctld.log" "$dir/slurmd.log" >&2 || true
  sinfo >&2 || true
  return 1
}

case "$cmd" in
  start) start_cluster ;;
  stop) stop_cluster ;;
  *) echo "usage: slurm_cluster.sh start|stop DIR" >&2; exit 2 ;;
esac
