/**
 * CPU time and memory of a process tree from Linux /proc, so a target's cost
 * covers every thread (in /proc/PID/stat) and every child process (nginx's
 * worker, or anything a runtime forks).
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

let ticksPerSecond: number | undefined;

/** Clock ticks per second used by /proc/PID/stat (`getconf CLK_TCK`, nearly always 100). */
export function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) ||
        100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** Fields of /proc/PID/stat after the `(comm)` part; undefined if the process is gone. */
function statFields(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // comm may contain spaces and parentheses; the last ')' ends it.
    return text.slice(text.lastIndexOf(")") + 2).trim().split(" ");
  } catch {
    return undefined;
  }
}

/** `pid` and all its live descendants. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const fields = statFields(Number(name));
    // After comm: state(0) ppid(1).
    const ppid = Number(fields?.[1]);
    if (!Number.isFinite(ppid)) continue;
    const list = children.get(ppid) ?? [];
    list.push(Number(name));
    children.set(ppid, list);
  }
  const out: number[] = [];
  const stack = [pid];
  while (stack.length > 0) {
    const next = stack.pop() as number;
    out.push(next);
    stack.push(...(children.get(next) ?? []));
  }
  return out;
}

/** User + system CPU seconds consumed so far by the tree rooted at `pid`. */
export function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const fields = statFields(pid);
    // After comm: utime is field 14 of the full line, i.e. index 11 here; stime 12.
    if (fields) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / clockTicks();
}

/** A `Vm*` value (e.g. `VmRSS`, `VmHWM`) in bytes, summed over `pids`. */
export function memoryBytes(pids: number[], field: "VmRSS" | "VmHWM"): number {
  let total = 0;
  for (const pid of pids) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
      if (match?.[1]) total += Number(match[1]) * 1024;
    } catch {
      // Process exited between listing and reading: it no longer holds memory.
    }
  }
  return total;
}

/**
 * Busy ticks per CPU from /proc/stat (user + nice + system + steal), e.g.
 * `[cpu0, cpu1]`. irq and softirq are left out: loopback networking spends
 * them on our own traffic, and the kernel charges them to no process.
 */
export function busyTicksPerCpu(): number[] {
  const out: number[] = [];
  for (const line of readFileSync("/proc/stat", "utf8").split("\n")) {
    const m = /^cpu(\d+) (.*)$/.exec(line);
    if (!m?.[2]) continue;
    // user nice system idle iowait irq softirq steal ...
    const f = m[2].trim().split(/\s+/).map(Number);
    out[Number(m[1])] = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[7] ?? 0);
  }
  return out;
}

/**
 * CPU seconds of this process plus its reaped children (cutime + cstime),
 * which is how the harness accounts for wrk: node reaps it on exit.
 */
export function selfAndReapedChildrenSeconds(): number {
  const fields = statFields(process.pid);
  if (!fields) return 0;
  // After comm: utime 11, stime 12, cutime 13, cstime 14.
  return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / clockTicks();
}
