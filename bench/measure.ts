/**
 * One measured wrk run with the CPU accounting around it: the proxy's own
 * CPU, and whatever else ran on the machine meanwhile.
 */
import { cpuSeconds, selfAndReapedChildrenSeconds } from "./procstat.ts";
import { totalBusySeconds } from "./quiet.ts";
import { runWrk, type WrkOptions, type WrkResult } from "./wrk.ts";

/** What one measured run produced. */
export interface MeasuredRun {
  wrk: WrkResult;
  /** Wall clock (ms since the epoch) around the wrk run, for counting records by timestamp. */
  wallStart: number;
  wallEnd: number;
  /** wrk's measured duration in seconds. */
  seconds: number;
  /** CPU seconds (user + system) of `proxyPids` over the run. */
  proxyCpuSeconds: number;
  /** Busy CPU (% of one core) of everything but the proxy, `loadPids`, wrk and this harness. */
  otherCpuPercent: number;
}

/** Run wrk with `wrk` options, sampling the proxy's CPU and the machine's around it. */
export async function measureWrk(wrk: WrkOptions, proxyPids: number[], loadPids: number[]): Promise<MeasuredRun> {
  const wallStart = Date.now();
  const cpu0 = cpuSeconds(proxyPids);
  const up0 = cpuSeconds(loadPids);
  const self0 = selfAndReapedChildrenSeconds();
  const busy0 = totalBusySeconds();
  const r = await runWrk(wrk);
  const busy1 = totalBusySeconds();
  const self1 = selfAndReapedChildrenSeconds();
  const up1 = cpuSeconds(loadPids);
  const cpu1 = cpuSeconds(proxyPids);
  const wallEnd = Date.now();
  const seconds = r.duration_us / 1e6;
  return {
    wrk: r,
    wallStart,
    wallEnd,
    seconds,
    proxyCpuSeconds: cpu1 - cpu0,
    otherCpuPercent: Math.max(0, ((busy1 - busy0) - (cpu1 - cpu0) - (up1 - up0) - (self1 - self0)) / seconds * 100),
  };
}
