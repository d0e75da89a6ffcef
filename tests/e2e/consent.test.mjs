// The demo SPA starts the SDK with `consent: "pending"` and shows a consent
// banner. Until the visitor answers, PostHog stores and sends nothing; declining
// leaves cookieless tracking from that moment (the page being viewed first), with
// no stable id and nothing in localStorage but the decision, which a reload keeps.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startDemo, launchBrowser, events, waitFor, pathOf } from './lib.mjs'

test('consent banner: nothing before the answer; declined is cookieless and remembered', async () => {
  const demo = await startDemo()
  const browser = await launchBrowser()
  try {
    const page = await browser.newPage()
    await page.goto(`${demo.platform}/instances/line-1`)
    await page.waitForSelector('[data-test="consent-banner"]')
    await page.click('[data-test="nav-teams"]')
    await page.waitForURL(url => new URL(url).pathname === '/teams')
    assert.deepEqual(await page.evaluate(() => Object.keys(localStorage)), [], 'nothing stored while pending')

    await page.click('[data-test="consent-decline"]')
    await page.click('[data-test="nav-home"]')
    await page.waitForURL(url => new URL(url).pathname === '/')
    await page.reload()
    await page.waitForSelector('html[data-telemetry="ready"]')
    assert.equal(await page.$('[data-test="consent-banner"]'), null, 'the decision is remembered')
    assert.deepEqual(await page.evaluate(() => Object.keys(localStorage)), ['ff_telemetry_consent'],
      'only the decision is stored')
    await page.close({ runBeforeUnload: true })

    const got = await waitFor(async () => {
      const all = await events(demo.collector, 'posthog')
      return all.filter(e => e.name === '$pageleave').length >= 3 && all
    }, { what: 'the page events after declining' })
    assert.deepEqual(got.map(e => `${e.name} ${pathOf(e.properties.$current_url)}`), [
      '$pageview /teams', '$pageleave /teams', '$pageview /', '$pageleave /', '$pageview /', '$pageleave /'
    ], 'nothing from before the answer (no /instances/line-1), then every page')
    assert.ok(got.every(e => e.properties.$device_id === undefined), 'cookieless: no $device_id')
    assert.notEqual(got[0].distinct_id, got[4].distinct_id, 'no stable id across the reload')
  } finally {
    await browser.close()
    await demo.stop()
  }
})
