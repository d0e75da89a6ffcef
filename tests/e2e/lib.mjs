// Shared helpers of the end-to-end tests: start the real demo stack on free
// loopback ports, drive Debian's Chromium, and read what the collector stored.

import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { createServer as createHttpServer } from 'node:http'
import { mkdtempSync, writeFileSync, mkdirSync, readFileSync, existsSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve, extname, normalize } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { chromium } from 'playwright-core'

export const ROOT = resolve(new URL('../..', import.meta.url).pathname)
export const BIN = process.env.FF_TELEMETRY_BIN || join(ROOT, 'target/debug/ff-telemetry')
export const SPA_DIR = join(ROOT, 'www/dist')
export const ARTIFACTS = join(ROOT, 'target/artifacts')
export const ADMIN_TOKEN = 'e2e-admin-token'
// The collector's dashboard and query API need this token (given to the demo through
// FF_TELEMETRY_READ_TOKEN).
export const READ_TOKEN = 'e2e-read-token'
const READ = { headers: { Authorization: `Bearer ${READ_TOKEN}` } }

export async function freePort () {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

/** A flowforge.yml for the demo stack; `telemetry` extends the defaults. */
export function flowforgeYml ({ platformPort, collectorPort, licensed = false, capturePageview = false, startupDelay = 30, tracesSampleRate }) {
  const c = `127.0.0.1:${collectorPort}`
  return `
host: 127.0.0.1
port: ${platformPort}
admin:
  token: ${ADMIN_TOKEN}
license:
${licensed ? '  id: 4c105579-782b-4d53-af62-cf7fa69f6b43\n  type: EE' : '  type: CE'}
telemetry:
  enabled: true
  url: http://${c}/ping
  startup_delay_seconds: ${startupDelay}
  frontend:
    posthog:
      apikey: phc_demo
      apiurl: http://${c}
      capture_pageview: ${capturePageview}
    sentry:
      dsn: http://demo-browser-key@${c}/1
      report_localhost: true${tracesSampleRate === undefined ? '' : `\n      traces_sample_rate: ${tracesSampleRate}`}
  backend:
    sentry:
      dsn: http://demo-backend-key@${c}/2
    prometheus:
      enabled: true
`
}

/**
 * Starts `ff-telemetry demo` with a generated config and waits until it prints its
 * URLs. Resolves to { platform, collector, stop(), output() }.
 */
export async function startDemo (options = {}, extraArgs = [], env = {}) {
  const platformPort = await freePort()
  const collectorPort = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'ff-e2e-'))
  const config = join(dir, 'flowforge.yml')
  writeFileSync(config, flowforgeYml({ platformPort, collectorPort, ...options }))
  const child = spawn(BIN, ['demo', '--config', config, '--data-dir', join(dir, 'data'),
    '--collector-listen', `127.0.0.1:${collectorPort}`, '--spa-dir', SPA_DIR, ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'info', FF_TELEMETRY_READ_TOKEN: READ_TOKEN, ...env }
  })
  let out = ''
  child.stdout.on('data', d => { out += d })
  child.stderr.on('data', d => { out += d })
  const exited = new Promise(resolve => child.on('exit', code => resolve(code)))
  const platform = `http://127.0.0.1:${platformPort}`
  const collector = `http://127.0.0.1:${collectorPort}`
  await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`demo exited with ${child.exitCode}:\n${out}`)
    return (await fetchOk(`${platform}/`)) && (await fetchOk(`${collector}/api/pings?limit=1`, READ))
  }, { timeoutMs: 60_000, what: 'the demo to answer' })
  return {
    platform,
    collector,
    output: () => out,
    async stop () {
      child.kill('SIGINT')
      const code = await Promise.race([exited, sleep(10_000).then(() => 'timeout')])
      if (code === 'timeout') child.kill('SIGKILL')
      return code
    }
  }
}

/** The collector alone on a free loopback port, storing into a fresh directory. Resolves to { url, stop() }. */
export async function startCollector () {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'ff-collector-'))
  const child = spawn(BIN, ['collector', '--listen', `127.0.0.1:${port}`, '--data-dir', dir], { stdio: 'ignore' })
  const url = `http://127.0.0.1:${port}`
  await waitFor(async () => (await fetch(`${url}/api/pings?limit=1`)).ok, { what: 'the collector' })
  return { url, stop: () => child.kill('SIGINT') }
}

const SPA_TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css' }

/** Serves the built app in `dir` on a free loopback port, `index.html` for every path that is no file (an SPA's routes). */
export function serveSpa (dir) {
  const server = createHttpServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '')
    let file = join(dir, path)
    if (!existsSync(file) || statSync(file).isDirectory()) file = join(dir, 'index.html')
    res.writeHead(200, { 'Content-Type': SPA_TYPES[extname(file)] || 'application/octet-stream' })
    res.end(readFileSync(file))
  })
  return new Promise(resolve => server.listen(0, '127.0.0.1', () => resolve(server)))
}

async function fetchOk (url, init) {
  try { return (await fetch(url, init)).ok } catch { return false }
}

export function sleep (ms) { return new Promise(resolve => setTimeout(resolve, ms)) }

/** Polls `check` until it returns a truthy value, or fails after `timeoutMs`. */
export async function waitFor (check, { timeoutMs = 20_000, intervalMs = 200, what = 'a condition' } = {}) {
  const deadline = Date.now() + timeoutMs
  let last
  for (;;) {
    try {
      last = await check()
      if (last) return last
    } catch (err) {
      if (String(err.message).startsWith('demo exited')) throw err
      last = err
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${last})`)
    await sleep(intervalMs)
  }
}

/** Events the collector stored, oldest first. */
export async function events (collector, source, name) {
  const q = new URLSearchParams({ source, limit: '1000' })
  if (name) q.set('name', name)
  const res = await fetch(`${collector}/api/events?${q}`, READ)
  if (!res.ok) throw new Error(`GET /api/events: ${res.status}`)
  return (await res.json()).events.reverse()
}

export async function pings (collector) {
  const res = await fetch(`${collector}/api/pings?limit=100`, READ)
  if (!res.ok) throw new Error(`GET /api/pings: ${res.status}`)
  return (await res.json()).pings.reverse()
}

export async function admin (platform, method, path, body) {
  const res = await fetch(`${platform}${path}`, {
    method,
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  return { status: res.status, body: await res.json().catch(() => null) }
}

export async function launchBrowser () {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--no-first-run']
  })
}

export function artifact (name) {
  mkdirSync(ARTIFACTS, { recursive: true })
  return join(ARTIFACTS, name)
}

/** The path part of a URL, or the string itself when it is already a path. */
export function pathOf (url) {
  try { return new URL(url).pathname } catch { return url }
}

const NPM_DIR = join(ROOT, 'npm')
const NPM_TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' }

/**
 * A loopback server that serves the built npm package (`/index.js`, `/pkg/…`)
 * and an empty page at `/`, and records every POST — what the SDK sends, the
 * page being same-origin so no CORS is involved. `answer(request)` may script
 * the answer to a POST: `{ status, headers }` (default 200).
 *
 * Resolves to { origin, received, close() }; each `received` entry is
 * { path, body, at, status }: the body gunzipped as text, `at` the server's
 * clock (ms) when the request arrived, `status` what it was answered.
 */
export async function captureServer (answer = () => ({ status: 200 })) {
  const received = []
  const server = createHttpServer((req, res) => {
    const chunks = []
    req.on('data', c => chunks.push(c))
    req.on('end', () => {
      const url = new URL(req.url, 'http://x')
      if (req.method === 'POST') {
        let body = Buffer.concat(chunks)
        if (body[0] === 0x1f && body[1] === 0x8b) body = gunzipSync(body)
        const request = { path: url.pathname, body: body.toString('utf8'), at: Date.now() }
        const { status = 200, headers = {} } = answer(request) ?? {}
        received.push({ ...request, status })
        res.writeHead(status, { 'Content-Type': 'application/json', ...headers })
        return res.end(status < 300 ? '{"status":1}' : '{}')
      }
      if (url.pathname === '/') {
        res.writeHead(200, { 'Content-Type': 'text/html' })
        return res.end('<!doctype html><title>ff-telemetry test page</title><body></body>')
      }
      const file = join(NPM_DIR, normalize(decodeURIComponent(url.pathname)).replace(/^(\.\.[/\\])+/, ''))
      if (!file.startsWith(NPM_DIR) || !existsSync(file) || statSync(file).isDirectory()) {
        res.writeHead(404)
        return res.end()
      }
      res.writeHead(200, { 'Content-Type': NPM_TYPES[extname(file)] || 'application/octet-stream' })
      res.end(readFileSync(file))
    })
  })
  await new Promise(resolve => server.listen(0, '127.0.0.1', resolve))
  if (!existsSync(join(NPM_DIR, 'pkg/ff_telemetry_web.js'))) {
    throw new Error('npm/pkg is missing: run `cargo xtask build` first')
  }
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    received,
    close: () => new Promise(resolve => { server.closeAllConnections(); server.close(resolve) })
  }
}

/** The PostHog events in `received` (see captureServer) for `token`, oldest first, with the request's `at`. */
export function posthogEvents (received, token) {
  return received
    .filter(r => r.path.startsWith('/batch') && r.status < 300)
    .flatMap(r => {
      const body = JSON.parse(r.body)
      const batch = Array.isArray(body) ? body : body.batch ?? [body]
      return batch.map(e => ({ ...e, token: body.api_key ?? e.properties?.token, at: r.at }))
    })
    .filter(e => e.token === token)
}
