// Ten route changes through the real demo SPA (clicks, back, forward, a reload),
// then the tab closes: the collector must hold one $pageview per page shown and
// one $pageleave per page left, in order, with positive durations, no duplicates —
// whether the SDK also watches the History API (capture_pageview) or not.

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

for (const capturePageview of [false, true]) {
  test(`route changes with capture_pageview: ${capturePageview}`, async () => {
    const demo = await startDemo({ capturePageview })
    const browser = await launchBrowser()
    try {
      const page = await browser.newPage()
      for (const [action, arg, path] of STEPS) {
        if (action === 'open') await page.goto(`${demo.platform}${arg}`)
        if (action === 'click') await page.click(`[data-test="${arg}"]`)
        if (action === 'back') await page.goBack()
        if (action === 'forward') await page.goForward()
        if (action === 'reload') await page.reload()
        const want = path ?? arg
        await page.waitForURL(url => new URL(url).pathname === want)
        // A person reads the page for a moment: every pageview has a duration.
        await sleep(150)
      }
      await page.close({ runBeforeUnload: true })

      const shown = await waitFor(async () => {
        const leaves = await events(demo.collector, 'posthog', '$pageleave')
        return leaves.length >= VISITED.length && leaves
      }, { timeoutMs: 20_000, what: `${VISITED.length} $pageleave events` }).catch(async err => {
        const got = await events(demo.collector, 'posthog')
        throw new Error(`${err.message}; received: ${got.map(e => `${e.name} ${pathOf(e.properties.$current_url)}`).join(', ')}`)
      })
      const views = await events(demo.collector, 'posthog', '$pageview')

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
    } finally {
      await browser.close()
      await demo.stop()
    }
  })
}
