// The dashboard in a real browser: Debian's chromium driven by playwright-core (no browser
// download). e2e_test.go starts `trailalarm run` on the examples and runs this script with:
//   TA_URL      the dashboard's base URL (http://127.0.0.1:PORT)
//   TA_TOKEN    its token
//   TA_SHOTS    the folder for screenshots
//   TA_PROFILE  a fresh, empty folder for chromium's profile
//   TA_RULE, TA_EVENT, TA_PRINCIPAL  an alert the examples raise: its rule, and the eventName
//               and principal of its evidence
// It prints one line per step and exits non-zero at the first failed check.
import { chromium } from 'playwright-core';
import path from 'node:path';

const env = (k) => {
  const v = process.env[k];
  if (!v) { console.error(`dashboard.mjs: ${k} is not set (run it through e2e_test.go)`); process.exit(2); }
  return v;
};
const base = env('TA_URL');
const token = env('TA_TOKEN');
const shots = env('TA_SHOTS');
const profile = env('TA_PROFILE');
const rule = env('TA_RULE');
const eventName = env('TA_EVENT');
const principal = env('TA_PRINCIPAL');

function check(ok, what) {
  if (!ok) throw new Error('check failed: ' + what);
  console.log('ok   ' + what);
}

async function shot(page, name) {
  const file = path.join(shots, name + '.png');
  await page.screenshot({ path: file, fullPage: true });
  console.log('shot ' + file);
}

const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  // Without the background-networking flags chromium waits on connections that are refused here.
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1400, height: 900 },
  timeout: 60_000,
});
const problems = [];
let failed = false;
try {
  const page = ctx.pages()[0] || await ctx.newPage();
  page.setDefaultTimeout(20_000);
  // A script error or a Content-Security-Policy violation on any page fails the test.
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('console', (m) => {
    // Failed loads are judged by the response handler below, which knows the URL.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push('console error: ' + m.text());
  });
  page.on('response', (r) => {
    const u = new URL(r.url());
    const wrongToken = u.pathname === '/login' && r.request().method() === 'POST' && r.status() === 401;
    if (r.status() >= 400 && !wrongToken) problems.push(`${r.status()} for ${r.request().method()} ${u.pathname}`);
  });

  // 1. Without a session every page leads to the login form; a wrong token is refused.
  await page.goto(base + '/');
  check(new URL(page.url()).pathname === '/login', 'the overview redirects to /login without a session');
  await page.fill('input[name=token]', 'wrong-' + token);
  await page.click('button[type=submit]');
  check(await page.locator('p.error').innerText() === 'wrong token', 'a wrong token is refused');
  await page.fill('input[name=token]', token);
  await Promise.all([page.waitForURL(base + '/'), page.click('button[type=submit]')]);
  const cookies = await ctx.cookies(base);
  const session = cookies.find((c) => c.name === 'ta_session');
  check(session && session.httpOnly && session.sameSite === 'Strict', 'the session cookie is HttpOnly and SameSite=Strict');

  // 2. The overview: firing alarms, the grid with its sparklines, health.
  check(await page.locator('h1').innerText() === 'Overview', 'logged in, the overview is shown');
  const firing = await page.locator('h2:has-text("Firing now") + table tbody tr').count();
  check(firing > 0, `${firing} alarms are firing`);
  const row = page.locator('table.grid tbody tr', { has: page.locator(`a[href="/rules/${rule}"]`) });
  check(await row.count() === 1, `the grid has a row for ${rule}`);
  check(await row.locator('td.state').innerText() === 'ALARM', `${rule} is in ALARM in the grid`);
  check(await row.locator('svg.spark rect:not(.base)').count() > 0, `${rule}'s sparkline has bars`);
  check(await row.locator('td.cell.ALARM a').count() > 0, `${rule}'s firing cell links to its alert`);
  check(await page.locator('table.grid thead th.col').count() > 0, 'the grid has account/region columns');
  await shot(page, 'overview');

  // 3. An alert, from the filtered list: its evidence, the raw record, the chart.
  await page.goto(base + '/alerts?to=ALARM&rule=' + encodeURIComponent(rule));
  await shot(page, 'alerts');
  await Promise.all([page.waitForURL(/\/alerts\/ta-/), page.locator('table tbody tr a[href^="/alerts/"]').first().click()]);
  const summary = page.locator('.evidence .summary').first();
  const text = await summary.innerText();
  check(text.includes(eventName), `the evidence names the event ${eventName}`);
  check(text.includes(principal), `the evidence names the principal ${principal}`);
  const raw = page.locator('.evidence details pre.json').first();
  check(!(await raw.isVisible()), 'the raw record starts folded');
  await page.locator('.evidence details summary').first().click();
  check(await raw.isVisible(), 'the raw record unfolds');
  const record = await raw.innerText();
  check(JSON.parse(record).eventName === eventName, 'the raw record is the CloudTrail event');
  check(await page.locator('svg.metric line.threshold').count() === 1, 'the chart draws the threshold');
  check(await page.locator('svg.metric circle.point').count() > 0, 'the chart draws the deciding datapoints');
  await page.locator('button.toggle-all').click(); // app.js: the one script, loaded under the CSP
  check(await page.locator('button.toggle-all').innerText() === 'collapse all', 'app.js runs (expand all)');
  await shot(page, 'alert');

  // 4. The pattern tester on the rule's page: the record matches, and the explain tree says why.
  await page.goto(base + '/rules/' + encodeURIComponent(rule));
  await page.fill('textarea[name=event]', record);
  await Promise.all([page.waitForLoadState('load'), page.click('form.tester button[type=submit]')]);
  await page.locator('p.verdict').waitFor();
  check(await page.locator('p.verdict').innerText() === 'MATCH', 'the tester says MATCH for the evidence record');
  const lines = await page.locator('ul.explain li').count();
  check(lines > 1 && await page.locator('ul.explain li.true').count() > 0, `the explain tree has ${lines} clauses`);
  await shot(page, 'tester');
  const other = JSON.stringify({ ...JSON.parse(record), eventName: 'DescribeInstances', eventSource: 'ec2.amazonaws.com' });
  await page.fill('textarea[name=event]', other);
  await Promise.all([page.waitForLoadState('load'), page.click('form.tester button[type=submit]')]);
  check(await page.locator('p.verdict').innerText() === 'NO MATCH', 'another event does not match');
  check(await page.locator('ul.explain li.false').count() > 0, 'the explain tree shows the failing clause');

  // 5. Status, then log out: the session is gone.
  await page.goto(base + '/status');
  check(await page.locator('h1').innerText() === 'Status', 'the status page is shown');
  await Promise.all([page.waitForURL(/\/login/), page.click('form.logout button')]);
  await page.goto(base + '/alerts');
  check(new URL(page.url()).pathname === '/login', 'after logging out, pages lead to /login again');

  check(problems.length === 0, 'no script error and no CSP violation: ' + problems.join('; '));
} catch (e) {
  failed = true;
  console.error(e.message);
  if (problems.length) console.error('browser problems: ' + problems.join('; '));
  try { await shot(ctx.pages()[0], 'failure'); } catch { /* no page */ }
} finally {
  await ctx.close();
}
process.exit(failed ? 1 : 0);
