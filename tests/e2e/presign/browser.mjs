// Drives Debian's chromium: the app page (on its own origin) asks gatehouse for a
// presigned POST, then a real HTML form submits the file straight to MinIO. Prints
// "E2E OK" when every expectation held; exits non-zero with a message otherwise.
//
//   APP_URL=... ENDPOINT=... AUTH=... BAD_AUTH=... BUCKET_URL=... ARTIFACTS=dir node browser.mjs
import { chromium } from 'playwright-core';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const { APP_URL, ENDPOINT, AUTH, BAD_AUTH, BUCKET_URL, ARTIFACTS } = process.env;
mkdirSync(ARTIFACTS, { recursive: true });
const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
  '--no-first-run', '--disable-component-update', '--disable-sync'];

function expect(cond, msg) {
  if (!cond) throw new Error(msg);
}

// submit prepares the form for filename and submits content; it returns MinIO's answer.
async function submit(page, filename, content) {
  const prep = await page.evaluate(([e, a, f]) => prepare(e, a, f, 'text/plain'), [ENDPOINT, AUTH, filename]);
  expect(prep.status === 200 && prep.method === 'POST', 'presign: ' + JSON.stringify(prep));
  await page.setInputFiles('#file', { name: filename, mimeType: 'text/plain', buffer: Buffer.from(content) });
  const [resp] = await Promise.all([
    page.waitForResponse((r) => r.url().startsWith(BUCKET_URL) && r.request().method() === 'POST'),
    page.click('#send'),
  ]);
  return { prep, status: resp.status(), body: await resp.text().catch(() => '') };
}

async function main() {
  const ctx = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'gatehouse-e2e-')), {
    executablePath: '/usr/bin/chromium', headless: true, args, viewport: { width: 800, height: 500 },
  });
  const page = ctx.pages()[0] || (await ctx.newPage());

  // 1. Without valid credentials gatehouse signs nothing (the page can read the 401:
  // the route's CORS headers are on it).
  await page.goto(APP_URL);
  const denied = await page.evaluate(([e, a]) => prepare(e, a, 'x.txt', 'text/plain'), [ENDPOINT, BAD_AUTH]);
  expect(denied.status === 401 && !denied.body.includes('X-Amz'), 'bad credentials: ' + JSON.stringify(denied));

  // 2. A file within max_size is stored by MinIO (204).
  const ok = await submit(page, 'hello form.txt', 'hello from a form');
  expect(ok.status === 204, 'form POST: ' + ok.status + ' ' + ok.body);
  expect(ok.prep.key === 'uploads/alice/hello form.txt', 'key: ' + ok.prep.key);
  await page.screenshot({ path: join(ARTIFACTS, '01-stored.png') });

  // 3. A file over max_size: MinIO refuses it with the policy's content-length-range.
  await page.goto(APP_URL);
  const big = await submit(page, 'big.txt', 'x'.repeat(2048));
  expect(big.status === 400 && big.body.includes('EntityTooLarge'), 'over max_size: ' + big.status + ' ' + big.body);
  await page.screenshot({ path: join(ARTIFACTS, '02-too-large.png') });

  await ctx.close();
  console.log('E2E OK');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
