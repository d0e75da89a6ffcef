// The React Router adapters in a small React app (tests/react-app, built with
// Vite against React Router 6 and 7, under StrictMode): with a data router
// (createBrowserRouter + installReactRouter) and a declarative one
// (<BrowserRouter> + useTelemetryRoutes), link clicks, navigate(), back and
// forward, a param change, a redirect, a path no route matches and (data
// router) a blocked navigation must reach the collector as exactly one
// $pageview per page shown, with the real URL and the matched routes' template.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT, launchBrowser, events, waitFor, serveSpa, startCollector } from './lib.mjs'

const APP_DIST = join(ROOT, 'tests/react-app/dist')

// [action, target, the path shown after it, its route template, its title]
const STEPS = [
  ['open', '/', '/', '/', 'Home'],
  ['click', 'instances', '/instances', '/instances', 'Instances'],
  // Its loader is slow (data router): one pageview once it is shown, none while loading.
  ['click', 'instance-a', '/instances/a', '/instances/:id', 'Instance a'],
  ['click', 'next-instance', '/instances/b', '/instances/:id', 'Instance b'],
  ['click', 'members', '/teams/acme/members?tab=all', '/teams/:team/members', 'Members of acme'],
  ['back', null, '/instances/b', '/instances/:id', 'Instance b'],
  ['forward', null, '/teams/acme/members?tab=all', '/teams/:team/members', 'Members of acme'],
  // A loader's redirect (data) or a <Navigate replace> (declarative): only /teams was shown.
  ['click', 'old-teams', '/teams', '/teams', 'Teams'],
  ['click', 'form', '/form', '/form', 'Form']
]
// Data router only: the form blocks leaving for the home page; leaving elsewhere works.
const AFTER_BLOCKED = ['click', 'instances', '/instances', '/instances', 'Instances']
// Last (a data router's error page has no links): no route matches, so no template.
const UNMATCHED = ['click', 'nowhere', '/nowhere', undefined, 'Not found']

for (const version of [6, 7]) {
  for (const mode of ['data', 'declarative']) {
    test(`React Router ${version}, ${mode} router: one $pageview per page shown, with its route template`, async () => {
      const dist = join(APP_DIST, `rr${version}`)
      if (!existsSync(join(dist, 'index.html'))) {
        throw new Error(`${dist} is missing: build it with \`npm ci && npm run build\` in tests/react-app (cargo xtask test does)`)
      }
      const collector = await startCollector()
      const server = await serveSpa(dist)
      const browser = await launchBrowser()
      try {
        const page = await browser.newPage()
        const warnings = []
        page.on('console', m => { if (m.text().includes('ff-telemetry')) warnings.push(m.text()) })
        page.on('pageerror', err => warnings.push(String(err)))
        await page.addInitScript(test => { window.reactAppTest = test }, { mode, apiurl: collector.url })
        const origin = `http://127.0.0.1:${server.address().port}`
        const take = async ([action, target, path, , title]) => {
          if (action === 'open') await page.goto(origin + target)
          if (action === 'click') await page.click(`[data-test="${target}"]`)
          if (action === 'back') await page.goBack()
          if (action === 'forward') await page.goForward()
          await page.waitForURL(url => url.href === origin + path)
          await page.waitForSelector(`[data-test="title"]:text-is("${title}")`)
        }

        const steps = [...STEPS]
        for (const step of steps) await take(step)
        if (mode === 'data') {
          await page.click('[data-test="home"]')
          await page.waitForSelector('[data-test="blocked"]:text-is("1")')
          assert.equal(page.url(), `${origin}/form`, 'the blocked navigation left the page where it was')
          await take(AFTER_BLOCKED)
          steps.push(AFTER_BLOCKED)
        }
        await take(UNMATCHED)
        steps.push(UNMATCHED)
        await page.evaluate(() => window.telemetryFlush())

        const want = steps.map(([, , path, template]) => ({ path, template }))
        await waitFor(async () => {
          const all = await events(collector.url, 'posthog', '$pageview')
          return all.length >= want.length && all
        }, { what: `${want.length} $pageview events` }).catch(async err => {
          const got = await events(collector.url, 'posthog', '$pageview')
          throw new Error(`${err.message}; received: ${got.map(e => e.properties.$current_url).join(', ')}`)
        })
        // A doubled or late $pageview would be in by now: flush once more, then compare exactly.
        await page.evaluate(() => window.telemetryFlush())
        const all = await events(collector.url, 'posthog', '$pageview')
        assert.deepEqual(all.map(e => ({ path: e.properties.$current_url.slice(origin.length), template: e.properties.route_template })), want,
          'one $pageview per page shown, in order, with its template; none while loading, doubled, redirected away or blocked')
        for (const [i, view] of all.entries()) {
          assert.equal(view.properties.$pathname, new URL(want[i].path, origin).pathname, `$pathname of ${want[i].path}`)
        }
        assert.deepEqual(warnings, [], 'no SDK warnings, no page errors')
      } finally {
        await browser.close()
        server.close()
        collector.stop()
      }
    })
  }
}
