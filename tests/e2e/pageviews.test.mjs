// Ten route changes through the real demo SPA (clicks, back, forward, a reload),
// then the visitor leaves the app: the collector must hold one $pageview per page shown and
// one $pageleave per page left, in order, with positive durations, no duplicates —
// whether the SDK also watches the History API (capture_pageview) or not.
// The visitor accepts the demo's consent banner first (remembered across the
// reload). Each page event and Sentry navigation transaction names the vue-router route
// matched (`/instances/:id`) beside the real path.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startDemo, launchBrowser, events, waitFor, pathOf, sleep } from './lib.mjs'

// Where each step lands; the reload starts a second page load on the same path.
const STEPS = [
  ['open', '/'],
  ['click', 'nav-teams', '/teams'],
  ['click', 'team-acme', '/teams/acme'],
  ['click', 'instance-line-1', '/instances/line-1'],
  ['click', 'nav-instances', '/instances'],
  ['click', 'instance-substation-7', '/instances/substation-7'],
  ['back', '/instances'],
  ['back', '/instances/line-1'],
  ['forward', '/instances'],
  ['reload', '/instances'],
  ['click', 'nav-home', '/']
]
const VISITED = STEPS.map(step => step.at(-1))
// The route record each step matched.
const TEMPLATE = { '/teams/acme': '/teams/:slug', '/instances/line-1': '/instances/:id', '/instances/substation-7': '/instances/:id' }
const TEMPLATES = VISITED.map(path => TEMPLATE[path] ?? path)

for (const capturePageview of [false, true]) {
  test(`route changes with capture_pageview: ${capturePageview}`, async () => {
    const demo = await startDemo({ capturePageview, tracesSampleRate: 1 })
    const browser = await launchBrowser()
    try {
      const page = await browser.newPage()
      for (const [action, arg, path] of STEPS) {
        if (action === 'open') {
          await page.goto(`${demo.platform}${arg}`)
          // The demo asks first; its first $pageview goes out with the answer.
          await page.click('[data-test="consent-accept"]')
        }
        if (action === 'click') await page.click(`[data-test="${arg}"]`)
        if (action === 'back') await page.goBack()
        if (action === 'forward') await page.goForward()
        if (action === 'reload') {
          await page.reload()
          // Leaving before the SDK has started would lose that page load's events.
          await page.waitForSelector('html[data-telemetry="ready"]')
        }
        const want = path ?? arg
        await page.waitForURL(url => new URL(url).pathname === want)
        // A person reads the page for a moment: every pageview has a duration.
        await sleep(150)
      }
      // The visitor leaves the app (pagehide: the last events go by beacon).
      // Leaving by navigating rather than closing the tab: the beacon the page
      // makes as Playwright closes it (the request is made, with every event)
      // never reached the collector in half the runs on a busy 2-core machine.
      await page.goto('about:blank')

      const shown = await waitFor(async () => {
        const leaves = await events(demo.collector, 'posthog', '$pageleave')
        return leaves.length >= VISITED.length && leaves
      }, { timeoutMs: 20_000, what: `${VISITED.length} $pageleave events` }).catch(async err => {
        const got = await events(demo.collector, 'posthog')
        throw new Error(`${err.message}; received: ${got.map(e => `${e.name} ${pathOf(e.properties.$current_url)}`).join(', ')}`)
      })
      const views = await events(demo.collector, 'posthog', '$pageview')
      // In the order the pages were shown, not received: the last beacons of
      // one page load and the first request of the next may arrive either way
      // round. `$pageview_id` is a UUIDv7, ordered by its time.
      const byPage = (a, b) => a.properties.$pageview_id.localeCompare(b.properties.$pageview_id)
      views.sort(byPage)
      shown.sort(byPage)

      assert.deepEqual(views.map(e => pathOf(e.properties.$current_url)), VISITED,
        'one $pageview per page shown, in order, none doubled')
      assert.deepEqual(shown.map(e => pathOf(e.properties.$current_url)), VISITED,
        'one $pageleave per page left, in order')
      for (const leave of shown) {
        assert.ok(leave.properties.$prev_pageview_duration > 0,
          `positive duration on ${JSON.stringify(leave.properties)}`)
      }
      // Router navigations name where the user went and came from.
      assert.equal(shown[1].properties.to, '/teams/acme')
      assert.equal(views[2].properties.from, '/teams')
      const ids = new Set([...views, ...shown].map(e => e.distinct_id))
      assert.equal(ids.size, 1, 'one anonymous person across the reload')
      const uuids = [...views, ...shown].map(e => e.properties.$pageview_id)
      assert.ok(uuids.every(Boolean))

      // The route template rides beside the real URL. With capture_pageview the
      // SDK's History hook sees pushState before the router's afterEach, so only
      // the adapter-only setup (the recommended one) names every page.
      if (!capturePageview) {
        assert.deepEqual(views.map(e => e.properties.route_template), TEMPLATES,
          '$pageview route_template')
        assert.deepEqual(shown.map(e => e.properties.route_template), TEMPLATES,
          '$pageleave route_template (of the page left)')
        assert.equal(views[3].properties.$pathname, '/instances/line-1')
      }
      // Sentry: one navigation transaction per router navigation (sample rate 1),
      // named by the route matched, source "route".
      const txs = await waitFor(async () => {
        const got = await events(demo.collector, 'sentry', 'transaction')
        return got.length >= VISITED.length && got
      }, { what: `${VISITED.length} Sentry transactions` })
      const names = txs.map(t => [t.payload.transaction, t.payload.transaction_info?.source])
      for (const template of new Set(TEMPLATES)) {
        assert.ok(names.some(([n, s]) => n === template && s === 'route'), `${template} in ${JSON.stringify(names)}`)
      }
      assert.ok(names.every(([n, s]) => s === 'route' && !n.includes('line-1')), JSON.stringify(names))
    } finally {
      await browser.close()
      await demo.stop()
    }
  })
}
