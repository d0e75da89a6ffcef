// The npm package as a user gets it: `npm pack` makes a tarball, a fresh Vite
// project installs it by name and builds; the built app, and a plain
// `<script type="module">` page importing the installed package, both load the
// wasm in Chromium and deliver a $pageview to the collector.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, writeFileSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT, launchBrowser, events, waitFor, serveSpa, startCollector } from './lib.mjs'

const appSource = (collector, marker) => `
import { start, routeChanged, flush } from '@ff-telemetry/web'
await start({ posthog: { apikey: 'phc_pkg', apiurl: '${collector}', capture_pageview: false }, persistence: 'memory' })
routeChanged('/${marker}')
await flush()
document.body.dataset.done = 'yes'
`

test('the packed tarball installs into a fresh Vite project and works there, and in a plain module script', async () => {
  const packDir = mkdtempSync(join(tmpdir(), 'ff-pack-'))
  const tarball = execFileSync('npm', ['pack', '--pack-destination', packDir, '--silent'], { cwd: join(ROOT, 'npm') })
    .toString().trim().split('\n').at(-1)
  const app = mkdtempSync(join(tmpdir(), 'ff-vite-app-'))
  const vite = JSON.parse(readFileSync(join(ROOT, 'www/node_modules/vite/package.json'))).version
  writeFileSync(join(app, 'package.json'), JSON.stringify({
    name: 'fresh-vite-app', private: true, type: 'module',
    dependencies: { '@ff-telemetry/web': `file:${join(packDir, tarball)}` },
    devDependencies: { vite }
  }))
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: app, stdio: 'ignore' })
  // index.d.ts imports the config's types from config.d.ts: it ships too.
  assert.ok(existsSync(join(app, 'node_modules/@ff-telemetry/web/config.d.ts')), 'config.d.ts is in the package')

  const collector = await startCollector()
  const browser = await launchBrowser()
  const servers = []
  try {
    // A Vite app, built.
    writeFileSync(join(app, 'index.html'), '<!doctype html><body><script type="module" src="/main.js"></script></body>')
    writeFileSync(join(app, 'main.js'), appSource(collector.url, 'from-vite'))
    execFileSync(join(app, 'node_modules/.bin/vite'), ['build'], { cwd: app, stdio: 'ignore' })
    // A plain page importing the installed package's files as they are.
    writeFileSync(join(app, 'plain.html'), `<!doctype html><body><script type="module">
${appSource(collector.url, 'from-plain-module').replace("'@ff-telemetry/web'", "'/node_modules/@ff-telemetry/web/index.js'")}
</script></body>`)

    for (const [dir, page, marker] of [[join(app, 'dist'), '/', 'from-vite'], [app, '/plain.html', 'from-plain-module']]) {
      const server = await serveSpa(dir)
      servers.push(server)
      const tab = await browser.newPage()
      const warnings = []
      tab.on('console', m => { if (m.type() === 'warning' || m.type() === 'error') warnings.push(m.text()) })
      await tab.goto(`http://127.0.0.1:${server.address().port}${page}`)
      await tab.waitForSelector('body[data-done="yes"]', { state: 'attached', timeout: 20_000 })
      const views = await waitFor(async () => {
        const all = await events(collector.url, 'posthog', '$pageview')
        return all.find(e => e.properties.$current_url.endsWith(`/${marker}`))
      }, { what: `the $pageview from ${marker}` })
      assert.ok(views, marker)
      assert.deepEqual(warnings.filter(w => w.includes('ff-telemetry')), [], `no SDK warnings (${marker})`)
      await tab.close()
    }
  } finally {
    servers.forEach(s => s.close())
    await browser.close()
    collector.stop()
  }
})
