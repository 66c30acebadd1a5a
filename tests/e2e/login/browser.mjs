// Drives Debian's chromium through gatehouse's login flow. Each step saves a screenshot
// in ARTIFACTS. Exits non-zero with a message on the first failed expectation.
//
//   GATEHOUSE_URL=http://127.0.0.1:N ISSUER=http://127.0.0.1:M ARTIFACTS=dir node browser.mjs
import { chromium } from 'playwright-core';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const base = process.env.GATEHOUSE_URL;
const issuer = process.env.ISSUER;
const out = process.env.ARTIFACTS;
mkdirSync(out, { recursive: true });
const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
  '--no-first-run', '--disable-component-update', '--disable-sync'];

function expect(cond, msg) {
  if (!cond) throw new Error(msg);
}

async function browser() {
  return chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'gatehouse-e2e-')), {
    executablePath: '/usr/bin/chromium', headless: true, args, viewport: { width: 900, height: 640 },
  });
}

async function shot(page, name) {
  await page.screenshot({ path: join(out, name + '.png'), fullPage: true });
  console.log('screenshot', name, page.url());
}

// signIn fills the provider's devInteractions login form, then its consent form if shown.
async function signIn(page, email) {
  await page.waitForURL((u) => u.href.startsWith(issuer + '/interaction/'));
  await page.fill('input[name="login"]', email);
  await page.fill('input[name="password"]', 'any');
  await Promise.all([page.waitForLoadState('load'), page.click('button[type="submit"]')]);
  if (page.url().startsWith(issuer + '/interaction/')) {
    await Promise.all([page.waitForURL((u) => !u.href.startsWith(issuer + '/interaction/')), page.click('button[type="submit"]')]);
  }
}

async function main() {
  // 1. ana@example.com: protected page -> login -> provider -> back on the page.
  const ctx = await browser();
  const page = ctx.pages()[0] || (await ctx.newPage());
  const visited = [];
  page.on('request', (r) => { if (r.isNavigationRequest()) visited.push(r.url()); });
  await page.goto(base + '/www/index.html?from=e2e');
  expect(visited.some((u) => u.startsWith(base + '/_gatehouse/login?rd=%2Fwww%2Findex.html%3Ffrom%3De2e')), 'not sent to the login path: ' + visited.join(' '));
  await shot(page, '01-provider-login');
  await signIn(page, 'ana@example.com');
  await page.waitForURL(base + '/www/index.html?from=e2e');
  expect((await page.textContent('h1')) === 'Welcome, staff', 'protected page content: ' + (await page.content()));
  await shot(page, '02-protected-page');
  // The cookies are scoped to the folder the sign-in protects (cookie_path /www/).
  const cookies = await ctx.cookies(base + '/www/');
  const cf = cookies.filter((c) => c.name.startsWith('CloudFront-'));
  expect(cf.length === 3 && cf.every((c) => c.httpOnly && c.secure && c.sameSite === 'Lax' && c.path === '/www/'), 'cookies: ' + JSON.stringify(cookies));
  expect(cookies.some((c) => c.name === 'gatehouse_user' && c.httpOnly), 'no gatehouse_user cookie: ' + JSON.stringify(cookies));
  // (The provider's own cookies are on the same address: cookies ignore ports.)
  const outside = (await ctx.cookies(base + '/other/')).filter((c) => c.name.startsWith('CloudFront-') || c.name === 'gatehouse_user');
  expect(outside.length === 0, 'cookies sent outside /www/: ' + JSON.stringify(outside));

  // 2. logout clears the cookies; revisiting goes through the login path again.
  await page.goto(base + '/_gatehouse/logout');
  expect((await page.textContent('h1')) === 'You are signed out', 'logout page');
  expect((await ctx.cookies(base + '/www/')).filter((c) => c.name.startsWith('CloudFront-') || c.name === 'gatehouse_user').length === 0, 'cookies left after logout');
  await shot(page, '03-logged-out');
  visited.length = 0;
  await page.goto(base + '/www/index.html');
  expect(visited.some((u) => u.startsWith(base + '/_gatehouse/login')), 'revisit after logout did not go to login: ' + visited.join(' '));
  expect(visited.some((u) => u.startsWith(issuer + '/auth')), 'revisit after logout did not reach the provider');
  if (page.url().startsWith(issuer)) await signIn(page, 'ana@example.com');
  await page.waitForURL(base + '/www/index.html');
  expect((await page.textContent('h1')) === 'Welcome, staff', 'page after signing in again');
  await shot(page, '04-signed-in-again');

  // Issue 12: "Sign in again" on the signed-out page leads to the landing path (/www/,
  // the first path the sign-in protects), never to "/", which no route serves here.
  await page.goto(base + '/_gatehouse/logout');
  await Promise.all([page.waitForLoadState('load'), page.click('a.button')]);
  if (page.url().startsWith(issuer)) await signIn(page, 'ana@example.com');
  await page.waitForURL(base + '/www/');
  expect((await page.textContent('h1')) === 'Welcome, staff', 'landing after "Sign in again": ' + page.url() + ' ' + (await page.content()));
  await shot(page, '04b-sign-in-again-landing');
  await ctx.close();

  // 3. eve@other.com (another domain) gets the built-in denied page.
  const ctx2 = await browser();
  const page2 = ctx2.pages()[0] || (await ctx2.newPage());
  await page2.goto(base + '/www/index.html');
  await signIn(page2, 'eve@other.com');
  await page2.waitForURL((u) => u.href.startsWith(base + '/_gatehouse/callback'));
  expect((await page2.textContent('h1')) === 'Access denied', 'denied page: ' + (await page2.content()));
  expect((await ctx2.cookies(base + '/www/')).filter((c) => c.name.startsWith('CloudFront-')).length === 0, 'cookies issued to a denied user');
  await shot(page2, '05-denied-other-domain');
  await ctx2.close();
  console.log('E2E OK');
}

main().catch((err) => {
  console.error('E2E FAILED:', err.message);
  process.exit(1);
});
