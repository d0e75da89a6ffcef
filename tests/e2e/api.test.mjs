// The handle's JavaScript API as a user calls it: the built npm package
// (`npm/pkg`, the wasm-bindgen output, and `npm/index.js`, the wrapper) imported
// by a plain module page in Chromium. Every method is called by its JavaScript
// name — with the documented arguments, with wrong, missing and extra ones,
// re-entrantly, and after `free()` — and must never throw into the page. What
// the SDK sends goes to a small capture server in this file (same origin as
// the page, so no CORS), which records each request body.
//
// Needs `cargo xtask build` (npm/pkg); no demo stack.

import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT, launchBrowser, waitFor, captureServer, posthogEvents as eventsIn } from './lib.mjs'

const NPM = join(ROOT, 'npm')

/** The handle's methods as issues #4/#5 and npm/README.md name them. */
const METHODS = ['routeChanged', 'navigationStarted', 'capture', 'identify', 'group', 'reset',
  'captureException', 'captureMessage', 'optIn', 'optOut', 'hasOptedOut', 'flush',
  'consent']

let server, origin, browser, received // { path, body } of every POST, bodies decoded

before(async () => {
  server = await captureServer()
  origin = server.origin
  received = server.received
  browser = await launchBrowser()
})

after(async () => {
  await browser?.close()
  await server?.close()
})

/** The PostHog events received for `token`, oldest first. */
function posthogEvents (token) {
  return eventsIn(received, token)
}

/** The Sentry envelope bodies received for project `id`. */
function envelopes (id) {
  return received.filter(r => r.path === `/api/${id}/envelope/`).map(r => r.body)
}

/** A fresh page on the capture server, with every `ff-telemetry:` warning counted. */
async function openPage () {
  const page = await browser.newPage()
  await page.goto(`${origin}/`)
  await page.evaluate(() => {
    window.__warnings = []
    const warn = console.warn
    console.warn = function (...args) {
      if (String(args[0]).includes('ff-telemetry')) window.__warnings.push(args.map(String).join(' '))
      return warn.apply(this, args)
    }
  })
  return page
}

function config (token, sentryProject) {
  return {
    posthog: { apikey: token, apiurl: origin, capture_pageview: false },
    sentry: { dsn: `${origin.replace('//', `//key${sentryProject}@`)}/${sentryProject}`, report_localhost: true },
    persistence: 'memory'
  }
}

test('every method of the handle exists under its JS name, does what it says, and returns what the types promise', async () => {
  const page = await openPage()
  const token = 'phc_api_all_methods'
  const out = await page.evaluate(async ({ config, METHODS }) => {
    const wasm = await import('/pkg/ff_telemetry_web.js')
    await wasm.default()
    const t = wasm.init(config)
    const thrown = []
    const attempt = (name, ...args) => {
      try { return t[name](...args) } catch (e) { thrown.push(`${name}: ${e}`) }
    }
    const missing = METHODS.filter(m => typeof t[m] !== 'function')
    attempt('navigationStarted')
    attempt('routeChanged', '/first')
    attempt('routeChanged', '/second', '/first')
    attempt('capture', 'api event', { plan: 'team' }, { team: 't1' })
    attempt('identify', 'user-1', { name: 'Ada' }, { first_seen: 'today' })
    attempt('group', 'team', 't1', { size: 3 })
    // Sent before opting out, which drops what is unsent.
    await attempt('flush')
    const optedOut = [attempt('hasOptedOut')]
    attempt('optOut')
    optedOut.push(attempt('hasOptedOut'))
    attempt('capture', 'sent while opted out')
    attempt('optIn')
    optedOut.push(attempt('hasOptedOut'))
    attempt('captureException', new Error('api boom'), { handled: true, tags: { area: 'api' } })
    attempt('captureMessage', 'api hello', 'warning')
    attempt('capture', 'after opt in')
    const flushed = attempt('flush')
    const isPromise = flushed instanceof Promise
    await flushed
    attempt('reset')
    return { missing, thrown, optedOut, isPromise, warnings: window.__warnings }
  }, { config: config(token, 11), METHODS })

  assert.deepEqual(out.missing, [], 'methods missing on the handle')
  assert.deepEqual(out.thrown, [], 'methods that threw')
  assert.deepEqual(out.optedOut, [false, true, false], 'hasOptedOut() is a boolean that follows optOut/optIn')
  assert.ok(out.isPromise, 'flush() returns a Promise')
  assert.deepEqual(out.warnings, [], 'no warnings for documented calls')

  const events = await waitFor(() => {
    const e = posthogEvents(token)
    return e.some(x => x.event === 'after opt in') && e
  }, { what: 'the PostHog batch' })
  const byName = name => events.find(e => e.event === name)
  assert.deepEqual(events.filter(e => e.event === '$pageview').map(e => new URL(e.properties.$current_url).pathname),
    ['/first', '/second'])
  assert.equal(byName('api event').properties.plan, 'team')
  assert.equal(byName('api event').properties.$groups.team, 't1')
  assert.equal(byName('$identify').properties.$set.name, 'Ada')
  assert.equal(byName('$identify').properties.$set_once.first_seen, 'today')
  assert.equal(byName('$groupidentify').properties.$group_set.size, 3)
  assert.equal(byName('sent while opted out'), undefined, 'nothing captured while opted out')

  const sentry = await waitFor(() => {
    const bodies = envelopes(11)
    return bodies.some(b => b.includes('api boom')) && bodies.some(b => b.includes('api hello')) && bodies
  }, { what: 'the Sentry envelopes' })
  assert.ok(sentry.some(b => b.includes('"level":"warning"') && b.includes('api hello')), 'captureMessage keeps its level')
  await page.close()
})

test('wrong, missing and extra arguments: one warning for each ignored call, no throw', async () => {
  const page = await openPage()
  const token = 'phc_api_bad_args'
  const out = await page.evaluate(async ({ config }) => {
    const wasm = await import('/pkg/ff_telemetry_web.js')
    await wasm.default()
    const t = wasm.init(config)
    const calls = [
      // [what, method, args, warnings expected]
      ['capture(42)', 'capture', [42], 1],
      ['capture()', 'capture', [], 1],
      ['capture with a string as properties', 'capture', ['e', 'not an object'], 1],
      ['capture with an array as groups', 'capture', ['e', {}, ['t']], 1],
      ['identify({})', 'identify', [{}], 1],
      ['identify with a number as set', 'identify', ['u', 5], 1],
      ['group with its key missing', 'group', ['team'], 1],
      ['group with a string as properties', 'group', ['team', 'k', 'x'], 1],
      ['routeChanged(5)', 'routeChanged', [5], 1],
      ['routeChanged()', 'routeChanged', [], 1],
      ['captureMessage(null)', 'captureMessage', [null], 1],
      ['capture with circular properties', 'capture', ['circular', (() => { const o = {}; o.self = o; return o })()], 1],
      ['capture with a BigInt property', 'capture', ['bigint', { n: 1n }], 1],
      ['capture with extra arguments', 'capture', ['extra args', { a: 1 }, { team: 't' }, 'x', 'y'], 0],
      ['captureMessage with an unknown level', 'captureMessage', ['odd level', 'loud'], 0],
      ['optOut with an argument', 'optIn', [true], 0],
      ['reset with arguments', 'reset', [1, 2, 3, 4], 0]
    ]
    const results = []
    for (const [what, name, args, expected] of calls) {
      const before = window.__warnings.length
      let threw = null
      try { t[name](...args) } catch (e) { threw = String(e) }
      results.push({ what, threw, warnings: window.__warnings.length - before, expected })
    }
    const optedOut = t.hasOptedOut('unexpected', 'arguments')
    await t.flush(1, 2, 3)
    return { results, optedOut }
  }, { config: config(token, 12) })

  for (const r of out.results) {
    assert.equal(r.threw, null, `${r.what} threw`)
    assert.equal(r.warnings, r.expected, `${r.what}: ${r.expected} warning(s)`)
  }
  assert.equal(out.optedOut, false)
  const events = await waitFor(() => {
    const e = posthogEvents(token)
    return e.some(x => x.event === 'extra args') && e
  }, { what: 'the event with extra arguments' })
  assert.equal(events.find(e => e.event === 'extra args').properties.a, 1)
  assert.ok(!events.some(e => e.event === 'e'), 'ignored calls send nothing')
  await page.close()
})

test('a method called re-entrantly (from console.warn, from an error getter, from a property getter) neither throws nor stops the SDK', async () => {
  const page = await openPage()
  const token = 'phc_api_reentrant'
  const out = await page.evaluate(async ({ config }) => {
    const wasm = await import('/pkg/ff_telemetry_web.js')
    await wasm.default()
    const t = wasm.init(config)
    const thrown = []
    const attempt = f => { try { f() } catch (e) { thrown.push(String(e)) } }
    // A host that forwards console warnings to its telemetry.
    const warn = console.warn
    let forwarding = false
    console.warn = function (...args) {
      if (!forwarding) {
        forwarding = true
        attempt(() => t.capture('forwarded warning', { text: args.map(String).join(' ') }))
        forwarding = false
      }
      return warn.apply(this, args)
    }
    attempt(() => t.capture(42)) // warns, and the warning re-enters
    console.warn = warn
    // An error whose getters call the SDK while it describes the error.
    const error = new Error('reentrant boom')
    Object.defineProperty(error, 'stack', { get () { t.captureMessage('from a getter'); t.capture('from a getter'); return 'Error: reentrant boom\n    at x (http://127.0.0.1/a.js:1:1)' } })
    attempt(() => t.captureException(error))
    // Properties whose getter calls the SDK while it writes the event.
    attempt(() => t.capture('with a getter', { get nested () { t.capture('from a property getter'); t.flush(); return 1 } }))
    attempt(() => t.identify('user-r', { get plan () { t.reset(); return 'team' } }))
    attempt(() => t.capture('after reentry'))
    await t.flush()
    return { thrown }
  }, { config: config(token, 13) })

  assert.deepEqual(out.thrown, [])
  const events = await waitFor(() => {
    const e = posthogEvents(token)
    return e.some(x => x.event === 'after reentry') && e
  }, { what: 'the event after re-entrant calls' })
  assert.ok(events.some(e => e.event === 'forwarded warning'), 'the call made from console.warn counted')
  assert.ok(events.some(e => e.event === 'from a getter'), 'the call made from the error getter counted')
  assert.ok(events.some(e => e.event === 'from a property getter'), 'the call made from a property getter counted')
  assert.equal(events.find(e => e.event === 'with a getter').properties.nested, 1)
  assert.equal(events.find(e => e.event === '$identify').properties.$set.plan, 'team')
  await waitFor(() => envelopes(13).some(b => b.includes('reentrant boom')), { what: 'the re-entrant error envelope' })
  await page.close()
})

test('the npm wrapper exports every documented call, queues calls made before start() and returns booleans and Promises', async () => {
  const page = await openPage()
  const token = 'phc_api_wrapper'
  const declared = [...readFileSync(join(NPM, 'index.d.ts'), 'utf8').matchAll(/^export function (\w+)/gm)].map(m => m[1])
  const out = await page.evaluate(async ({ config, declared }) => {
    const pkg = await import('/index.js')
    const missing = declared.filter(name => typeof pkg[name] !== 'function')
    const before = pkg.hasOptedOut()
    pkg.capture('queued before start', { early: true })
    const started = await pkg.start(config)
    pkg.routeChanged('/wrapped')
    pkg.identify('user-w')
    pkg.group('team', 'tw')
    await pkg.flush() // before opting out, which drops what is unsent
    pkg.optOut()
    const afterOptOut = pkg.hasOptedOut()
    pkg.optIn()
    pkg.captureMessage('wrapper hello')
    pkg.captureException(new Error('wrapper boom'))
    pkg.navigationStarted()
    pkg.capture('wrapper done')
    const flushed = pkg.flush()
    const isPromise = flushed instanceof Promise
    await flushed
    pkg.reset()
    return { missing, before, started, afterOptOut, after: pkg.hasOptedOut(), isPromise, warnings: window.__warnings }
  }, { config: config(token, 15), declared })

  assert.ok(declared.length >= 16, `index.d.ts declares the API (${declared})`)
  assert.deepEqual(out.missing, [], 'declared in index.d.ts but not exported by index.js')
  assert.equal(out.before, false)
  assert.equal(out.started, true)
  assert.equal(out.afterOptOut, true)
  assert.equal(out.after, false)
  assert.ok(out.isPromise)
  assert.deepEqual(out.warnings, [])
  const events = await waitFor(() => {
    const e = posthogEvents(token)
    return e.some(x => x.event === 'wrapper done') && e
  }, { what: 'the wrapper events' })
  assert.ok(events.some(e => e.event === 'queued before start' && e.properties.early === true), 'a call made before start() is replayed')
  await waitFor(() => envelopes(15).some(b => b.includes('wrapper boom')), { what: 'the wrapper error envelope' })
  await page.close()
})

test('the generated .d.ts types every method of the handle, and index.d.ts every export of index.js', () => {
  const dts = readFileSync(join(NPM, 'pkg/ff_telemetry_web.d.ts'), 'utf8')
  // The handle's type: wasm-bindgen's class merged with the custom section's interface.
  const declarations = [...dts.matchAll(/export (?:declare )?(?:class|interface) Telemetry\b[^{]*\{([\s\S]*?)\n\}/g)]
    .map(m => m[1]).join('\n')
  for (const name of [...METHODS, 'free']) {
    assert.match(declarations, new RegExp(`^\\s*${name}\\(`, 'm'), `Telemetry.${name} is typed`)
  }
  assert.match(declarations, /hasOptedOut\(\): boolean;/)
  assert.match(declarations, /flush\(\): Promise<void>;/)
  assert.match(dts, /export function init\(config\?: TelemetryConfig(?: \| null)?\): Telemetry;/, 'init(config?) returns a Telemetry')
  assert.doesNotMatch(declarations, /invoke\(/, 'the dispatch export stays out of the types')

  const wrapperDts = readFileSync(join(NPM, 'index.d.ts'), 'utf8')
  const exported = [...readFileSync(join(NPM, 'index.js'), 'utf8').matchAll(/^export (?:async )?(?:function|const) (\w+)/gm)].map(m => m[1])
  for (const name of exported) {
    assert.match(wrapperDts, new RegExp(`^export function ${name}\\(`, 'm'), `${name} is declared in index.d.ts`)
  }
  for (const name of METHODS) assert.ok(exported.includes(name), `index.js exports ${name}`)
  // The config is typed once (types.test.mjs): both take it from config.d.ts.
  assert.match(wrapperDts, /^import type \{[^}]*\bTelemetryConfig\b[^}]*\} from '\.\/config\.js'/m, 'index.d.ts imports the config type')
  // ... and on what captureException's context may hold (installVue passes more).
  const context = (text) => text.match(/captureException\(error: unknown, context\?: (\{[^}]*\})/)?.[1]
  assert.ok(context(declarations), 'the handle types captureException')
  assert.equal(context(declarations), context(wrapperDts), 'captureException context types agree')
})

test('a bad config is one warning naming the field, and the handle still answers every method', async () => {
  const page = await openPage()
  const posthog = { apikey: 'phc_api_config', apiurl: origin, capture_pageview: false }
  const dsn = `${origin.replace('//', '//key16@')}/16`
  const on = 'ff-telemetry:'
  const cases = [
    // serde's messages (the config is read by serde-wasm-bindgen), after the field's name.
    [{ persistence: 'disk' }, [`${on} telemetry is off: persistence: unknown variant \`disk\`, expected \`localStorage\` or \`memory\``]],
    [{ posthog, respect_dnt: 'yes' }, [`${on} telemetry is off: respect_dnt: invalid type: string "yes", expected a boolean`]],
    [{ posthog: { apiurl: origin } }, [`${on} PostHog is off: posthog: missing field \`apikey\``]],
    // The first problem is the one reported.
    [{ posthog: { apikey: 5, capture_pageview: 'yes' } }, [`${on} PostHog is off: posthog.apikey: invalid type: floating point \`5.0\`, expected a string`]],
    [{ posthog: 'phc_x' }, [`${on} PostHog is off: posthog: invalid type: string "phc_x", expected struct FrontendPosthog`]],
    [{ posthog, sentry: { dsn: 5 } }, [`${on} Sentry is off: sentry.dsn: invalid type: floating point \`5.0\`, expected a string`]],
    [{ posthog, sentry: { dsn: `${origin}/16` } },
      [`${on} Sentry is off: telemetry.frontend.sentry.dsn: public key is missing`]],
    [{ posthog, sentry: { dsn, traces_sample_rate: 'high', ignore_errors: [1] } },
      [`${on} Sentry is off: sentry.traces_sample_rate: invalid type: string "high", expected f64`]],
    [{ posthog, sentry: { dsn: '' } }, []],
    [{ sentry: { dsn, report_localhost: true } }, [`${on} PostHog is not configured: PostHog calls do nothing`]],
    [null, [`${on} no config given and no #ff-telemetry-config element: telemetry is off`]],
    [undefined, [`${on} no config given and no #ff-telemetry-config element: telemetry is off`]]
  ]
  const out = await page.evaluate(async ({ cases, METHODS }) => {
    const wasm = await import('/pkg/ff_telemetry_web.js')
    await wasm.default()
    const results = []
    const run = async (config) => {
      const before = window.__warnings.length
      const thrown = []
      let t
      try { t = config === undefined ? wasm.init() : wasm.init(config) } catch (e) { thrown.push(`init: ${e}`) }
      const warnings = window.__warnings.slice(before)
      let optedOut, flushed = false
      // optOut() and consent() left out: they would be remembered for the next case.
      for (const name of METHODS.filter(m => m !== 'optOut' && m !== 'consent')) {
        try {
          const r = t[name]('x')
          if (name === 'hasOptedOut') optedOut = r
          if (name === 'flush') { await r; flushed = r instanceof Promise }
        } catch (e) { thrown.push(`${name}: ${e}`) }
      }
      try { t.free() } catch (e) { thrown.push(`free: ${e}`) }
      return { warnings, thrown, optedOut, flushed }
    }
    for (const [config] of cases) results.push(await run(config))
    // The config element: broken JSON.
    const el = document.createElement('script')
    el.type = 'application/json'
    el.id = 'ff-telemetry-config'
    el.textContent = '{not json'
    document.head.appendChild(el)
    results.push(await run(undefined))
    return results
  }, { cases, METHODS })

  cases.forEach(([config, warnings], i) => {
    assert.deepEqual(out[i], { warnings, thrown: [], optedOut: false, flushed: true }, JSON.stringify(config))
  })
  const broken = out.at(-1)
  assert.equal(broken.warnings.length, 1, 'one warning for a config element that is not JSON')
  assert.match(broken.warnings[0], /^ff-telemetry: #ff-telemetry-config is not JSON: \S/)
  assert.deepEqual(broken.thrown, [])
  await page.close()
})

// wasm-bindgen's own free() makes every later method throw "null pointer
// passed to rust", throws the same when called twice, and throws "attempted
// to take ownership of Rust value while it was borrowed" from a listener the
// handle's own call triggered (leaving the handle's listeners and timers
// alive): the handle's free() is its own (`Telemetry::release` in
// crates/web/src/api.rs), which only lets go of the clients.
test('methods called after free(), free() twice and free() inside a call of the handle do not throw', async () => {
  const page = await openPage()
  const out = await page.evaluate(async ({ config, METHODS }) => {
    const wasm = await import('/pkg/ff_telemetry_web.js')
    await wasm.default()
    const t = wasm.init(config)
    t.free()
    const thrown = []
    const returned = {}
    for (const name of METHODS) {
      try { returned[name] = t[name]('x', {}, {}) } catch (e) { thrown.push(`${name}: ${e}`) }
    }
    let flushResolved = false
    try { await returned.flush; flushResolved = returned.flush instanceof Promise } catch (e) { thrown.push(`flush rejected: ${e}`) }
    let freedTwice = null
    try { t.free() } catch (e) { freedTwice = String(e) }
    // A second handle still works after the first was freed.
    const second = wasm.init(config)
    let secondWorks = false
    try { secondWorks = second.hasOptedOut() === false } catch (e) { thrown.push(`second handle: ${e}`) }
    second.free()
    // A handle freed by the page from inside one of its own calls (a
    // listener, here console.warn): freed once the call returns.
    const third = wasm.init({ ...config, posthog: undefined, sentry: undefined })
    const warn = console.warn
    let freedInside = null
    console.warn = function (...args) {
      try { third.free() } catch (e) { freedInside = String(e) }
      return warn.apply(this, args)
    }
    try { third.capture(42) } catch (e) { thrown.push(`third handle: ${e}`) }
    console.warn = warn
    return { freedInside, thrown, optedOut: returned.hasOptedOut, flushResolved, freedTwice, secondWorks }
  }, { config: config('phc_api_free', 14), METHODS })

  // All at once, so one run shows every way it fails.
  assert.deepEqual({ freedInside: out.freedInside, thrown: out.thrown, optedOut: out.optedOut, flushResolved: out.flushResolved, freedTwice: out.freedTwice, secondWorks: out.secondWorks },
    { freedInside: null, thrown: [], optedOut: false, flushResolved: true, freedTwice: null, secondWorks: true })
  await page.close()
})

// The JavaScript `init` is `init_for_js` in crates/web/src/api.rs: its JSDoc
// must be init's documentation (the config, an example), not Rust plumbing.
test('the .d.ts documents init() for TypeScript users, not the Rust plumbing', () => {
  const dts = readFileSync(join(NPM, 'pkg/ff_telemetry_web.d.ts'), 'utf8')
  const doc = dts.match(/\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*export function init\(/)?.[1] ?? ''
  assert.match(doc, /ff-telemetry-config/, "init's JSDoc says what it reads without a config")
  assert.doesNotMatch(dts, /\[`[^`\]]+`\]/, 'no rustdoc links in the types')
})
