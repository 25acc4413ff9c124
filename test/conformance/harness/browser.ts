/**
 * A real headless Chromium (Debian's `chromium` package) driven by
 * puppeteer-core, which downloads no browser of its own. `.ci/run` installs
 * the package; a machine without it fails the browser tests with the command
 * that installs it, never skips them.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer, { type Browser } from "puppeteer-core";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

/** The browser binary: `$CHROMIUM_PATH`, else the first Debian/Ubuntu location that exists. */
export function chromiumPath(): string {
  const configured = process.env["CHROMIUM_PATH"];
  if (configured) return configured;
  const found = CANDIDATES.find((path) => existsSync(path));
  if (found === undefined) {
    throw new Error(
      "Chromium not found: install Debian's chromium package (apt-get install chromium) or set CHROMIUM_PATH",
    );
  }
  return found;
}

/** A headless Chromium with a fresh profile, kept off every network but loopback; `close` removes the profile. */
export async function launchBrowser(): Promise<{ browser: Browser; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), "tapline-chromium-"));
  const browser = await puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    userDataDir: profile,
    timeout: 30_000,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
    ],
  });
  return {
    browser,
    async close() {
      await browser.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
