/** A duration in Go's `time.Duration` style truncated to seconds (`1h30m0s`, `45s`), as http-tap-proxy reports uptime. */
export function formatUptime(ms: number): string {
  let seconds = Math.floor(ms / 1000);
  const hours = Math.floor(seconds / 3600);
  seconds -= hours * 3600;
  const minutes = Math.floor(seconds / 60);
  seconds -= minutes * 60;
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}
