/**
 * Processes of the benchmark: CPU pinning with `taskset`, starting and stopping the servers,
 * readiness, and peak resident memory from `/proc/<pid>/status`.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

let tasksetAvailable;

/** Whether `taskset` (util-linux) can be used on this machine. */
export function canPin() {
  if (tasksetAvailable === undefined) {
    try {
      execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
      tasksetAvailable = true;
    } catch {
      tasksetAvailable = false;
    }
  }
  return tasksetAvailable;
}

/**
 * The command running `node <args>` pinned to `cpus` (`taskset -c <cpus> node …`; taskset
 * execs node, so the child's pid is node's). Unpinned when `cpus` is undefined or taskset is
 * missing.
 */
export function pinnedCommand(cpus, args) {
  if (cpus === undefined || !canPin()) return [process.execPath, args];
  return ['taskset', ['-c', cpus, process.execPath, ...args]];
}

/**
 * Pins every thread of this process to `cpus` (`taskset -a -p`). No-op without taskset. Retried:
 * a worker thread ending while taskset walks the thread list makes it fail.
 */
export async function pinSelf(cpus) {
  if (cpus === undefined || !canPin()) return;
  for (let attempt = 1; ; attempt++) {
    try {
      execFileSync('taskset', ['-a', '-p', '-c', cpus, String(process.pid)], { stdio: 'ignore' });
      return;
    } catch (error) {
      if (attempt >= 5) throw error;
      await sleep(50 * attempt);
    }
  }
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** One line of `/proc/<pid>/status` in kB (`VmHWM`, `VmRSS`), or undefined. */
export function procStatusKb(pid, field) {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(
      readFileSync(`/proc/${pid}/status`, 'utf8'),
    );
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Tracks the peak resident set of a process over one measurement: resets the kernel's
 * high-water mark (`echo 5 > /proc/<pid>/clear_refs`, Linux ≥ 4.0) and polls `VmRSS` as a
 * fallback; `stop()` resolves the peak in MiB (`VmHWM` when the reset worked).
 */
export function trackPeakRss(pid, intervalMs = 200) {
  let resetWorked = false;
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    resetWorked = true;
  } catch {
    // older kernels or no permission: VmRSS polling only
  }
  let polled = procStatusKb(pid, 'VmRSS') ?? 0;
  const timer = setInterval(() => {
    polled = Math.max(polled, procStatusKb(pid, 'VmRSS') ?? 0);
  }, intervalMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      const hwm = resetWorked ? procStatusKb(pid, 'VmHWM') : undefined;
      const kb = Math.max(hwm ?? 0, polled, procStatusKb(pid, 'VmRSS') ?? 0);
      return Math.round((kb / 1024) * 10) / 10;
    },
  };
}

/**
 * Starts `node [nodeArgs] script [args]` pinned to `cpus` with `env`, keeping the last lines of its
 * output for error messages. Output lines are passed to `onLine` when given.
 */
export function startNode({ name, script, nodeArgs = [], args = [], env, cpus, cwd, onLine }) {
  const [command, argv] = pinnedCommand(cpus, [...nodeArgs, script, ...args]);
  const proc = spawn(command, argv, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const tail = [];
  const collect = (chunk) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      tail.push(line);
      if (tail.length > 30) tail.shift();
      onLine?.(line);
    }
  };
  proc.stdout.on('data', collect);
  proc.stderr.on('data', collect);
  let exited;
  const exit = new Promise((resolve) => {
    proc.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    });
  });
  return {
    name,
    pid: proc.pid,
    proc,
    exit,
    get exited() {
      return exited;
    },
    output: () => tail.join('\n'),
  };
}

/** Polls `url` until it answers 200, the process exits, or `timeoutMs` passes. */
export async function waitReady(handle, url, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (handle.exited) {
      throw new Error(
        `${handle.name} exited (${JSON.stringify(handle.exited)}):\n${handle.output()}`,
      );
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${handle.name} not ready after ${timeoutMs} ms:\n${handle.output()}`);
}

/** Sends SIGTERM and waits for the exit (SIGKILL after `graceMs`). */
export async function stopProcess(handle, graceMs = 15_000) {
  if (handle.exited) return handle.exited;
  handle.proc.kill('SIGTERM');
  const timer = setTimeout(() => handle.proc.kill('SIGKILL'), graceMs);
  const result = await handle.exit;
  clearTimeout(timer);
  return result;
}

/** Clock ticks per second of `/proc` CPU times (USER_HZ; 100 on Linux builds in practice). */
const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system, all threads) a process has used, or undefined. */
export function processCpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** Busy and total ticks of the listed CPUs from `/proc/stat`, or undefined. */
function coreTicks(cpuList) {
  try {
    const wanted = new Set(expandCpuList(cpuList));
    let busy = 0;
    let total = 0;
    for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
      const match = /^cpu(\d+)\s+(.*)$/.exec(line);
      if (!match || !wanted.has(Number(match[1]))) continue;
      const [user, nice, system, idle, iowait, irq, softirq, steal] = match[2]
        .split(/\s+/)
        .map(Number);
      busy += user + nice + system + irq + softirq + steal;
      total += user + nice + system + idle + iowait + irq + softirq + steal;
    }
    return total > 0 ? { busy, total } : undefined;
  } catch {
    return undefined;
  }
}

/** `"0-2,5"` → `[0, 1, 2, 5]`. */
export function expandCpuList(list) {
  return list.split(',').flatMap((part) => {
    const [from, to = from] = part.split('-').map(Number);
    return Array.from({ length: to - from + 1 }, (_, i) => from + i);
  });
}

/** Tracks how busy the listed CPUs are; `stop()` resolves the busy percent, or undefined. */
export function trackCoreBusy(cpuList) {
  const ticks0 = cpuList ? coreTicks(cpuList) : undefined;
  return {
    stop() {
      const ticks1 = cpuList ? coreTicks(cpuList) : undefined;
      if (!ticks0 || !ticks1 || ticks1.total === ticks0.total) return undefined;
      return ((ticks1.busy - ticks0.busy) / (ticks1.total - ticks0.total)) * 100;
    },
  };
}

/**
 * Measures, over one run, how busy the server process kept its CPUs and how much of those CPUs
 * other processes took (a noise indicator on a shared machine). `stop()` resolves
 * `{ serverCpuPercent, othersCpuPercent }` (percent of the server CPUs; undefined when unknown).
 */
export function trackCpu(pid, cpuList) {
  const startedAt = performance.now();
  const cpu0 = processCpuSeconds(pid);
  const cores = cpuList ? expandCpuList(cpuList).length : undefined;
  const core = trackCoreBusy(cpuList);
  return {
    stop() {
      const seconds = (performance.now() - startedAt) / 1000;
      const cpu1 = processCpuSeconds(pid);
      const busy = core.stop();
      const server =
        cpu0 !== undefined && cpu1 !== undefined && cores
          ? ((cpu1 - cpu0) / seconds / cores) * 100
          : undefined;
      const round = (value) => (value === undefined ? undefined : Math.round(value));
      return {
        serverCpuPercent: round(server),
        othersCpuPercent:
          server !== undefined && busy !== undefined
            ? round(Math.max(0, busy - server))
            : undefined,
      };
    },
  };
}
