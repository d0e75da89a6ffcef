// The demo's error button throws inside a Vue click handler: Sentry must receive
// an error event for the demo's release and environment, and the page's session
// must end crashed.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startDemo, launchBrowser, events, waitFor } from './lib.mjs'

test('the error button reaches Sentry and crashes the session', async () => {
  const demo = await startDemo({}, [], { SENTRY_ENV: 'e2e' })
  const browser = await launchBrowser()
  try {
    const page = await browser.newPage()
    await page.goto(`${demo.platform}/`)
    await page.click('[data-test="throw-error"]')

    const [event] = await waitFor(() => events(demo.collector, 'sentry', 'event').then(e => e.length && e),
      { what: 'a Sentry error event' })
    assert.equal(event.payload.release, 'flowfuse@0.1.0')
    assert.equal(event.payload.environment, 'e2e')
    const exception = event.payload.exception.values.at(-1)
    assert.equal(exception.value, 'Demo error from the error button')
    assert.ok(exception.stacktrace.frames.length > 0, 'a stack trace')

    const crashed = await waitFor(async () => {
      const sessions = await events(demo.collector, 'sentry', 'session')
      return sessions.find(s => s.payload.status === 'crashed')
    }, { what: 'a crashed session update' })
    assert.equal(crashed.payload.attrs.release, 'flowfuse@0.1.0')
  } finally {
    await browser.close()
    await demo.stop()
  }
})
