// First-run setup in a real browser against `ff-telemetry demo --fresh`: the app
// opens on its setup page, the administrator's telemetry choice decides whether the
// first usage ping reaches the collector, and licensed installs cannot opt out.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startDemo, launchBrowser, pings, admin, waitFor, sleep, pathOf, artifact, ADMIN_TOKEN } from './lib.mjs'

// The platform pings this long after the setup completes.
const STARTUP_DELAY_S = 1
// How long "nothing arrived" is watched for after the skipped slot was seen.
const QUIET_WINDOW_MS = 3_000

/** Runs `body(page, demo)` on a fresh demo stack and a fresh browser; saves a screenshot on failure. */
async function withFreshDemo (name, options, body) {
  const demo = await startDemo({ startupDelay: STARTUP_DELAY_S, ...options }, ['--fresh'])
  const browser = await launchBrowser()
  const page = await browser.newPage()
  try {
    await body(page, demo)
  } catch (err) {
    await page.screenshot({ path: artifact(`${name}.png`) }).catch(() => {})
    err.message += `\n--- demo output ---\n${demo.output().slice(-4000)}`
    throw err
  } finally {
    await browser.close()
    await demo.stop()
  }
}

/** A counter's value in the platform's Prometheus text, or 0 before it is exported. */
async function metric (platform, name) {
  const text = await (await fetch(`${platform}/metrics`)).text()
  const line = text.split('\n').find(l => l.startsWith(`${name} `))
  return line ? Number(line.split(' ')[1]) : 0
}

/** Opens the app on a deep link, lands on the setup page, and returns the previewed ping. */
async function openSetupAndPreview (page, platform) {
  await page.goto(`${platform}/teams`)
  await page.waitForURL(url => pathOf(url.toString()) === '/setup')
  await page.click('[data-test=setup-preview-toggle]')
  const text = await page.textContent('[data-test=setup-preview]', { timeout: 10_000 })
  return JSON.parse(text)
}

async function fillAdmin (page, password = 'correct-horse-42') {
  await page.fill('[data-test=setup-name]', 'Ada Admin')
  await page.fill('[data-test=setup-email]', 'ada@example.com')
  await page.fill('[data-test=setup-password]', password)
}

test('setup with telemetry off: no usage ping reaches the collector', async () => {
  await withFreshDemo('setup-telemetry-off', {}, async (page, { platform, collector }) => {
    const preview = await openSetupAndPreview(page, platform)
    // A fresh install has nothing to count, and says so before anything is sent.
    const counts = preview.platform.counts
    assert.ok(Object.keys(counts).length >= 12, JSON.stringify(counts))
    for (const [key, value] of Object.entries(counts)) {
      const values = typeof value === 'object' ? Object.values(value) : [value]
      assert.ok(values.every(n => n === 0), `${key}: ${JSON.stringify(value)}`)
    }
    assert.equal(await page.isChecked('[data-test=setup-telemetry]'), true, 'telemetry is on by default')

    // A weak password is refused with the rule it broke, and nothing is set up.
    await fillAdmin(page, 'short1')
    await page.click('[data-test=setup-submit]')
    const rule = await page.textContent('[data-test=setup-error-password]', { timeout: 10_000 })
    assert.match(rule, /at least 8 characters/)
    assert.equal(pathOf(page.url()), '/setup')
    assert.deepEqual(await (await fetch(`${platform}/api/v1/setup`)).json(), { pending: true, licensed: false })

    await fillAdmin(page)
    await page.uncheck('[data-test=setup-telemetry]')
    await page.click('[data-test=setup-submit]')
    await page.waitForURL(url => pathOf(url.toString()) === '/')
    assert.deepEqual(await (await fetch(`${platform}/api/v1/setup`)).json(), { pending: false, licensed: false })

    // The slot after setup comes and is skipped (opted out)…
    await waitFor(async () => (await metric(platform, 'ff_telemetry_pings_skipped_total')) >= 1,
      { timeoutMs: 20_000, what: 'the first ping slot after setup to be skipped' })
    assert.equal(await metric(platform, 'ff_telemetry_pings_sent_total'), 0)
    // …and for a while longer nothing arrives at the collector.
    const quietUntil = Date.now() + QUIET_WINDOW_MS
    while (Date.now() < quietUntil) {
      assert.deepEqual(await pings(collector), [], 'no ping may reach the collector')
      await sleep(250)
    }
    const status = await admin(platform, 'GET', '/api/v1/admin/telemetry')
    assert.equal(status.body.enabled, false)
    assert.equal(status.body.last_ping, null)
  })
})

test('setup with telemetry on: the first ping arrives and the admin page shows it', async () => {
  await withFreshDemo('setup-telemetry-on', {}, async (page, { platform, collector }) => {
    const preview = await openSetupAndPreview(page, platform)
    await fillAdmin(page)
    assert.equal(await page.isChecked('[data-test=setup-telemetry]'), true)
    await page.click('[data-test=setup-submit]')
    await page.waitForURL(url => pathOf(url.toString()) === '/')

    const [ping] = await waitFor(async () => {
      const received = await pings(collector)
      return received.length > 0 && received
    }, { timeoutMs: 20_000, what: 'the first usage ping at the collector' })
    assert.equal(ping.payload.instanceId, preview.instanceId, 'the ping is the installation previewed')
    assert.equal(ping.payload.platform.counts.users, 1, 'the administrator just created')

    // Admin › Settings: the toggle, the last ping and its status, the next slot.
    await page.click('[data-test=nav-admin]')
    await page.fill('[data-test=admin-token]', ADMIN_TOKEN)
    await page.click('[data-test=admin-token-save]')
    assert.equal(await page.isChecked('[data-test=telemetry-toggle]', { timeout: 10_000 }), true)
    assert.equal((await page.textContent('[data-test=last-ping-status]')).trim(), 'sent')
    assert.doesNotMatch(await page.textContent('[data-test=next-ping]'), /none scheduled/)
    const shown = JSON.parse(await page.textContent('[data-test=ping-preview]'))
    assert.equal(shown.instanceId, preview.instanceId)
  })
})

test('a licensed install cannot opt out at setup', async () => {
  await withFreshDemo('setup-licensed', { licensed: true }, async (page, { platform }) => {
    await page.goto(`${platform}/`)
    await page.waitForURL(url => pathOf(url.toString()) === '/setup')
    const note = await page.textContent('[data-test=setup-licensed-note]', { timeout: 10_000 })
    assert.match(note, /cannot be disabled/)
    assert.equal(await page.locator('[data-test=setup-telemetry]').count(), 0, 'no checkbox')
    await fillAdmin(page)
    await page.click('[data-test=setup-submit]')
    await page.waitForURL(url => pathOf(url.toString()) === '/')
    const status = await admin(platform, 'GET', '/api/v1/admin/telemetry')
    assert.deepEqual([status.body.licensed, status.body.enabled], [true, true])
    // Replaying the setup to flip the choice is refused.
    const replay = await fetch(`${platform}/api/v1/setup`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'Eve', email: 'eve@example.com', password: 'another-pass-9', telemetry: false })
    })
    assert.equal(replay.status, 409)
  })
})
