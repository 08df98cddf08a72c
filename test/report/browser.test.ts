/**
 * The report in a real browser: headless Chromium (Debian package `chromium`) driven by playwright-core.
 * Loads with no console errors and no network requests, shows the tables, heatmaps and charts, and
 * switching layer / head changes the attention picture. Writes a screenshot (LEAF_SCREENSHOT_DIR or the
 * test's temporary folder). Skipped, with a message, only where /usr/bin/chromium is not installed.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, test } from 'node:test';
import { writeReport } from '../../src/report/build.js';
import { writeReportFixture } from '../helpers/report-fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const tmp = mkdtempSync(join(tmpdir(), 'leaf-browser-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('report in headless Chromium', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} not found: install it (apt-get install -y chromium) to run the browser test` }, () => {
  test('loads cleanly; tables, heatmaps and curves are drawn; layer/head selection changes the attention picture; screenshot', async () => {
    const fx = writeReportFixture(join(tmp, 'fx'));
    const out = join(tmp, 'report.html');
    writeReport({
      out, mined: fx.mined, data: fx.data, runs: fx.runs.map((dir, i) => ({ label: `run ${i}`, group: i ? 'LeaF' : 'KD', dir })),
      attention: [{ label: 'student before', dir: fx.models.before }, { label: 'after LeaF', dir: fx.models.after }],
      title: 'browser test report',
    });
    const { chromium } = await import('playwright-core');
    const userDataDir = mkdtempSync(join(tmp, 'profile-'));
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM, headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 2000 },
    });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      const problems: string[] = [];
      page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`); });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('request', (r) => { if (!r.url().startsWith('file:')) problems.push(`network request: ${r.url()}`); });
      await page.goto(pathToFileURL(out).href);
      await page.waitForSelector('body[data-ready="1"]', { timeout: 10_000 });

      assert.equal(await page.textContent('#title'), 'browser test report');
      for (const id of ['detection', 'sweep', 'counterfactuals', 'problem-counterfactuals']) {
        assert.ok((await page.locator(`table[data-table="${id}"] tbody tr`).count()) > 0, `table ${id} has rows`);
      }
      // Saliency heatmaps: three rows (student, teacher, difference) of coloured tokens, ground truth and flags marked.
      const sal = page.locator('#saliency .heat-token');
      assert.ok((await sal.count()) > 20);
      assert.ok((await page.locator('#saliency .heat-token.gt').count()) > 0, 'ground-truth distractor tokens marked');
      assert.ok((await page.locator('#saliency .heat-token.chosen').count()) > 0, 'flagged tokens marked');
      const bg = await sal.first().evaluate((e) => (e as unknown as { style: { background: string } }).style.background);
      assert.match(bg, /^rgba?\(/);
      assert.ok((await page.locator('#charts svg path').count()) >= 2, 'training curves drawn');

      // Attention: the picture changes with the layer and the head.
      const picture = () => page.$$eval('#attention-view [data-attn-row] .heat-token', (els) => els.map((e) => e.getAttribute('data-v')).join(','));
      assert.equal(await page.locator('#attention-view [data-attn-row]').count(), 2);
      await page.selectOption('#attention-layer', '0');
      await page.selectOption('#attention-head', '0');
      const l0h0 = await picture();
      await page.selectOption('#attention-head', '1');
      const l0h1 = await picture();
      await page.selectOption('#attention-layer', '1');
      const l1h1 = await picture();
      assert.ok(l0h0.length > 0);
      assert.notEqual(l0h0, l0h1, 'another head, another picture');
      assert.notEqual(l0h1, l1h1, 'another layer, another picture');
      // Another problem keeps working.
      await page.click('#next-problem');
      assert.equal(await page.inputValue('#problem-select'), '1');
      assert.ok((await page.locator('#saliency .heat-token').count()) > 0);

      const shotDir = process.env.LEAF_SCREENSHOT_DIR ?? tmp;
      mkdirSync(shotDir, { recursive: true });
      const shot = join(shotDir, 'leaf-report.png');
      await page.click('#prev-problem');
      await page.screenshot({ path: shot, fullPage: true });
      const png = readFileSync(shot);
      assert.ok(png.length > 10_000 && png.subarray(1, 4).toString() === 'PNG', 'screenshot written');
      assert.deepEqual(problems, [], problems.join('\n'));
    } finally {
      await context.close();
    }
  });
});
