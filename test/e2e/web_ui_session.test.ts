/**
 * The web view's session on a daemon with a token, spoken over plain HTTP:
 * the token buys a cookie once; the cookie opens the page and the GET
 * streams; anything that changes something also needs the CSRF header; a
 * wrong token, a forged cookie or a signed-out session opens nothing.
 */
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type ClusterNode, startClusterNode } from "../support/daemon_cluster.js";
import { tempDir } from "../support/proc.js";

const TOKEN = "session-test-token-0123456789";
let node: ClusterNode;
let dir: { path: string; cleanup: () => void };

before(async () => {
  dir = tempDir();
  const tokenFile = join(dir.path, "token");
  writeFileSync(tokenFile, TOKEN + "\n");
  chmodSync(tokenFile, 0o600);
  node = await startClusterNode("sess", ["-cli-token-file", tokenFile]);
});
after(async () => {
  await node?.proc.stop();
  dir?.cleanup();
});

const url = (path: string) => `http://${node.cli}${path}`;
const login = (token: string) => fetch(url("/ui/login"), { method: "POST", body: new URLSearchParams({ token }), redirect: "manual" });
const check = JSON.stringify({ checks: { host: { type: "file_exists", path: "/etc/hostname" } }, dryRun: true });

test("without a session only the sign-in page is served, and it carries no data", async () => {
  const page = await fetch(url("/ui/"));
  assert.equal(page.status, 401);
  assert.match(await page.text(), /<form method="post" action="\/ui\/login">/);
  assert.equal((await fetch(url("/ui/app.js"))).status, 401);
  assert.equal((await fetch(url("/ui/app.css"))).status, 200);
  assert.equal((await fetch(url("/v1/streams/members"))).status, 401);
  assert.equal((await fetch(url("/v1/info"), { headers: { cookie: "gossipcheck_session=" + "A".repeat(43) } })).status, 401, "a forged cookie opens nothing");
});

test("a wrong token is refused with the form and a message; the right one sets an HttpOnly, SameSite=Strict cookie", async () => {
  const wrong = await login("not-the-token-at-all");
  assert.equal(wrong.status, 401);
  assert.match(await wrong.text(), /wrong token/);
  const right = await login(TOKEN);
  assert.equal(right.status, 303);
  assert.equal(right.headers.get("location"), "/ui/");
  const cookie = right.headers.get("set-cookie")!;
  assert.match(cookie, /^gossipcheck_session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=43200; HttpOnly; SameSite=Strict/);
  const session = cookie.split(";")[0]!;

  assert.equal((await fetch(url("/ui/"), { headers: { cookie: session } })).status, 200);
  assert.match(await (await fetch(url("/ui/"), { headers: { cookie: session } })).text(), /app\.js/);
  const stream = await fetch(url("/v1/streams/members"), { headers: { cookie: session } });
  assert.equal(stream.status, 200);
  await stream.body?.cancel();

  // A change needs the CSRF header as well as the cookie.
  assert.equal((await fetch(url("/v1/check"), { method: "POST", body: check, headers: { cookie: session } })).status, 401);
  const ok = await fetch(url("/v1/check"), { method: "POST", body: check, headers: { cookie: session, "x-gossipcheck-ui": "1" } });
  assert.equal(ok.status, 200);
  assert.match(await ok.text(), /"type":"done"/);

  // Signing out ends the session for good.
  const out = await fetch(url("/ui/logout"), { method: "POST", headers: { cookie: session, "x-gossipcheck-ui": "1" }, redirect: "manual" });
  assert.equal(out.status, 303);
  assert.equal((await fetch(url("/v1/info"), { headers: { cookie: session } })).status, 401);
  // The bearer token still works as before.
  assert.equal((await fetch(url("/v1/info"), { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200);
});
