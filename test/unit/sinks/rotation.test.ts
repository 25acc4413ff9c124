import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { nodeFileSystem } from "../../../src/runtime/shared/fs.ts";
import {
  applyRetention,
  DEFAULT_ROTATE_BYTES,
  DEFAULT_ROTATE_INTERVAL_MS,
  DEFAULT_ROTATION,
  isRotatedName,
  listRotated,
  parseRotatedName,
  rotatedPath,
  Rotator,
  splitPath,
} from "../../../src/sinks/rotation.ts";

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "tapline-rotation-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Waits for `promise`, failing after `ms`; the ref'd timer also keeps the event loop alive while the rotator's unref'd one runs. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Not settled within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const AT = new Date("2026-11-21T10:15:02.123Z");

describe("rotatedPath", () => {
  test("puts a compact UTC stamp before the extension, with no colon", () => {
    assert.equal(rotatedPath("api.jsonl", AT), "api-20261121T101502.123Z.jsonl");
    assert.equal(rotatedPath("./logs/api.jsonl", AT), "./logs/api-20261121T101502.123Z.jsonl");
    assert.equal(rotatedPath("/var/log/tap/api.db", AT), "/var/log/tap/api-20261121T101502.123Z.db");
    assert.equal(rotatedPath("C:\\logs\\api.jsonl", AT), "C:\\logs\\api-20261121T101502.123Z.jsonl");
    assert.equal(rotatedPath("logs.d/api", AT), "logs.d/api-20261121T101502.123Z");
    assert.equal(rotatedPath("logs/.hidden", AT), "logs/.hidden-20261121T101502.123Z");
    assert.equal(rotatedPath("logs/api.v2.jsonl", AT), "logs/api.v2-20261121T101502.123Z.jsonl");
    assert.doesNotMatch(rotatedPath("api.jsonl", AT), /:/);
    // A zone offset in the input does not leak into the name: it is always UTC.
    assert.equal(rotatedPath("a.jsonl", new Date("2026-11-21T12:15:02.123+02:00")), "a-20261121T101502.123Z.jsonl");
  });

  test("names sort lexically in time order", () => {
    const start = Date.UTC(2001, 0, 1);
    const times: number[] = [];
    let seed = 7;
    for (let i = 0; i < 500; i++) {
      seed = (seed * 48271) % 2147483647;
      // Spread from milliseconds apart to years apart.
      times.push(start + (seed % 10) ** (seed % 13));
    }
    times.push(start, start + 1, start + 999, start + 1000, start + 59_999, start + 60_000, start + 86_400_000);
    const names = times.map((t) => ({ t, name: rotatedPath("api.jsonl", new Date(t)) }));
    const byName = [...names].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((n) => n.t);
    const byTime = [...names].sort((a, b) => a.t - b.t).map((n) => n.t);
    assert.deepEqual(byName, byTime);
  });

  test("a taken name gets a counter instead of being overwritten (set or predicate)", () => {
    const first = rotatedPath("logs/api.jsonl", AT);
    const taken = new Set([first]);
    const second = rotatedPath("logs/api.jsonl", AT, taken);
    assert.equal(second, "logs/api-20261121T101502.123Z_1.jsonl");
    taken.add(second);
    const third = rotatedPath("logs/api.jsonl", AT, (p) => taken.has(p));
    assert.equal(third, "logs/api-20261121T101502.123Z_2.jsonl");
    assert.equal(new Set([first, second, third]).size, 3);
  });

  test("rejects an invalid date", () => {
    assert.throws(() => rotatedPath("api.jsonl", new Date(Number.NaN)), RangeError);
  });
});

describe("rotated names", () => {
  test("splitPath keeps the last extension and a leading dot", () => {
    assert.deepEqual(splitPath("a/b.c/api.jsonl"), { dir: "a/b.c/", stem: "api", ext: ".jsonl" });
    assert.deepEqual(splitPath(".hidden"), { dir: "", stem: ".hidden", ext: "" });
    assert.deepEqual(splitPath("x\\y.db"), { dir: "x\\", stem: "y", ext: ".db" });
  });

  test("isRotatedName matches this file's rotations only", () => {
    const yes = [
      "api-20261121T101502.123Z.jsonl",
      "api-20261121T101502.123Z_1.jsonl",
      "api-20261121T101502.123Z_12.jsonl",
    ];
    for (const name of yes) assert.equal(isRotatedName("api.jsonl", name), true, name);
    const no = [
      "api.jsonl",
      "api-v2.jsonl",
      "api-v2-20261121T101502.123Z.jsonl",
      "api-20261121T101502.123Z.db",
      "api-20261121T101502.123Z.jsonl.tmp",
      ".api-20261121T101502.123Z.jsonl",
      "api-20261121T101502.123Z_0.jsonl",
      "api-20261121T101502.123Z-x.jsonl",
      "api-2026-11-21T10:15:02.123Z.jsonl",
      "apix20261121T101502.123Z.jsonl",
      "other-20261121T101502.123Z.jsonl",
    ];
    for (const name of no) assert.equal(isRotatedName("api.jsonl", name), false, name);
    // Regex characters in a file name are taken literally.
    assert.equal(isRotatedName("a.b.jsonl", "axb-20261121T101502.123Z.jsonl"), false);
    assert.equal(isRotatedName("a.b.jsonl", "a.b-20261121T101502.123Z.jsonl"), true);
    assert.deepEqual(parseRotatedName("api.jsonl", "api-20261121T101502.123Z_12.jsonl"), {
      stamp: "20261121T101502.123Z",
      counter: 12,
    });
  });
});

async function touch(path: string, text = "x\n"): Promise<void> {
  await writeFile(path, text);
}

describe("listRotated and applyRetention", () => {
  const others = [
    "api.jsonl",
    "api-v2.jsonl",
    "api-v2-20200101T000000.000Z.jsonl",
    "api-20200101T000000.000Z.db",
    "notes.txt",
    ".api.jsonl.123.tmp",
  ];
  const rotations = [
    "api-20250101T000000.000Z.jsonl",
    "api-20250101T000000.001Z.jsonl",
    "api-20250101T000000.001Z_1.jsonl",
    "api-20250101T000000.001Z_2.jsonl",
    "api-20250101T000000.001Z_10.jsonl",
    "api-20260101T000000.000Z.jsonl",
  ];
  async function fresh(name: string): Promise<string> {
    const sub = join(dir, name);
    await mkdir(sub, { recursive: true });
    // Written in shuffled order, so the listing's order is not the creation order.
    for (const file of [...others, ...[...rotations].reverse()]) await touch(join(sub, file));
    return sub;
  }

  test("lists the rotations of one live file oldest first, counters numerically", async () => {
    const sub = await fresh("list");
    assert.deepEqual(await listRotated(nodeFileSystem, join(sub, "api.jsonl")), rotations.map((n) => join(sub, n)));
    assert.deepEqual(await listRotated(nodeFileSystem, join(sub, "missing", "api.jsonl")), []);
  });

  test("keeps the newest N and removes the rest, touching nothing else", async () => {
    const sub = await fresh("keep2");
    const removed = await applyRetention(nodeFileSystem, join(sub, "api.jsonl"), 2);
    assert.deepEqual(removed, rotations.slice(0, 4).map((n) => join(sub, n)));
    assert.deepEqual((await readdir(sub)).sort(), [...others, ...rotations.slice(4)].sort());
    // Applying it again removes nothing more.
    assert.deepEqual(await applyRetention(nodeFileSystem, join(sub, "api.jsonl"), 2), []);
  });

  test("-1 keeps everything; 0 keeps no rotated file but the live one", async () => {
    const sub = await fresh("unlimited");
    assert.deepEqual(await applyRetention(nodeFileSystem, join(sub, "api.jsonl"), -1), []);
    assert.deepEqual((await readdir(sub)).sort(), [...others, ...rotations].sort());
    const removed = await applyRetention(nodeFileSystem, join(sub, "api.jsonl"), 0);
    assert.equal(removed.length, rotations.length);
    assert.deepEqual((await readdir(sub)).sort(), [...others].sort());
  });

  test("a relative bare path lists the working directory", async () => {
    const sub = await fresh("relative");
    const cwd = process.cwd();
    process.chdir(sub);
    try {
      assert.deepEqual(await listRotated(nodeFileSystem, "api.jsonl"), rotations);
    } finally {
      process.chdir(cwd);
    }
  });

  test("a failed removal is reported by name after trying the others", async () => {
    const removedPaths: string[] = [];
    const fs = {
      list: () => Promise.resolve(["a-20250101T000000.000Z.log", "a-20250101T000000.001Z.log", "a.log"]),
      remove: (path: string) => {
        if (path.endsWith("000Z.log")) return Promise.reject(new Error("EACCES: permission denied"));
        removedPaths.push(path);
        return Promise.resolve();
      },
    };
    await assert.rejects(applyRetention(fs, "d/a.log", 0), (error: Error) => {
      assert.match(
        error.message,
        /Failed to remove 1 expired rotated file\(s\) of d\/a\.log: d\/a-20250101T000000\.000Z\.log/,
      );
      assert.match(error.message, /EACCES/);
      return true;
    });
    assert.deepEqual(removedPaths, ["d/a-20250101T000000.001Z.log"]);
    await assert.rejects(applyRetention(fs, "d/a.log", 1.5), RangeError);
  });
});

describe("Rotator", () => {
  test("defaults are 100 MB and one hour", () => {
    assert.equal(DEFAULT_ROTATE_BYTES, 100 * 1024 * 1024);
    assert.equal(DEFAULT_ROTATE_INTERVAL_MS, 3_600_000);
    assert.deepEqual({ ...DEFAULT_ROTATION }, {
      maxBytes: DEFAULT_ROTATE_BYTES,
      intervalMs: DEFAULT_ROTATE_INTERVAL_MS,
    });
  });

  test("is due once the size is reached, counting the bytes already in the file", () => {
    const rotator = new Rotator({ maxBytes: 100, intervalMs: 0 });
    rotator.opened(40);
    assert.equal(rotator.appended(59), false);
    assert.equal(rotator.size, 99);
    assert.equal(rotator.appended(1), true);
    assert.equal(rotator.sizeDue, true);
    rotator.opened();
    assert.equal(rotator.due, false);
    assert.equal(rotator.size, 0);
  });

  test("a zero size limit never rotates by size", () => {
    const rotator = new Rotator({ maxBytes: 0, intervalMs: 0 });
    rotator.opened();
    assert.equal(rotator.appended(Number.MAX_SAFE_INTEGER), false);
    assert.throws(() => new Rotator({ maxBytes: -1, intervalMs: 0 }), RangeError);
    assert.throws(() => new Rotator({ maxBytes: 1, intervalMs: Number.NaN }), RangeError);
  });

  test("the interval fires once after opening, and stays due until reopened", async () => {
    let fired = 0;
    let resolve: () => void = () => {};
    const promise = new Promise<void>((r) => (resolve = r));
    const rotator = new Rotator({ maxBytes: 0, intervalMs: 40 }, () => {
      fired++;
      resolve();
    });
    const started = performance.now();
    rotator.opened(10);
    assert.equal(rotator.due, false);
    await within(promise, 3000);
    assert.ok(performance.now() - started >= 39, "not before the interval");
    assert.equal(rotator.intervalDue, true);
    assert.equal(rotator.due, true);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(fired, 1, "one shot until the next opened()");
    rotator.opened();
    assert.equal(rotator.due, false);
    rotator.stop();
  });

  test("an interval ending on an empty file waits for the first write, then runs whole", async () => {
    let fired = 0;
    let resolve: () => void = () => {};
    const promise = new Promise<void>((r) => (resolve = r));
    const rotator = new Rotator({ maxBytes: 0, intervalMs: 30 }, () => {
      fired++;
      resolve();
    });
    rotator.opened(0);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(fired, 0, "no rotation of an empty file");
    assert.equal(rotator.due, false);
    const written = performance.now();
    rotator.appended(5);
    await within(promise, 3000);
    assert.ok(performance.now() - written >= 29, "a whole interval after the first write");
    assert.equal(fired, 1);
    rotator.stop();
  });

  test("stop cancels the timer and opened re-arms it from zero", async () => {
    let fired = 0;
    const rotator = new Rotator({ maxBytes: 0, intervalMs: 100 }, () => fired++);
    rotator.opened(1);
    rotator.stop();
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(fired, 0);
    rotator.opened(1);
    await new Promise((r) => setTimeout(r, 50));
    const reopened = performance.now();
    rotator.opened(1);
    await new Promise((r) => setTimeout(r, 60));
    // The old deadline passed 10 ms ago and must not fire; skipped only if timers ran so late the new one passed too.
    if (performance.now() - reopened < 95) assert.equal(fired, 0, "reopening restarts the interval");
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(fired, 1);
    rotator.stop();
  });

  test("a timer does not keep the process alive on Node", () => {
    // Observable through the handle list: an unref'd timer is not a ref'd active resource.
    const rotator = new Rotator({ maxBytes: 0, intervalMs: 60_000 });
    const before = process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    rotator.opened();
    const during = process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    rotator.stop();
    assert.equal(during, before);
  });
});
