import assert from "node:assert/strict";
import { test } from "node:test";
import { generateToken, sameDigest, tokenProblem, TokenStore } from "../../../src/admin/tokens.ts";
import { ConfigError } from "../../../src/shared/errors.ts";

const ADMIN = "a".repeat(20) + "0123456789abcdef";
const READ = "Zm9vYmFyYmF6cXV4cXV1eA==";

test("tokenProblem accepts RFC 6750 tokens of 16 to 1024 characters and says why others fail", () => {
  assert.equal(tokenProblem(generateToken()), undefined);
  assert.equal(tokenProblem(READ), undefined);
  assert.equal(tokenProblem("a-b.c_d~e+f/g0123456"), undefined);
  assert.match(tokenProblem("short")!, /at least 16 characters long \(it has 5\)/);
  assert.match(tokenProblem("x".repeat(1025))!, /at most 1024/);
  for (const bad of ["has:colon-0123456789", "has space 0123456789", "padding=in-the-middle0", "ünïcödé-0123456789"]) {
    assert.match(tokenProblem(bad)!, /may contain only letters, digits/, bad);
  }
});

test("tokenProblem never repeats the token", () => {
  for (const token of ["secret", "secret:secret-secret-secret", "s".repeat(2000)]) {
    assert.ok(!tokenProblem(token)!.includes("secret") && !tokenProblem(token)!.includes("sss"), token);
  }
});

test("generateToken gives 256 random bits as 64 hex digits", () => {
  const tokens = new Set(Array.from({ length: 50 }, generateToken));
  assert.equal(tokens.size, 50);
  for (const token of tokens) assert.match(token, /^[0-9a-f]{64}$/);
});

test("the store gives each token's scope and nothing for anything else", async () => {
  const store = await TokenStore.create([
    { token: ADMIN, scope: "admin", source: "a" },
    { token: READ, scope: "read", source: "b" },
  ]);
  assert.equal(store.size, 2);
  assert.equal(store.count("admin"), 1);
  assert.equal(store.count("read"), 1);
  assert.equal(await store.scopeOf(ADMIN), "admin");
  assert.equal(await store.scopeOf(READ), "read");
  for (const other of ["", ADMIN.slice(0, -1), ADMIN + "x", ADMIN.toUpperCase(), ` ${ADMIN}`, READ.slice(1)]) {
    assert.equal(await store.scopeOf(other), undefined, JSON.stringify(other));
  }
  assert.equal(await (await TokenStore.create([])).scopeOf(ADMIN), undefined);
});

test("a token configured twice is an error naming both sources and not the token", async () => {
  await assert.rejects(
    TokenStore.create([
      { token: ADMIN, scope: "admin", source: "TAPLINE_ADMIN_TOKEN" },
      { token: READ, scope: "read", source: "t.txt:1:1" },
      { token: ADMIN, scope: "read", source: "t.txt:2:6" },
    ]),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.message, "The same admin token is configured twice: TAPLINE_ADMIN_TOKEN and t.txt:2:6");
      return true;
    },
  );
});

/** A 32-byte digest whose index reads are counted. */
function counted(bytes: Uint8Array, reads: Set<number>): Uint8Array {
  return new Proxy(bytes, {
    get(target, key) {
      if (typeof key === "string" && /^\d+$/.test(key)) reads.add(Number(key));
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

test("sameDigest looks at every byte even when the first one differs", () => {
  const a = new Uint8Array(32).fill(7);
  const b = new Uint8Array(32).fill(7);
  assert.equal(sameDigest(a, b), true);
  for (const at of [0, 1, 31]) {
    const c = b.slice();
    c[at] = 8;
    const readsA = new Set<number>();
    const readsC = new Set<number>();
    assert.equal(sameDigest(counted(a, readsA), counted(c, readsC)), false, `differs at ${at}`);
    assert.equal(readsA.size, 32, `every byte of the first digest read (difference at ${at})`);
    assert.equal(readsC.size, 32, `every byte of the second digest read (difference at ${at})`);
  }
  assert.equal(sameDigest(a, new Uint8Array(31).fill(7)), false);
});
