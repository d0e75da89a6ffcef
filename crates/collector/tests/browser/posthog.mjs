// Opens a page that loads the real posthog-js, unchanged, pointed at the collector,
// and waits until its capture request has been answered. Writes that request (URL,
// headers, body) to a JSON file so the Rust test can check it and keep a replay copy.
//
// node posthog.mjs <page-url> <collector-url> <dump.json>
import { writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';

const [pageUrl, collectorUrl, dumpPath] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
});
try {
  const page = await browser.newPage();
  page.on('console', (m) => { if (m.type() === 'error') console.error('page:', m.text()); });
  const isCapture = (r) => r.url().startsWith(collectorUrl) && r.method() === 'POST'
    && /\/(e|i\/v0\/e|batch|capture|track)\/?(\?|$)/.test(new URL(r.url()).pathname + '?');
  page.on('response', (r) => { if (r.status() >= 400) console.error('page: HTTP', r.status(), r.url()); });
  // posthog-js may send the pageview and the custom event in separate requests:
  // wait for the one that carries the custom event.
  const text = (request) => {
    const body = request.postDataBuffer() ?? Buffer.alloc(0);
    return body[0] === 0x1f && body[1] === 0x8b ? gunzipSync(body).toString() : body.toString();
  };
  const answered = page.waitForResponse(
    (r) => isCapture(r.request()) && text(r.request()).includes('ff_test_event'),
    { timeout: 30_000 },
  );
  await page.goto(pageUrl);
  const response = await answered;
  const request = response.request();
  writeFileSync(dumpPath, JSON.stringify({
    url: request.url().slice(collectorUrl.length),
    content_type: request.headers()['content-type'] ?? null,
    body_base64: (request.postDataBuffer() ?? Buffer.alloc(0)).toString('base64'),
    status: response.status(),
    allow_origin: response.headers()['access-control-allow-origin'] ?? null,
  }, null, 2));
} finally {
  await browser.close();
}
