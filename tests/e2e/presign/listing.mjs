// Drives Debian's chromium through a folder listing's upload form: no script on the
// page, a real form posted straight to MinIO, which sends the browser back to the
// listing. Prints "E2E OK" when every expectation held; exits non-zero otherwise.
//
//   LISTING_URL=... ORIGIN=... USERNAME=... PASSWORD=... BUCKET_URL=... ARTIFACTS=dir node listing.mjs
import { chromium } from 'playwright-core';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const { LISTING_URL, ORIGIN, USERNAME, PASSWORD, BUCKET_URL, ARTIFACTS } = process.env;
mkdirSync(ARTIFACTS, { recursive: true });
const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
  '--no-first-run', '--disable-component-update', '--disable-sync'];

function expect(cond, msg) {
  if (!cond) throw new Error(msg);
}

// upload chooses a file named name holding content on the listing page and submits the
// form; it returns MinIO's answer to the POST and where the browser ended.
async function upload(page, name, content) {
  await page.goto(LISTING_URL);
  expect(await page.locator('script').count() === 0, 'the listing page has a script');
  await page.setInputFiles('input[type=file][name=file]', { name, mimeType: 'text/plain', buffer: Buffer.from(content) });
  const [resp] = await Promise.all([
    page.waitForResponse((r) => r.url().startsWith(BUCKET_URL) && r.request().method() === 'POST'),
    page.waitForNavigation(),
    page.click('button[type=submit]'),
  ]);
  await page.waitForLoadState('load');
  return { status: resp.status(), location: resp.headers()['location'] || '', url: page.url(), body: await page.content() };
}

async function main() {
  const ctx = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'gatehouse-e2e-')), {
    executablePath: '/usr/bin/chromium', headless: true, args, viewport: { width: 900, height: 700 },
    // Basic auth answered for gatehouse only (the form's POST to MinIO must carry none).
    httpCredentials: { username: USERNAME, password: PASSWORD, origin: ORIGIN },
  });
  const page = ctx.pages()[0] || (await ctx.newPage());
  const violations = [];
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) violations.push(m.text()); });

  // 1. A file within max_size: MinIO stores it and sends the browser back (303) to the
  // listing, which shows it.
  const ok = await upload(page, 'hello listing.txt', 'hello from the listing form');
  expect(ok.status === 303 && ok.location.startsWith(LISTING_URL + '?'), 'POST: ' + ok.status + ' ' + ok.location);
  expect(ok.url.startsWith(LISTING_URL + '?'), 'ended at ' + ok.url);
  expect(ok.body.includes('hello listing.txt') && ok.body.includes('Index of'), 'the listing does not show the upload');
  await page.screenshot({ path: join(ARTIFACTS, '10-listing-after-upload.png'), fullPage: true });

  // 2. A file over max_size: MinIO refuses it (content-length-range) and shows its error.
  const big = await upload(page, 'big.txt', 'x'.repeat(2048));
  expect(big.status === 400 && big.body.includes('EntityTooLarge'), 'over max_size: ' + big.status + ' ' + big.url);
  await page.screenshot({ path: join(ARTIFACTS, '11-listing-too-large.png') });

  expect(violations.length === 0, 'CSP violations: ' + violations.join('; '));
  await ctx.close();
  console.log('E2E OK');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
