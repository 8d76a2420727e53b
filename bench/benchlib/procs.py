"""Processes: starting them pinned, stopping them, and reading /proc.

Everything the harness starts is a child of the harness (the Python process
running bench/compare), started from the main thread with PR_SET_PDEATHSIG so
it dies with the harness, in its own process group so that stop() reaches its
children too (nginx workers, HAProxy's worker). Nothing here signals a
process the harness did not start.

/proc figures:
- cpu_ticks(pids): utime+stime in clock ticks (USER_HZ), threads included.
- cpu_ticks_split(pids): (utime, stime), the same ticks kept apart: time in
  user space and in the kernel (system calls, and the softirq work the
  kernel charges to the task, e.g. loopback TCP receive for the peer). The
  total is the scheduler's exact run time; the split between the two is
  sampled on timer ticks (CONFIG_TICK_CPU_ACCOUNTING, the usual kernel
  config) and so is only a statistical estimate over short runs.
- rss_kib(pids): VmRSS summed over the processes (nginx master + worker,
  HAProxy master + worker): shared pages count twice, which cancels out in
  the before/after differences the harness reports.
- Disturbance: CPU used on the machine by processes that are not part of the
  run, over the run (see the class).
"""

import ctypes
import os
import signal
import subprocess
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1


def _child_setup(cpus):
    def setup():
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if cpus is not None:
            os.sched_setaffinity(0, cpus)
    return setup


class Processes:
    """The processes one harness run started; stop_all() ends exactly those."""

    def __init__(self):
        self.started = []  # Popen, in start order

    def start(self, argv, log_path, cpus=None, env=None, stdin=subprocess.DEVNULL):
        log = open(log_path, "ab")
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=stdin, env=env,
                                start_new_session=True, preexec_fn=_child_setup(cpus))
        log.close()
        self.started.append(proc)
        return proc

    def stop(self, proc, sig=signal.SIGTERM, timeout=10.0):
        """Signals the process group the harness created for `proc`, then waits."""
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait()
        else:
            # the leader is gone; its group may live on (HAProxy's old worker)
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def stop_all(self):
        for proc in reversed(self.started):
            self.stop(proc)
        self.started = []


def pin_self(cpus):
    """Pins the harness (and so the Python clients it runs) with the load side."""
    if cpus is not None:
        os.sched_setaffinity(0, cpus)


# --------------------------------------------------------------------------- /proc


def _stat_fields(pid):
    """(comm, the fields after "(comm) ") of /proc/PID/stat, or None if the process is gone."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read().decode("latin-1")
    except OSError:
        return None
    lpar, rpar = data.index("("), data.rindex(")")
    return data[lpar + 1:rpar], data[rpar + 2:].split()


def _read_stat(pid):
    """(ppid, utime+stime, cutime+cstime, comm) or None if the process is gone."""
    st = _stat_fields(pid)
    if st is None:
        return None
    comm, fields = st
    # after "(comm) ": state=0 ppid=1 ... utime=11 stime=12 cutime=13 cstime=14
    return int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14]), comm


def all_processes():
    """{pid: (ppid, own_ticks, reaped_children_ticks, comm)} for every process now."""
    table = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _read_stat(int(name))
            if st is not None:
                table[int(name)] = st
    return table


def descendants(root, table=None):
    """root and every process below it."""
    table = table if table is not None else all_processes()
    children = {}
    for pid, st in table.items():
        children.setdefault(st[0], []).append(pid)
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in table:
            out.append(pid)
            todo.extend(children.get(pid, []))
    return out


def cpu_ticks_split(pids):
    """(user_ticks, sys_ticks): utime and stime summed over the processes."""
    user = sys_ = 0
    for pid in pids:
        st = _stat_fields(pid)
        if st is not None:
            user += int(st[1][11])
            sys_ += int(st[1][12])
    return user, sys_


def cpu_ticks(pids):
    """utime+stime summed over the processes."""
    return sum(cpu_ticks_split(pids))


def rss_kib(pids):
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total


def _cpu_line():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal guest guest_nice
    return v + [0] * (10 - len(v))


def _irq_time_accounting():
    """With CONFIG_IRQ_TIME_ACCOUNTING, irq/softirq time is not charged to the
    task it interrupted, so it cannot be told apart per process: leave it out.
    Without it (or when the kernel config is unreadable, to be safe) leave it
    in only when we know tasks are charged for it."""
    import gzip
    for path in ("/proc/config.gz", "/boot/config-" + os.uname().release):
        try:
            opener = gzip.open if path.endswith(".gz") else open
            with opener(path, "rt") as f:
                for line in f:
                    if line.startswith("CONFIG_IRQ_TIME_ACCOUNTING="):
                        return True
                return False
        except OSError:
            continue
    return True


IRQ_TIME_ACCOUNTING = _irq_time_accounting()


class Disturbance:
    """CPU used by processes that are not part of the run, over one run.

    others = the CPU time, over the run, of every process that is not the
    harness or below it: each one's own time (utime+stime) plus what it
    reaped from children (cutime+cstime), so a compiler that started and
    ended during the run still counts, through the make, shell or init that
    reaped it (less what such a process had used before the run began).
    Process times come from the scheduler's exact run time;
    /proc/stat's busy time is sampled on timer ticks, and on a mostly idle
    core (the proxy's, at 10k req/s) busy-minus-ours from it strayed by
    10-14% of a core with nothing else running, marking quiet runs as
    disturbed. That figure is still reported, as `unattributed_pct`, for a
    look by hand. Steal time (another VM on the host) counts as a
    disturbance too. Expressed in % of one core, averaged over the run.
    The biggest other consumers are named for the report.
    """

    def __init__(self):
        self.root = os.getpid()

    def _ours_and_others(self):
        table = all_processes()
        mine = set(descendants(self.root, table))
        ours = sum(table[p][1] + table[p][2] for p in mine)
        others = {p: (st[1] + st[2], st[3]) for p, st in table.items() if p not in mine}
        return ours, others

    def start(self):
        self.t0 = time.monotonic()
        self.cpu0 = _cpu_line()
        self.ours0, self.others0 = self._ours_and_others()

    def stop(self):
        elapsed = time.monotonic() - self.t0
        cpu1 = _cpu_line()
        ours1, others1 = self._ours_and_others()
        d = [b - a for a, b in zip(self.cpu0, cpu1)]
        top = []
        for pid, (ticks, comm) in others1.items():
            used = ticks - self.others0.get(pid, (0, comm))[0]  # a new process: all of it
            if used > 0:
                top.append((used, comm, pid))
        top.sort(reverse=True)
        # A process that ended during the run was folded, whole, into its
        # reaper's cutime+cstime: take back what it had used before the run.
        before_run = sum(t for pid, (t, _) in self.others0.items() if pid not in others1)
        other_ticks = max(0, sum(t for t, _, _ in top) - before_run) + d[7]
        busy = d[0] + d[1] + d[2] + d[7]
        if not IRQ_TIME_ACCOUNTING:
            busy += d[5] + d[6]
        pct = lambda ticks: 100.0 * ticks / CLK_TCK / elapsed if elapsed > 0 else 0.0
        return {
            "others_cpu_pct": round(pct(other_ticks), 1),
            "steal_pct": round(pct(d[7]), 1),
            "unattributed_pct": round(pct(busy - (ours1 - self.ours0) - other_ticks), 1),
            "top_others": ["%s[%d] %.0f%%" % (comm, pid, pct(t)) for t, comm, pid in top[:3]],
            "seconds": round(elapsed, 2),
        }
