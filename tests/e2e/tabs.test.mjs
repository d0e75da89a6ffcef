// Several tabs of one app (issue 19, item 4): three tabs of the demo SPA in one
// browser context (one localStorage, one PostHog token), each navigating with the
// app's router. Tab C goes away in the middle of a flush: its batch is held in
// flight, then its renderer crashes (Chromium's `Page.crash`), so no pagehide runs
// and nothing leaves by beacon: what it had queued is only in localStorage. (A tab
// closed normally runs pagehide and sends everything by beacon; a crash, or the
// browser killing a tab, is what loses events.) Tab B is reloaded. Tabs A and B
// keep navigating, then close normally. Every $pageview and $pageleave each tab
// made must be in the collector, each exactly once (its read API, counted by
// event and URL: each URL carries its tab and step).

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startDemo, launchBrowser, events, waitFor } from './lib.mjs'

/** The app's routes the tabs go through, in turn. */
const ROUTES = ['/teams', '/instances', '/teams/acme', '/instances/line-1']

/** Pushes `path` with the app's own router and waits until the page shows it. */
async function navigate (page, path) {
  await page.evaluate(to => document.querySelector('#app').__vue_app__.config.globalProperties.$router.push(to), path)
  await page.waitForURL(url => `${url.pathname}${url.search}` === path)
}

/**
 * One tab's story: the URLs it showed, and which of them it left (a page is
 * left when the tab goes elsewhere, reloads or closes normally).
 */
class Tab {
  constructor (name, page) {
    Object.assign(this, { name, page, step: 0, views: [], leaves: [], current: null })
  }

  async open (platform) {
    const path = `/?tab=${this.name}`
    await this.page.goto(`${platform}${path}`)
    await this.page.waitForFunction(() => document.querySelector('#app')?.__vue_app__)
    this.shown(path)
  }

  /** Goes to the next route `n` times. */
  async walk (n) {
    for (let i = 0; i < n; i++) {
      const path = `${ROUTES[this.step % ROUTES.length]}?tab=${this.name}&step=${this.step}`
      this.step++
      await navigate(this.page, path)
      this.left()
      this.shown(path)
    }
  }

  async reload () {
    await this.page.reload()
    await this.page.waitForFunction(() => document.querySelector('#app')?.__vue_app__)
    this.left()
    this.shown(this.current)
  }

  /** Closes the tab as a person does: the page's pagehide runs. */
  async close () {
    await this.page.close({ runBeforeUnload: true })
    this.left()
  }

  shown (path) {
    this.views.push(path)
    this.current = path
  }

  left () { this.leaves.push(this.current) }
}

/** `{ "<event> <path and query>": count }` of `list`. */
function counted (list) {
  const counts = {}
  for (const key of list) counts[key] = (counts[key] ?? 0) + 1
  return Object.fromEntries(Object.entries(counts).sort())
}

function key (event) {
  const url = new URL(event.properties.$current_url)
  return `${event.name} ${url.pathname}${url.search}`
}

test('three tabs of one app, one closed mid-flush and one reloaded: every $pageview and $pageleave stored exactly once', async () => {
  const demo = await startDemo({ capturePageview: false })
  const browser = await launchBrowser()
  try {
    const context = await browser.newContext()
    const tabs = ['A', 'B', 'C'].map(name => new Tab(name))
    for (const tab of tabs) {
      tab.page = await context.newPage()
      await tab.open(demo.platform)
      // The demo asks for consent: the first tab accepts (its first $pageview goes
      // out then), the others start with the remembered decision.
      if (tab === tabs[0]) await tab.page.click('[data-test="consent-accept"]')
    }
    const [a, b, c] = tabs
    // The tabs take turns, so that each saves while the others have events queued.
    for (let round = 0; round < 3; round++) {
      for (const tab of tabs) await tab.walk(2)
    }

    // Tab C: its next batch is held in flight, then its renderer crashes (no
    // pagehide, no beacon).
    const held = []
    await c.page.route(url => url.pathname.startsWith('/batch'), route => { held.push(route) })
    await c.walk(3)
    await waitFor(() => held.length > 0, { timeoutMs: 20_000, what: "tab C's batch in flight" })
    const crashed = c.page.waitForEvent('crash')
    const cdp = await context.newCDPSession(c.page)
    cdp.send('Page.crash').catch(() => {}) // answered by the crash, if at all
    await crashed
    await c.page.close()

    // Tab B reloads with events queued; A and B keep going.
    await b.walk(2)
    await b.reload()
    for (let round = 0; round < 2; round++) {
      await a.walk(2)
      await b.walk(2)
    }
    await a.close()
    await b.close()

    const want = counted(tabs.flatMap(tab => [
      ...tab.views.map(path => `$pageview ${path}`),
      ...tab.leaves.map(path => `$pageleave ${path}`)
    ]))
    const total = Object.values(want).reduce((n, k) => n + k, 0)
    // Waits for every event (or, when some are lost, until the time runs out).
    const stored = await waitFor(async () => {
      const got = (await events(demo.collector, 'posthog')).filter(e => e.name === '$pageview' || e.name === '$pageleave')
      return got.length >= total && got
    }, { timeoutMs: 30_000, what: `${total} $pageview and $pageleave events` }).catch(async () =>
      events(demo.collector, 'posthog'))

    const pageEvents = stored.filter(e => e.name === '$pageview' || e.name === '$pageleave')
    const got = counted(pageEvents.map(key))
    const missing = Object.keys(want).filter(k => (got[k] ?? 0) < want[k])
    const extra = Object.keys(got).filter(k => got[k] > (want[k] ?? 0))
    assert.deepEqual({ missing, extra }, { missing: [], extra: [] },
      `each tab's every $pageview and $pageleave, each once (${pageEvents.length} stored of ${total})`)
    // A $pageview names its page, a $pageleave the page it left.
    const ids = pageEvents.map(e => `${e.name} ${e.properties.$pageview_id}`)
    assert.equal(new Set(ids).size, ids.length, 'no page event stored twice')
    assert.ok(pageEvents.some(e => key(e).includes('tab=C&step=8')), "tab C's last events, left in flight, came through its adopter")
  } finally {
    await browser.close()
    await demo.stop()
  }
})
