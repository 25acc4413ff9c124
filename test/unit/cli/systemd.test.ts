import assert from "node:assert/strict";
import { test } from "node:test";
import { quoteSystemdArg, renderSystemdUnit } from "../../../src/cli/systemd.ts";

test("quoteSystemdArg leaves plain words alone and escapes the rest", () => {
  assert.equal(quoteSystemdArg("--log-level=debug"), "--log-level=debug");
  assert.equal(
    quoteSystemdArg("name=api,listen_http=:8080,upstream=http://localhost:3000"),
    "name=api,listen_http=:8080,upstream=http://localhost:3000",
  );
  assert.equal(quoteSystemdArg("/opt/my app/x.yaml"), '"/opt/my app/x.yaml"');
  assert.equal(quoteSystemdArg('say "hi"'), '"say \\"hi\\""');
  assert.equal(quoteSystemdArg("a\\b"), '"a\\\\b"');
  assert.equal(quoteSystemdArg("100%"), "100%%");
  assert.equal(quoteSystemdArg("^/a$"), "^/a$$");
  assert.equal(quoteSystemdArg(""), '""');
  assert.equal(quoteSystemdArg("a;b"), '"a;b"');
  assert.equal(quoteSystemdArg("it's"), '"it\'s"');
});

test("renderSystemdUnit repeats every flag in ExecStart", () => {
  const args = [
    "--proxy",
    "name=api,listen_http=:8080,upstream=http://localhost:3000,log_jsonl=/var/log/tap/,include_path=^/api$",
    "--config",
    "/etc/tap line/tapline.yaml",
    "--log-level=debug",
    "--auto-cert",
  ];
  const unit = renderSystemdUnit({
    execStart: ["/usr/bin/node", "/opt/tapline/bin/tapline.js"],
    args,
    workingDirectory: "/srv/tapline",
    shutdownTimeout: 60_000,
    environment: { TAPLINE_MAX_BODY_SIZE: "10MB" },
  });
  const execStart = unit.split("\n").find((line) => line.startsWith("ExecStart="));
  assert.equal(
    execStart,
    'ExecStart=/usr/bin/node /opt/tapline/bin/tapline.js --proxy name=api,listen_http=:8080,upstream=http://localhost:3000,log_jsonl=/var/log/tap/,include_path=^/api$$ --config "/etc/tap line/tapline.yaml" --log-level=debug --auto-cert',
  );
  for (
    const expected of [
      "[Unit]",
      "After=network-online.target",
      "[Service]",
      "Type=simple",
      "WorkingDirectory=/srv/tapline",
      "Environment=TAPLINE_MAX_BODY_SIZE=10MB",
      "Restart=on-failure",
      "KillSignal=SIGTERM",
      "TimeoutStopSec=70",
      "[Install]",
      "WantedBy=multi-user.target",
    ]
  ) {
    assert.ok(unit.split("\n").includes(expected), `missing ${expected} in:\n${unit}`);
  }
  assert.ok(
    unit.indexOf("[Unit]") < unit.indexOf("[Service]") && unit.indexOf("[Service]") < unit.indexOf("[Install]"),
  );
});

test("the stop timeout defaults to a little over 30 s", () => {
  const unit = renderSystemdUnit({ execStart: ["/bin/tapline"], args: [], workingDirectory: "/" });
  assert.match(unit, /^TimeoutStopSec=40$/m);
});
