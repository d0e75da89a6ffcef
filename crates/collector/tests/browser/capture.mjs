// Opens a page in headless Chromium and waits until a request to the collector
// whose path matches <path-regex> and whose body (gunzipped if need be) contains
// <needle> has been answered. Writes that request (path, content type, body) and the
// answer's status and CORS header to <dump.json>.
//
// node capture.mjs <page-url> <collector-url> <path-regex> <needle> <dump.json>
import { writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';

const [pageUrl, collectorUrl, pathRegex, needle, dumpPath] = process.argv.slice(2);
const pathPattern = new RegExp(pathRegex);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
});
try {
  const page = await browser.newPage();
  page.on('console', (m) => { if (m.type() === 'error') console.error('page:', m.text()); });
  page.on('response', (r) => { if (r.status() >= 400) console.error('page: HTTP', r.status(), r.url()); });
  const text = (request) => {
    const body = request.postDataBuffer() ?? Buffer.alloc(0);
    return body[0] === 0x1f && body[1] === 0x8b ? gunzipSync(body).toString() : body.toString();
  };
  const wanted = (request) => request.method() === 'POST' && request.url().startsWith(collectorUrl)
    && pathPattern.test(new URL(request.url()).pathname) && text(request).includes(needle);
  const answered = page.waitForResponse((r) => wanted(r.request()), { timeout: 30_000 });
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
