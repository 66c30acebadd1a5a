// Opens the app page (APP_URL) in Debian's chromium and runs its upload: Uppy uploads
// the page's 20 MiB file in 5 MiB parts through gatehouse's endpoints, straight to the
// bucket. Prints what the browser sent and "E2E OK" with the result as JSON; exits
// non-zero on the first failed expectation. A screenshot goes to ARTIFACTS.
//
//   APP_URL=http://127.0.0.1:N/?endpoint=...&authorization=... BUCKET_URL=http://127.0.0.1:M ARTIFACTS=dir node browser.mjs
import { chromium } from 'playwright-core';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const app = process.env.APP_URL;
const bucket = process.env.BUCKET_URL;
const out = process.env.ARTIFACTS;
mkdirSync(out, { recursive: true });
const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
  '--no-first-run', '--disable-component-update', '--disable-sync'];

function expect(cond, msg) {
  if (!cond) throw new Error(msg);
}

async function main() {
  const ctx = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'gatehouse-e2e-')), {
    executablePath: '/usr/bin/chromium', headless: true, args, viewport: { width: 900, height: 400 },
  });
  const page = ctx.pages()[0] || (await ctx.newPage());
  const sent = [];
  page.on('request', (r) => sent.push(r.method() + ' ' + r.url().split('?')[0]));
  page.on('console', (m) => console.log('page:', m.text()));
  page.on('pageerror', (e) => console.log('page error:', e.message));
  await page.goto(app);
  await page.waitForFunction(() => document.getElementById('status').textContent === 'ready');
  const result = await page.evaluate(() => window.runUpload());
  await page.screenshot({ path: join(out, 'uppy-done.png') });
  for (const s of sent) console.log('sent', s);
  expect(result.failed.length === 0 && result.ok.length === 1, 'upload failed: ' + JSON.stringify(result));
  const partPuts = sent.filter((s) => s.startsWith('PUT ' + bucket));
  expect(partPuts.length === 4, `want 4 part PUTs straight to the bucket, got ${partPuts.length}`);
  expect(!sent.some((s) => s.startsWith('PUT ') && !s.startsWith('PUT ' + bucket)), 'a PUT went elsewhere than the bucket');
  console.log('E2E OK ' + JSON.stringify(result.ok[0]));
  await ctx.close();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
