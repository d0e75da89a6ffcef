// The core usage ping over the real stack: it arrives with a keyed IP hash and no
// IP; an unlicensed admin's opt-out stops the next one; a licensed install refuses
// the opt-out. The collector's dashboard shows what arrived.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startDemo, launchBrowser, pings, admin, waitFor, sleep, artifact, READ_TOKEN } from './lib.mjs'

test('the startup ping arrives hashed, and the dashboard shows it to the read token only', async () => {
  const demo = await startDemo({ startupDelay: 1 })
  const browser = await launchBrowser()
  try {
    const [ping] = await waitFor(() => pings(demo.collector).then(p => p.length && p),
      { what: 'the startup ping' })
    assert.match(ping.ip_hash, /^[0-9a-f]{64}$/)
    assert.ok(!JSON.stringify(ping).includes('127.0.0.1'), 'no IP stored')
    assert.equal(ping.payload.env.flowforge, '0.1.0')
    assert.equal(ping.payload.platform.license.type, 'CE')
    assert.ok(ping.payload.platform.counts.users > 0, 'counts from the seeded database')

    // The demo prints the token and the dashboard link carrying it.
    assert.ok(demo.output().includes(`/#token=${READ_TOKEN}`), 'the banner gives the dashboard link')
    for (const path of ['/', '/api/pings', '/api/events']) {
      assert.equal((await fetch(`${demo.collector}${path}`)).status, 401, `${path} without the token`)
    }
    const login = await browser.newPage()
    const refused = await login.goto(`${demo.collector}/`)
    assert.equal(refused.status(), 401)
    await login.fill('#token', 'not-the-token')
    await login.click('button[type=submit]')
    await login.waitForSelector('text=This token is not accepted.')
    const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } })
    await page.goto(`${demo.collector}/#token=${READ_TOKEN}`)
    await page.waitForSelector('text=Latest pings')
    assert.ok(!page.url().includes(READ_TOKEN), 'the token leaves the address bar')
    const text = await page.textContent('body')
    assert.ok(text.includes(ping.payload.instanceId.slice(0, 8)) || text.includes('0.1.0'), 'the ping is on the dashboard')
    await page.screenshot({ path: artifact('e2e-dashboard.png'), fullPage: true })
  } finally {
    await browser.close()
    await demo.stop()
  }
})

test('an unlicensed opt-out stops the next ping', async () => {
  const demo = await startDemo({ startupDelay: 3 })
  try {
    const put = await admin(demo.platform, 'PUT', '/api/v1/admin/telemetry', { enabled: false })
    assert.equal(put.status, 200, JSON.stringify(put.body))
    const state = await admin(demo.platform, 'GET', '/api/v1/admin/telemetry')
    assert.equal(state.body.effective, false)
    // Well past the startup slot: nothing may have been sent.
    await sleep(6000)
    assert.deepEqual(await pings(demo.collector), [])
  } finally {
    await demo.stop()
  }
})

test('a licensed install refuses the opt-out and keeps sending', async () => {
  const demo = await startDemo({ startupDelay: 2, licensed: true })
  try {
    const put = await admin(demo.platform, 'PUT', '/api/v1/admin/telemetry', { enabled: false })
    assert.equal(put.status, 409)
    const state = await admin(demo.platform, 'GET', '/api/v1/admin/telemetry')
    assert.equal(state.body.licensed, true)
    assert.equal(state.body.effective, true)
    const [ping] = await waitFor(() => pings(demo.collector).then(p => p.length && p),
      { what: 'the licensed ping' })
    assert.equal(ping.payload.platform.license.type, 'EE')
  } finally {
    await demo.stop()
  }
})
