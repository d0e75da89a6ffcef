// Browser side of `cargo xtask bench`: bundle sizes and main-thread costs of
// ff-telemetry against posthog-js, posthog-js-lite and @sentry/browser, measured in
// one run on one machine. Prints one JSON object on stdout; xtask turns it into the
// report table.
//
//   node run.mjs --npm ../npm [--quick]      (BENCH_DEBUG=1 logs every request to the sink)
//
// Figures are per library with the no-library baseline measured in the same run;
// the caller subtracts it. Nothing here asserts a figure.

import { build } from 'esbuild'
import { chromium } from 'playwright-core'
import { createServer } from 'node:http'
import { readFileSync, existsSync } from 'node:fs'
import { gzipSync, brotliCompressSync, constants } from 'node:zlib'
import { join, extname, resolve, normalize, sep } from 'node:path'

const args = process.argv.slice(2)
const quick = args.includes('--quick')
const npmFlag = args.indexOf('--npm')
const npmDir = resolve(npmFlag >= 0 && args[npmFlag + 1] ? args[npmFlag + 1] : '../npm')
const here = new URL('.', import.meta.url).pathname
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium'

const ROUTE_CHANGES = quick ? 1000 : 10000
const STARTUP_LOADS = quick ? 5 : 20
const ERROR_CAPTURES = quick ? 200 : 1000
const LOADS_PER_MEASURE = quick ? 1 : 3
// Route changes run in chunks with an untimed pause between them, so each SDK's
// timers and sends run as they would between real navigations instead of its
// queue overflowing in one unbroken loop.
const CHUNK = 50
// posthog-js-lite sends once 20 events are queued, and each capture re-serialises
// its whole storage, queue included (also with `persistence: 'memory'`), so its
// cost grows with the queue. A chunk of 50 steps (100 events) would measure it
// with 5× the queue it holds between real navigations; it pauses after every 10
// steps (20 events), where it sends, and the pause waits for its `flush()`: between
// real navigations its sends have long finished, while on a busy machine 50 ms
// may not be enough and its queue (and cost) would grow with the load.
const CHUNK_POSTHOG_LITE = 10
const PAUSE_MS = 50

function log (...m) { process.stderr.write(m.join(' ') + '\n') }

// ---- bundles and sizes ------------------------------------------------------

async function bundle (entry, format = 'iife') {
  const out = await build({
    entryPoints: [entry],
    bundle: true, minify: true, format, write: false, logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' }
  })
  return Buffer.from(out.outputFiles[0].contents)
}

function sizes (buffers) {
  const raw = Buffer.concat(buffers)
  const gz = buffers.reduce((n, b) => n + gzipSync(b, { level: 9 }).length, 0)
  const br = buffers.reduce((n, b) => n + brotliCompressSync(b, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11 }
  }).length, 0)
  return { raw: raw.length, gzip: gz, brotli: br }
}

const pkg = join(npmDir, 'pkg')
const wasmFile = join(pkg, 'ff_telemetry_web_bg.wasm')
if (!existsSync(wasmFile)) throw new Error(`${wasmFile} is missing: build the wasm package first`)
// What an app ships of ours: the npm package's JS (wrapper, wasm-bindgen glue and
// its snippets) minified by the same esbuild as the others, plus the wasm.
const ours = {
  wasm: readFileSync(wasmFile),
  js: await bundle(join(npmDir, 'index.js'), 'esm')
}
const posthogBundle = await bundle(join(here, 'entries', 'posthog.js'))
const posthogLiteBundle = await bundle(join(here, 'entries', 'posthog-lite.js'))
const sentryBundle = await bundle(join(here, 'entries', 'sentry.js'))
const posthogArray = readFileSync(join(here, 'node_modules/posthog-js/dist/array.js'))

const size = {
  ours_wasm: sizes([ours.wasm]),
  ours_js: sizes([ours.js]),
  ours_total: sizes([ours.wasm, ours.js]),
  posthog_array: sizes([posthogArray]),
  posthog_bundle: sizes([posthogBundle]),
  posthog_lite_bundle: sizes([posthogLiteBundle]),
  sentry_init_bundle: sizes([sentryBundle])
}

// ---- a same-origin, cross-origin-isolated server with a sink ---------------
// Isolation gives 5 µs timer resolution instead of 100 µs.

const TYPES = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' }
// `/ours/…` serves the npm package folder as is (the glue imports its snippets by
// relative path and fetches the wasm next to itself).
function oursFile (pathname) {
  if (!pathname.startsWith('/ours/')) return undefined
  const file = normalize(join(npmDir, decodeURIComponent(pathname.slice('/ours/'.length))))
  return file.startsWith(npmDir + sep) && existsSync(file) ? readFileSync(file) : undefined
}
const memory = {
  '/vendor/posthog.js': posthogBundle,
  '/vendor/posthog-lite.js': posthogLiteBundle,
  '/vendor/sentry.js': sentryBundle
}
let sinkRequests = 0

const server = createServer((req, res) => {
  const url = new URL(req.url, 'http://x')
  const headers = {
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Embedder-Policy': 'require-corp',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Cache-Control': 'no-store'
  }
  if (url.pathname.startsWith('/sink/')) {
    sinkRequests++
    if (process.env.BENCH_DEBUG) log(`  sink ${req.method} ${url.pathname}${url.search} ${req.headers['content-length'] ?? ''}`)
    req.resume()
    req.on('end', () => { res.writeHead(200, { ...headers, 'Content-Type': 'application/json' }); res.end('{}') })
    return
  }
  const body = memory[url.pathname] ?? oursFile(url.pathname)
  if (body) {
    res.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(url.pathname)] || 'text/plain' })
    res.end(body)
    return
  }
  // Every other path is the benchmark page, so pushState URLs reload to it too.
  res.writeHead(200, { ...headers, 'Content-Type': 'text/html' })
  res.end('<!doctype html><meta charset="utf-8"><title>bench</title><body></body>')
})
await new Promise(r => server.listen(0, '127.0.0.1', r))
const origin = `http://127.0.0.1:${server.address().port}`

// ---- the browser ----------------------------------------------------------

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--no-first-run', '--disable-ipc-flooding-protection']
})

const oursConfig = {
  posthog: { apikey: 'phc_bench', apiurl: `${origin}/sink`, capture_pageview: false },
  sentry: { dsn: `${origin.replace('http://', 'http://benchkey@')}/sink/1`, environment: 'bench', release: 'bench@1', report_localhost: true },
  persistence: 'memory'
}
const posthogOptions = {
  api_host: `${origin}/sink`, capture_pageview: false, capture_pageleave: false, autocapture: false,
  disable_session_recording: true, advanced_disable_flags: true, opt_out_useragent_filter: true,
  persistence: 'memory', rate_limiting: { events_per_second: 1e9, events_burst_limit: 1e9 }
}
// posthog-js-lite has no bot filter and no client rate limiter; without
// `preloadFeatureFlags: false` its constructor POSTs to `/flags/`. It queues in its
// storage and POSTs gzipped JSON batches to `/batch/` every 20 events (or 10 s).
const posthogLiteOptions = { host: `${origin}/sink`, persistence: 'memory', preloadFeatureFlags: false }

// Library set-up code, run in the page; each resolves to the library's API once it
// is ready to capture. Sentry is initialised as an app would (default integrations).
const setups = {
  none: `async () => ({})`,
  ours: `async () => { const m = await import('/ours/index.js'); if (!(await m.start(${JSON.stringify(oursConfig)}))) throw new Error('ff-telemetry did not start (its console warning says why)'); return m }`,
  posthog: `async () => { await import('/vendor/posthog.js'); window.posthog.init('phc_bench', ${JSON.stringify(posthogOptions)}); return window.posthog }`,
  posthog_lite: `async () => { await import('/vendor/posthog-lite.js'); return new window.PostHogLite('phc_bench', ${JSON.stringify(posthogLiteOptions)}) }`,
  sentry: `async () => { await import('/vendor/sentry.js'); window.Sentry.init({ dsn: ${JSON.stringify(oursConfig.sentry.dsn)}, environment: 'bench', release: 'bench@1' }); return window.Sentry }`
}

// Console warnings and errors of every page, counted; the first few are shown.
let consoleProblems = 0
async function inPage (fn, arg) {
  const page = await browser.newPage()
  const problem = (text) => { if (++consoleProblems <= 5 || process.env.BENCH_DEBUG) log(`  page: ${text.slice(0, 300)}`) }
  page.on('console', m => { if (m.type() === 'error' || m.type() === 'warning') problem(`${m.type()}: ${m.text()}`) })
  page.on('pageerror', e => problem(`uncaught: ${e.message}`))
  await page.goto(`${origin}/start`)
  try { return await page.evaluate(fn, arg) } finally { await page.close() }
}

function median (xs) { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] ?? NaN }
function p99 (xs) { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(s.length * 0.99))] ?? NaN }

// Route changes: pushState plus the library's two captures, per iteration.
async function routeChanges (lib) {
  const perLoad = []
  for (let load = 0; load < LOADS_PER_MEASURE; load++) {
    perLoad.push(await inPage(async ({ setup, lib, n, chunk, pauseMs }) => {
      const api = await (0, eval)(setup)()
      // posthog-js and posthog-js-lite get the same two calls.
      const posthogStep = (to, from) => {
        history.pushState(null, '', to)
        api.capture('$pageleave', { to, $current_url: location.origin + from })
        api.capture('$pageview', { from, $current_url: location.href })
      }
      // Untimed, before each pause: see CHUNK_POSTHOG_LITE.
      const settle = lib === 'posthog_lite' ? () => api.flush().catch(() => {}) : () => {}
      const step = {
        none: (to) => history.pushState(null, '', to),
        ours: (to, from) => { history.pushState(null, '', to); api.routeChanged(to, from) },
        posthog: posthogStep,
        posthog_lite: posthogStep
      }[lib]
      for (let i = 0; i < 200; i++) step(`/warm/${i}`, `/warm/${i - 1}`)
      // Steps during which the library warned (e.g. its queue overflowed) are
      // marked, so their cost can be shown apart.
      let warnings = 0
      const warn = console.warn
      console.warn = function (...args) { warnings++; return warn.apply(this, args) }
      const times = new Float64Array(n)
      const warned = new Uint8Array(n)
      for (let i = 0; i < n; i++) {
        if (i % chunk === 0) {
          await settle()
          await new Promise(resolve => setTimeout(resolve, pauseMs))
        }
        const before = warnings
        const t0 = performance.now()
        step(`/r/${i}`, `/r/${i - 1}`)
        times[i] = performance.now() - t0
        warned[i] = warnings !== before ? 1 : 0
      }
      return { times: Array.from(times), warned: Array.from(warned) }
    }, { setup: setups[lib], lib, n: ROUTE_CHANGES, chunk: lib === 'posthog_lite' ? CHUNK_POSTHOG_LITE : CHUNK, pauseMs: PAUSE_MS }))
  }
  const all = perLoad.flatMap(l => l.times)
  const quiet = perLoad.flatMap(l => l.times.filter((_, i) => !l.warned[i]))
  return {
    median_us: median(perLoad.map(l => median(l.times))) * 1000,
    p99_us: p99(all) * 1000,
    median_us_without_warnings: median(quiet) * 1000,
    steps_with_warnings: all.length - quiet.length
  }
}

// Start-up: from the start of the import to "ready to capture", fresh page each time.
async function startup (lib) {
  const times = []
  for (let i = 0; i < STARTUP_LOADS; i++) {
    times.push(await inPage(async ({ setup }) => {
      const t0 = performance.now()
      await (0, eval)(setup)()
      return performance.now() - t0
    }, { setup: setups[lib] }))
  }
  return { median_ms: median(times) }
}

// Error capture: captureException per call; Sentry's first 40 fit its buffer, the
// rest are dropped after the whole pipeline, so both groups are reported.
async function errorCapture (lib) {
  const times = await inPage(async ({ setup, n }) => {
    const api = await (0, eval)(setup)()
    const errors = Array.from({ length: n }, (_, i) => new Error(`bench error ${i}`))
    const out = new Float64Array(n)
    for (let i = 0; i < n; i++) {
      const t0 = performance.now()
      api.captureException(errors[i])
      out[i] = performance.now() - t0
    }
    return Array.from(out)
  }, { setup: setups[lib], n: ERROR_CAPTURES })
  return { first40_us: median(times.slice(0, 40)) * 1000, rest_us: median(times.slice(40)) * 1000, median_us: median(times) * 1000 }
}

// A measurement that fails (e.g. a library that does not start) is reported as
// `{error}` and the others still run.
async function measured (measure) {
  try {
    return await measure()
  } catch (err) {
    const error = String(err?.message ?? err).split('\n')[0].replace(/^page\.evaluate: (Error: )?/, '')
    log(`  failed: ${error}`)
    return { error }
  }
}

const result = {
  quick,
  counts: { route_change_chunk: CHUNK, route_change_chunk_posthog_lite: CHUNK_POSTHOG_LITE, route_change_pause_ms: PAUSE_MS, route_changes: ROUTE_CHANGES, loads_per_measure: LOADS_PER_MEASURE, startup_loads: STARTUP_LOADS, error_captures: ERROR_CAPTURES },
  size,
  route_change: {},
  startup: {},
  error_capture: {}
}
try {
  for (const lib of ['none', 'ours', 'posthog', 'posthog_lite']) {
    log(`route changes: ${lib}`)
    const before = consoleProblems
    const requestsBefore = sinkRequests
    result.route_change[lib] = await measured(() => routeChanges(lib))
    result.route_change[lib].console_problems = consoleProblems - before
    // Shows that the library really sent (a library that drops events is cheap).
    result.route_change[lib].sink_requests = sinkRequests - requestsBefore
    log(`  ${sinkRequests - requestsBefore} requests reached the sink`)
  }
  for (const lib of ['none', 'ours', 'posthog', 'posthog_lite', 'sentry']) {
    log(`start-up: ${lib}`)
    result.startup[lib] = await measured(() => startup(lib))
  }
  for (const lib of ['ours', 'sentry']) {
    log(`error capture: ${lib}`)
    result.error_capture[lib] = await measured(() => errorCapture(lib))
  }
  result.sink_requests = sinkRequests
  result.console_problems = consoleProblems
  result.chromium = browser.version()
} finally {
  await browser.close()
  server.close()
}
process.stdout.write(JSON.stringify(result, null, 2) + '\n')
