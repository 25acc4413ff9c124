/**
 * `--print-systemd`: a unit file that runs tapline with the same flags.
 */

/** What the unit needs to know. */
export interface SystemdUnitOptions {
  /** The program and its leading arguments, e.g. `[process.execPath, "/abs/bin/tapline.js"]`. */
  execStart: string[];
  /** The tapline flags to repeat (without `--print-systemd`). */
  args: string[];
  /** Directory relative paths in `args` are resolved against. */
  workingDirectory: string;
  /** Shutdown timeout in ms; systemd waits a little longer before SIGKILL. Default 30 s. */
  shutdownTimeout?: number;
  /** `Environment=` entries, e.g. the TAPLINE_* variables in effect (secrets already left out). */
  environment?: Record<string, string>;
  /**
   * Secret variables in effect (TAPLINE_ADMIN_TOKEN): a comment names them, their values are not written,
   * because a unit file is readable by every user (`systemctl cat`).
   */
  withheld?: string[];
  description?: string;
}

/**
 * Render a systemd service unit.
 *
 * @example renderSystemdUnit({ execStart: ["/usr/bin/node", "/opt/tapline/bin/tapline.js"], args: ["--proxy", "name=api,..."], workingDirectory: "/opt/tapline" })
 */
export function renderSystemdUnit(options: SystemdUnitOptions): string {
  const stopSec = Math.ceil((options.shutdownTimeout ?? 30_000) / 1000) + 10;
  const environment = Object.entries(options.environment ?? {}).map(
    ([name, value]) => `Environment=${quoteSystemdArg(`${name}=${value}`)}`,
  );
  const withheld = (options.withheld ?? []).map(
    (name) => `# ${name} is set but not written here: put it in a root-only EnvironmentFile= or use a token file`,
  );
  return [
    "[Unit]",
    `Description=${escapeSpecifiers(options.description ?? "tapline HTTP tap proxy")}`,
    "Wants=network-online.target",
    "After=network-online.target",
    "",
    "[Service]",
    "Type=simple",
    `ExecStart=${[...options.execStart, ...options.args].map(quoteSystemdArg).join(" ")}`,
    `WorkingDirectory=${quoteSystemdArg(options.workingDirectory)}`,
    ...environment,
    ...withheld,
    "Restart=on-failure",
    "RestartSec=2",
    "KillSignal=SIGTERM",
    `TimeoutStopSec=${stopSec}`,
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}

/**
 * Quote one argument for ExecStart: `%` becomes `%%` (specifiers), `$` becomes
 * `$$` (variable expansion), and an argument with whitespace, quotes,
 * backslashes or `;` (a command separator) is double-quoted with C escapes.
 */
export function quoteSystemdArg(arg: string): string {
  const escaped = escapeSpecifiers(arg).replaceAll("$", "$$$$");
  if (escaped !== "" && !/[\s"'\\;]/.test(escaped)) return escaped;
  const inner = escaped
    .replaceAll("\\", "\\\\")
    .replaceAll('"', '\\"')
    .replaceAll("\n", "\\n")
    .replaceAll("\r", "\\r")
    .replaceAll("\t", "\\t");
  return `"${inner}"`;
}

function escapeSpecifiers(text: string): string {
  return text.replaceAll("%", "%%");
}
