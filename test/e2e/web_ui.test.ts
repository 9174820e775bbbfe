/**
 * The web view in a real headless Chromium (Debian's chromium, driven by
 * playwright-core): on a 5-node cluster the members view shows 5 alive, the
 * stats view numbers for every node, a batch submitted with gcheck appears
 * and fills in to 5/5, a killed node turns dead on the page; no console
 * errors. With a token, the page asks for it and then works. Screenshots go
 * to test-artifacts/ui/.
 */
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, writeFileSync, chmodSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { type ClusterNode, startCluster, startClusterNode, stopAll, waitForView } from "../support/daemon_cluster.js";
import { ROOT, runGcheck, tempDir } from "../support/proc.js";
import { spawn } from "node:child_process";

// The page's globals, as far as the functions run inside the browser use them (the tests compile without the DOM library).
declare const document: {
  querySelector(selector: string): { textContent: string | null; scrollTop: number; scrollHeight: number } | null;
  querySelectorAll(selector: string): Iterable<{ textContent: string | null }>;
  documentElement: { scrollWidth: number; clientWidth: number };
};

const CHROMIUM = process.env.GOSSIPCHECK_CHROMIUM ?? "/usr/bin/chromium";
const ARTIFACTS = join(ROOT, "test-artifacts", "ui");
const haveChromium = existsSync(CHROMIUM);
// CI installs chromium (.ci/run): there its absence is a failure, elsewhere a skip that says why.
const skip = !haveChromium && !process.env.CI ? `no chromium at ${CHROMIUM} (apt-get install chromium, or set GOSSIPCHECK_CHROMIUM)` : false;

let browser: Browser | undefined;
let nodes: ClusterNode[] = [];
const problems: string[] = [];

async function newPage(): Promise<Page> {
  const page = await browser!.newPage({ viewport: { width: 1280, height: 800 } });
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  return page;
}

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

before(async () => {
  if (skip) return;
  const { chromium } = await import("playwright-core");
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-default-apps",
      "--disable-sync",
      "--disable-domain-reliability",
      "--disable-client-side-phishing-detection",
      "--no-first-run",
      "--metrics-recording-only",
    ],
  });
  nodes = await startCluster(["ui-a", "ui-b", "ui-c", "ui-d", "ui-e"]);
  await waitForView(nodes, ["ui-a:alive", "ui-b:alive", "ui-c:alive", "ui-d:alive", "ui-e:alive"], 20_000);
});

after(async () => {
  await browser?.close();
  await stopAll(nodes);
});

test("the web view follows a 5-node cluster live: members, stats, a batch filling in to 5/5, a killed node turning dead", { skip, timeout: 120_000 }, async () => {
  const page = await newPage();
  const base = `http://${nodes[0]!.cli}/ui/`;

  await page.goto(`${base}#/members`);
  await page.waitForFunction(() => document.querySelector("#count-alive")?.textContent?.trim() === "5", null, { timeout: 15_000 });
  // The windowed list draws its rows once it has measured its box (a frame after the counts): wait for them.
  await page.waitForFunction(() => [...document.querySelectorAll('[data-member][data-status="alive"]')].length === 5, null, { timeout: 5_000 });
  assert.equal(await page.locator('[data-member][data-status="alive"]').count(), 5);
  assert.equal((await page.locator("#daemon-name").textContent())?.trim(), "ui-a");
  await shot(page, "members");

  await page.goto(`${base}#/stats`);
  await page.waitForFunction(() => [...document.querySelectorAll("[data-stats-node] [data-cpu]")].filter((c) => /^[0-9.]+$/.test(c.textContent?.trim() ?? "")).length === 5, null, { timeout: 20_000 });
  for (const n of nodes) assert.match((await page.locator(`[data-stats-node="${n.name}"] [data-cpu]`).textContent())!.trim(), /^[0-9.]+$/, `${n.name} has a CPU figure`);
  await shot(page, "stats");

  await page.goto(`${base}#/batches`);
  // The page is open before the batch exists: it must appear, not be loaded on navigation.
  await page.waitForSelector("#app", { timeout: 5_000 });
  const run = await runGcheck(["-server", nodes[0]!.cli, "-file", join(ROOT, "examples/checks/demo.json"), "check", "-dry-run", "-output", "json"]);
  assert.ok(run.code === 0 || run.code === 1, `gcheck check exited ${run.code}: ${run.stderr}`);
  const batchId = (JSON.parse(run.stdout) as { batchId: string }).batchId;
  assert.match(batchId, /^[0-9a-f]{32}$/);
  await page.waitForSelector(`[data-batch="${batchId}"][data-answered="5"][data-expected="5"]`, { timeout: 15_000 });
  await page.locator(`[data-batch="${batchId}"]`).click();
  await page.waitForFunction(() => document.querySelector("#batch-progress")?.textContent?.trim() === "5/5", null, { timeout: 15_000 });
  await page.waitForFunction(() => [...document.querySelectorAll("[data-grid-node]")].length === 5, null, { timeout: 5_000 });
  assert.equal(await page.locator("[data-grid-node]").count(), 5);
  assert.equal(await page.locator('[data-cell-status="pending"]').count(), 0);
  await shot(page, "batch");

  await page.goto(`${base}#/members`);
  await page.waitForFunction(() => document.querySelector("#count-alive")?.textContent?.trim() === "5", null, { timeout: 10_000 });
  await nodes[4]!.proc.kill9();
  await page.waitForSelector('[data-member="ui-e"][data-status="dead"]', { timeout: 30_000 });
  assert.equal((await page.locator("#count-alive").textContent())?.trim(), "4");
  await shot(page, "members-dead");

  // A phone's screen: the same view, readable (no horizontal overflow of the page itself).
  await page.setViewportSize({ width: 390, height: 844 });
  await shot(page, "members-phone");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 1, `the page is ${overflow} px wider than a phone's screen`);
  await page.close();
  assert.deepEqual(problems, []);
});

test("with a token the page asks for it; a wrong one is refused, the right one opens the live view", { skip, timeout: 60_000 }, async () => {
  const dir = tempDir();
  const tokenFile = join(dir.path, "token");
  writeFileSync(tokenFile, "ui-test-token-0123456789abcdef\n");
  chmodSync(tokenFile, 0o600);
  const locked = await startClusterNode("ui-locked", ["-cli-token-file", tokenFile]);
  try {
    const page = await newPage();
    const base = `http://${locked.cli}/ui/`;
    // The 401 of the sign-in page itself is a console line Chromium always prints: not the page's fault.
    const before = problems.length;
    await page.goto(base);
    await page.fill("#token", "wrong-token-wrong-token");
    await page.click('button[type="submit"]');
    await page.waitForSelector('p.error[role="alert"]', { timeout: 10_000 });
    await page.fill("#token", "ui-test-token-0123456789abcdef");
    await page.click('button[type="submit"]');
    await page.waitForFunction(() => document.querySelector("#count-alive")?.textContent?.trim() === "1", null, { timeout: 15_000 });
    await shot(page, "signed-in");
    problems.splice(before, problems.length - before, ...problems.slice(before).filter((p) => !/status of 401/.test(p)));
    await page.close();
    assert.deepEqual(problems, []);
  } finally {
    await locked.proc.stop();
    dir.cleanup();
  }
});

test("at 1,000 members the views stay windowed: a few dozen rows in the DOM, the last member reachable by scrolling", { skip, timeout: 60_000 }, async () => {
  // 1,000 real daemons do not fit on a test host: the page is fed by web/dev/fake-daemon.mjs, which speaks the same streams.
  const fake = spawn(process.execPath, [join(ROOT, "web/dev/fake-daemon.mjs"), "--port", "0", "--nodes", "1000"], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = "";
      fake.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        const m = /(http:\/\/127\.0\.0\.1:\d+\/ui\/)/.exec(out);
        if (m) resolve(m[1]!);
      });
      fake.once("exit", (code) => reject(new Error(`the fake daemon exited ${code}: ${out}`)));
    });
    const page = await newPage();
    await page.goto(`${url}#/members`);
    await page.waitForFunction(() => document.querySelector("#count-total")?.textContent?.trim() === "1000", null, { timeout: 15_000 });
    const rendered = await page.locator("[data-member]").count();
    assert.ok(rendered > 5 && rendered < 100, `${rendered} member rows in the DOM for 1,000 members`);
    await page.evaluate(() => {
      const list = document.querySelector(".vlist")!;
      list.scrollTop = list.scrollHeight;
    });
    await page.waitForSelector('[data-member="node-0999"]', { timeout: 5_000 });
    await page.goto(`${url}#/stats`);
    await page.waitForSelector("[data-stats-node]", { timeout: 15_000 });
    const statsRows = await page.locator("[data-stats-node]").count();
    assert.ok(statsRows < 100, `${statsRows} stats rows in the DOM for 1,000 nodes`);
    await shot(page, "stats-1000");
    await page.close();
    assert.deepEqual(problems, []);
  } finally {
    fake.kill("SIGTERM");
  }
});
