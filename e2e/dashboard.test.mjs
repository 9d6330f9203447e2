// The dashboard in a real browser against a real server: `switchyard serve` on a fresh
// SQLite file with its built-in sandbox carrier, driven by playwright-core in Debian's
// chromium. Screenshots of every page land in $SWITCHYARD_E2E_ARTIFACTS (default
// e2e/artifacts).
//
// SWITCHYARD_BIN names the binary (CI builds it); CHROMIUM the browser (/usr/bin/chromium).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const BIN = process.env.SWITCHYARD_BIN || join(here, "..", "target", "debug", "switchyard");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const SHOTS = process.env.SWITCHYARD_E2E_ARTIFACTS || join(here, "artifacts");
const PASSWORD = "correct horse battery staple";

let server;
let dir;
let base;
let setupUrl;
let browser;
let context;
let page;
const consoleErrors = [];

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Starts `switchyard serve` and waits for its set-up link. */
async function startServer() {
  dir = mkdtempSync(join(tmpdir(), "switchyard-e2e-"));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(BIN, ["--database-url", `sqlite://${join(dir, "db.sqlite")}`, "--master-key-file", join(dir, "key"), "serve", "--listen", `127.0.0.1:${port}`], {
    env: { ...process.env, SWITCHYARD_LOG: "warn" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  setupUrl = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no set-up link within 60 s:\n${stderr}`)), 60_000);
    server.stderr.on("data", (chunk) => {
      stderr += chunk;
      const m = stderr.match(/open (http\S+\/setup\?token=[0-9a-f]+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    server.once("exit", (code) => reject(new Error(`serve exited with ${code}:\n${stderr}`)));
  });
}

/** Saves a screenshot of the page, after checking it shows no stray `null`, `undefined`
 * or `NaN` (a value the page failed to format). */
async function shot(name, p = page) {
  const text = await p.locator("body").innerText();
  assert.doesNotMatch(text, /\b(null|undefined|NaN)\b/, `${name}: a value shown unformatted`);
  await p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** Every form control on the page has an accessible name (a label or aria-label). */
async function assertLabelled(p = page) {
  const unlabelled = await p.$$eval("input:not([type=hidden]), select, textarea", (els) =>
    els.filter((el) => !(el.labels && el.labels.length) && !el.getAttribute("aria-label")).map((el) => el.outerHTML.slice(0, 80)));
  assert.deepEqual(unlabelled, [], "form controls without a label");
}

/** Goes to a page by its nav link (keyboard: focus and Enter) and waits for its heading. */
async function openByNav(name, heading) {
  const link = page.getByRole("navigation", { name: "Main" }).getByRole("link", { name });
  await link.focus();
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { level: 1, name: heading }).waitFor();
}

/** Calls the API with an API key, outside the browser. */
async function withKey(key, path, init = {}) {
  const resp = await fetch(base + path, { ...init, headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json", ...(init.headers || {}) } });
  return { status: resp.status, body: await resp.json().catch(() => null) };
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  await startServer();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(`${page.url()}: ${m.text()}`); });
  page.on("pageerror", (e) => consoleErrors.push(`${page.url()}: ${e.message}`));
});

after(async () => {
  await browser?.close();
  server?.kill("SIGTERM");
  if (dir) rmSync(dir, { recursive: true, force: true });
});

let apiKey;

test("first run: the set-up link creates the organisation and its owner", async () => {
  await page.goto(setupUrl);
  await page.getByRole("heading", { name: "Set up Switchyard" }).waitFor();
  await assertLabelled();
  await shot("setup");
  await page.getByLabel("Organisation name").fill("Acme Calls");
  await page.getByLabel("Your name").fill("Olivia Ops");
  await page.getByLabel("Email").fill("olivia@acme.test");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create the account" }).click();
  await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
  assert.match(await page.locator("#who").innerText(), /olivia@acme\.test · owner · Acme Calls/);
  // The link works once.
  const again = await page.evaluate(async (token) => (await fetch("/ui/setup", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ token, organisation: "X", email: "x@x.test", password: "long enough pw" }) })).status, new URL(setupUrl).searchParams.get("token"));
  assert.equal(again, 403);
});

test("sign out, then in with the password and with an API key; changes need the CSRF token", async () => {
  // An API key made through the session, for the API checks below.
  const made = await page.evaluate(async () => {
    const s = await (await fetch("/ui/session")).json();
    const noCsrf = await fetch("/v1/keys", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ role: "admin", name: "e2e" }) });
    const ok = await fetch("/v1/keys", { method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": s.csrf_token }, body: JSON.stringify({ role: "admin", name: "e2e" }) });
    return { noCsrf: noCsrf.status, ok: ok.status, body: await ok.json() };
  });
  assert.equal(made.noCsrf, 403, "a change without the CSRF token is refused");
  assert.equal(made.ok, 201);
  apiKey = made.body.secret;

  const cookie = (await context.cookies()).find((c) => c.name === "sy_session");
  assert.ok(cookie.httpOnly, "the session cookie is HttpOnly");
  assert.equal(cookie.sameSite, "Strict");

  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("heading", { name: "Sign in to Switchyard" }).waitFor();
  await assertLabelled();
  await shot("login");
  await page.getByLabel("Email").fill("olivia@acme.test");
  await page.getByLabel("Password").fill("wrong password!");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByRole("alert").filter({ hasText: "not right" }).waitFor();
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();

  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByLabel("API key").fill(apiKey);
  await page.getByRole("button", { name: "Sign in with the key" }).click();
  await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
  assert.match(await page.locator("#who").innerText(), /e2e · admin · Acme Calls/);
  await page.getByRole("link", { name: /e2e · admin/ }).click();
  await page.getByText("keys have no password").waitFor();
  // Back as the owner for the rest.
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByLabel("Email").fill("olivia@acme.test");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
});

test("add a provider from its template and test the connection", async () => {
  await openByNav("Providers", "Providers");
  await page.getByLabel("Type").selectOption("sandbox");
  await page.getByLabel("Name", { exact: true }).fill("Budget Carrier");
  await page.getByLabel(/API style/).fill("twilio");
  await assertLabelled();
  await page.getByRole("button", { name: "Add provider" }).click();
  const row = page.getByRole("row", { name: /Budget Carrier/ });
  await row.waitFor();
  await row.getByRole("button", { name: "Test" }).click();
  await page.locator(".toast").filter({ hasText: "Budget Carrier: connection works" }).waitFor();
  await shot("providers");
});

test("upload a deck with an error, see it reported by line and column, fix it and import", async () => {
  await openByNav("Rate decks", "Rate decks");
  await page.getByLabel("Channel", { exact: true }).first().selectOption("sms");
  await page.getByLabel("CSV file").setInputFiles({ name: "bad.csv", mimeType: "text/csv", buffer: Buffer.from("Code,Price\n1,0.0075\n44x,0.03\n") });
  // The mapping step: this file calls its columns Code and Price.
  await page.getByLabel("Prefix (required)").selectOption({ label: "1: Code" });
  await page.getByLabel("Rate (required)").selectOption({ label: "2: Price" });
  await page.getByRole("button", { name: "Check the file" }).click();
  const errors = page.getByTestId("deck-errors");
  await errors.waitFor();
  const cells = await errors.locator("tbody tr").first().locator("td").allInnerTexts();
  assert.equal(cells[0], "3", "the line of the bad row");
  assert.match(cells[1], /Code/, "the column");
  assert.match(cells[2], /44x/, "the reason names the value");
  assert.equal(await page.getByRole("button", { name: "Import" }).isVisible(), false, "no import while the file has errors");
  await shot("rates-errors");

  await page.getByLabel("CSV file").setInputFiles({ name: "good.csv", mimeType: "text/csv", buffer: Buffer.from("Code,Price\n1,0.0075\n44,0.03\n") });
  await page.getByLabel("Prefix (required)").selectOption({ label: "1: Code" });
  await page.getByLabel("Rate (required)").selectOption({ label: "2: Price" });
  await page.getByRole("button", { name: "Check the file" }).click();
  await page.getByTestId("dry-run-ok").waitFor();
  await page.getByRole("button", { name: "Import" }).click();
  await page.getByTestId("imported").waitFor();
  await page.getByRole("cell", { name: "good.csv" }).waitFor();
  await page.getByLabel("Number", { exact: true }).fill("+14155550100");
  await page.locator("form").filter({ has: page.getByRole("button", { name: "Look up" }) }).getByLabel("Channel").selectOption("sms");
  await page.getByRole("button", { name: "Look up" }).click();
  await page.getByRole("cell", { name: "0.0075 USD" }).waitFor();
  await shot("rates");
});

test("the routing tester shows the decision and why", async () => {
  await openByNav("Routing tester", "Routing tester");
  await page.getByLabel("Number or email address").fill("+442071234567");
  await page.getByLabel("Channel").selectOption("sms");
  await page.getByRole("button", { name: "Decide" }).click();
  const primary = page.getByTestId("primary");
  await primary.waitFor();
  assert.match(await primary.innerText(), /Goes to Budget Carrier at 0\.0300 USD/);
  assert.match(await primary.innerText(), /cheapest/);
  await shot("routing");
});

test("buy a number, then a test message updates the overview live", async () => {
  await openByNav("Numbers", "Numbers");
  await page.getByRole("button", { name: "Buy a number" }).click();
  await page.locator(".toast").filter({ hasText: "Bought +1" }).waitFor();
  await page.getByRole("button", { name: "Details" }).first().click();
  await page.getByRole("heading", { level: 2, name: /^\+1/ }).waitFor();
  await shot("numbers");

  await openByNav("Overview", "Overview");
  const messages = page.getByTestId("messages-today").locator(".value");
  assert.equal(await messages.innerText(), "0");
  await page.locator(".live").filter({ hasText: "live" }).waitFor();

  // Sent from a second tab; the first is not reloaded.
  const other = await context.newPage();
  await other.goto(`${base}/messages`);
  await other.getByRole("heading", { level: 1, name: "Logs" }).waitFor();
  await other.getByLabel("To").fill("+14155550123");
  await other.getByRole("button", { name: "Send test message" }).click();
  await other.locator(".toast").filter({ hasText: "Message" }).waitFor();
  await messages.filter({ hasText: "1" }).waitFor({ timeout: 15_000 });
  await page.getByTestId("messages-today").filter({ hasText: "delivered 100.0 %" }).waitFor({ timeout: 20_000 });
  await shot("overview");

  // The message's timeline: decision, attempt, provider reports, cost.
  await other.getByRole("link", { name: "+14155550123" }).first().click();
  await other.getByRole("heading", { name: "Timeline" }).waitFor();
  await other.getByTestId("status").filter({ hasText: "delivered" }).waitFor({ timeout: 15_000 });
  await other.reload();
  await other.getByRole("heading", { name: "Timeline" }).waitFor();
  const timeline = await other.locator(".timeline").innerText();
  assert.match(timeline, /Routed by least cost to Budget Carrier/);
  assert.match(timeline, /Attempt 1 through Budget Carrier/);
  assert.match(timeline, /Provider report: delivered/);
  await other.getByRole("cell", { name: "messaging" }).waitFor();
  await shot("message-detail", other);
  await other.goto(`${base}/messages`);
  await other.getByRole("link", { name: "+14155550123" }).first().waitFor();
  await shot("messages", other);
  await other.close();
});

test("create a budget and see its stop threshold drawn", async () => {
  await openByNav("Costs", "Costs");
  await page.getByLabel("Amount").last().fill("5");
  await page.getByLabel("Stop at %").last().fill("95");
  await page.getByRole("button", { name: "Create budget" }).click();
  const stop = page.getByTestId("stop-mark");
  await stop.waitFor();
  assert.equal(await stop.innerText(), "stop 4.75");
  assert.equal(await stop.evaluate((el) => el.style.left), "95%");
  await page.locator(".chart canvas").first().waitFor();
  await shot("costs");
  await openByNav("Overview", "Overview");
  await page.getByTestId("budget").getByTestId("stop-mark").waitFor();
});

test("a preset switches features off, the UI hides them and the API refuses them", async () => {
  assert.equal((await withKey(apiKey, "/v1/analytics/spend")).status, 200);
  await openByNav("Features", "Features");
  await assertLabelled();
  await shot("features");
  await page.getByRole("button", { name: "Simple broadcast only" }).click();
  await page.locator(".toast").filter({ hasText: "Simple broadcast only" }).waitFor();
  assert.equal(await page.getByRole("switch", { name: /Cost analytics/ }).first().isChecked(), false);
  assert.equal(await page.getByRole("switch", { name: /Messaging/ }).first().isChecked(), true);
  assert.ok(await page.evaluate(() => document.body.classList.contains("simple")), "simple mode is on");

  const spend = await withKey(apiKey, "/v1/analytics/spend");
  assert.equal(spend.status, 403);
  assert.equal(spend.body.error.code, "feature_disabled");
  assert.equal(spend.body.error.details.feature, "cost_analytics");
  const email = await withKey(apiKey, "/v1/emails", { method: "POST", body: JSON.stringify({ from: "a@acme.test", to: ["b@example.com"], subject: "x", text: "x" }) });
  assert.equal(email.status, 403);
  assert.equal(email.body.error.details.feature, "email");
  const ai = await withKey(apiKey, "/v1/providers", { method: "POST", body: JSON.stringify({ type: "retell", name: "AI", credentials: { api_key: "k" } }) });
  assert.equal(ai.status, 403, "adding an AI provider is refused");
  assert.equal((await withKey(apiKey, "/v1/messages?limit=1")).status, 200, "messaging stays on");

  await openByNav("Costs", "Costs");
  await page.getByText("Cost analytics is switched off").waitFor();
  await shot("costs-simple");

  await openByNav("Features", "Features");
  await page.getByRole("button", { name: "AI-powered pro" }).click();
  await page.locator(".toast").filter({ hasText: "AI-powered pro" }).waitFor();
  assert.equal((await withKey(apiKey, "/v1/analytics/spend")).status, 200);
});

test("users: an admin adds a viewer, who signs in on a phone and can change nothing", async () => {
  await page.getByRole("link", { name: "Users" }).click();
  await page.getByRole("heading", { level: 1, name: "Users" }).waitFor();
  await page.getByLabel("Email").fill("sam@acme.test");
  await page.getByLabel("Name").fill("Sam");
  await page.getByLabel("Role").selectOption("viewer");
  await page.getByLabel("Password").fill("another long password");
  await page.getByRole("button", { name: "Add user" }).click();
  await page.getByRole("cell", { name: "sam@acme.test" }).waitFor();
  // The same address again: the API's reason, naming the field.
  await page.getByLabel("Email").fill("sam@acme.test");
  await page.getByLabel("Password").fill("another long password");
  await page.getByRole("button", { name: "Add user" }).click();
  await page.getByRole("alert").filter({ hasText: "already has an account (field: email)" }).waitFor();
  await shot("users");

  const viewer = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const phone = await viewer.newPage();
  await phone.goto(`${base}/`);
  await phone.getByLabel("Email").fill("sam@acme.test");
  await phone.getByLabel("Password").fill("another long password");
  await phone.getByRole("button", { name: "Sign in", exact: true }).click();
  await phone.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
  await shot("overview-phone", phone);
  // Sam changes his password from the account page, which signs him out everywhere.
  await phone.goto(`${base}/settings/account`);
  await phone.getByLabel("New password").fill("sams own password");
  await phone.getByLabel("The same again").fill("sams own password");
  await phone.getByRole("button", { name: "Change password" }).click();
  await phone.getByRole("heading", { name: "Sign in to Switchyard" }).waitFor();
  await phone.getByLabel("Email").fill("sam@acme.test");
  await phone.getByLabel("Password").fill("sams own password");
  await phone.getByRole("button", { name: "Sign in", exact: true }).click();
  await phone.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
  await phone.goto(`${base}/providers`);
  await phone.getByRole("heading", { level: 1, name: "Providers" }).waitFor();
  assert.equal(await phone.getByRole("button", { name: "Add provider" }).count(), 0, "a viewer cannot add providers");
  const refused = await phone.evaluate(async () => {
    const s = await (await fetch("/ui/session")).json();
    return (await fetch("/v1/budgets", { method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": s.csrf_token }, body: JSON.stringify({ scope: { kind: "organization" }, period: "monthly", amount: "1", currency: "USD" }) })).status;
  });
  assert.equal(refused, 403);
  await viewer.close();
});

test("no page logged a script error", () => {
  // The 401, 403 and 422 answers the tests provoke on purpose are logged by the browser too.
  assert.deepEqual(consoleErrors.filter((e) => !/Failed to load resource: the server responded with a status of (401|403|422)/.test(e)), []);
});
