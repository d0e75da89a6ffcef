// @ff-telemetry/web: loads the WebAssembly SDK and connects it to your router.
//
// Every export is safe to call at any time: before `start()` has finished, calls
// are queued (a bounded number) and replayed; after a failure to load, they do
// nothing. Nothing here throws into the host app.

import loadWasm, * as wasm from './pkg/ff_telemetry_web.js'

const MAX_QUEUED_CALLS = 100
let state = 'idle' // idle | loading | ready | failed
let queue = []
let handle = null // the wasm `Telemetry` handle of this page

function warn (message, err) {
  try { console.warn(`[ff-telemetry] ${message}`, err ?? '') } catch (_) {}
}

// What the app hands an adapter (a router, an app, the routes a router
// passes back) may be anything: reading it must not throw into the app.
function guarded (what, f) {
  try { f() } catch (err) { warn(`${what} failed`, err) }
}

function call (name, args) {
  if (state === 'ready') {
    try { return handle[name](...args) } catch (err) { warn(`${name} failed`, err) }
    return undefined
  }
  if (state !== 'failed' && queue.length < MAX_QUEUED_CALLS) queue.push([name, args])
  return undefined
}

/**
 * Loads the WebAssembly module and starts the SDK.
 *
 * @param {object} [config] The runtime config; without it the JSON in
 *   `<script type="application/json" id="ff-telemetry-config">` is read.
 * @returns {Promise<boolean>} true once the SDK is ready, false if it could not load.
 */
export async function start (config) {
  if (state === 'ready' || state === 'loading') return state === 'ready'
  state = 'loading'
  try {
    await loadWasm()
    handle = wasm.init(config)
    state = 'ready'
  } catch (err) {
    state = 'failed'
    queue = []
    warn('could not start; telemetry is off', err)
    return false
  }
  const pending = queue
  queue = []
  for (const [name, args] of pending) call(name, args)
  return true
}

/**
 * Records an SPA navigation: `$pageleave` for the page left, `$pageview` for `to`.
 * `template` is the route the router matched (`/instances/:id`), if any: it names
 * Sentry transactions and goes on page events as `route_template`.
 */
export const routeChanged = (to, from, template) => call('routeChanged', [to, from, template])
/** A navigation began (before `routeChanged`): Sentry times the navigation from here. */
export const navigationStarted = () => call('navigationStarted', [])
/** Captures a custom PostHog event. */
export const capture = (event, properties, groups) => call('capture', [event, properties, groups])
/** Links this browser to a known user. */
export const identify = (distinctId, set, setOnce) => call('identify', [distinctId, set, setOnce])
/** Associates events with a group (e.g. a team). */
export const group = (type, key, properties) => call('group', [type, key, properties])
/** Forgets the user and starts a new anonymous identity (on logout). */
export const reset = () => call('reset', [])
/**
 * The user's consent to tracking: `consent(true)` accepts, `consent(false)` refuses
 * (both remembered), `consent()` only asks. Returns "pending", "granted" or "denied"
 * ("pending" until the SDK is loaded).
 */
export const consent = (decision) => call('consent', [decision]) ?? 'pending'
/** The user accepted tracking (a consent banner's "accept"): normal tracking from now on; remembered. */
export const grantConsent = () => { consent(true) }
/** The user refused tracking: cookieless tracking or none, as `consent_denied` says; remembered. */
export const denyConsent = () => { consent(false) }
/** "pending", "granted" or "denied" ("pending" until the SDK is loaded). */
export const consentStatus = () => consent()
/** Allows capturing again after `optOut()`. */
export const optIn = () => call('optIn', [])
/** Stops all capturing and remembers the choice. */
export const optOut = () => call('optOut', [])
/** Whether the user opted out (false until the SDK is loaded). */
export const hasOptedOut = () => call('hasOptedOut', []) ?? false
/** Sends everything queued now; resolves when done. */
export const flush = () => Promise.resolve(call('flush', [])).catch(() => undefined)
/** Reports an error to Sentry. */
export const captureException = (error, context) => call('captureException', [error, context])
/** Reports a message to Sentry. */
export const captureMessage = (message, level) => call('captureMessage', [message, level])

/**
 * Sends one `routeChanged` per completed vue-router navigation (first load
 * included), with the routes' `fullPath`s and the path of the route record
 * matched last (`/instances/:id`), each timed from its `beforeEach`.
 *
 * @param {import('vue-router').Router} router
 */
export function installVueRouter (router) {
  guarded('installVueRouter', () => {
    router.beforeEach(() => { navigationStarted() })
    router.afterEach((to, from, failure) => guarded('the route change', () => {
      if (failure) return
      // vue-router's START_LOCATION has no matched records: the first load has no "from".
      const matched = to.matched
      routeChanged(to.fullPath, from.matched.length ? from.fullPath : undefined,
        matched.length ? matched[matched.length - 1].path : undefined)
    }))
  })
}

/**
 * For apps without a router: reports every History API navigation (pushState,
 * replaceState, back/forward) that changes the path, query or hash.
 */
export function installHistory () {
  if (typeof window === 'undefined' || window.__ffTelemetryHistory) return
  window.__ffTelemetryHistory = true
  const here = () => location.pathname + location.search + location.hash
  let current = here()
  routeChanged(current, undefined)
  const changed = () => {
    const next = here()
    if (next === current) return
    const previous = current
    current = next
    routeChanged(next, previous)
  }
  for (const method of ['pushState', 'replaceState']) {
    const original = history[method]
    history[method] = function (...args) {
      const result = original.apply(this, args)
      changed()
      return result
    }
  }
  window.addEventListener('popstate', changed)
}

// React Router (6 and 7). The package imports neither React nor React Router:
// the app hands over its router, or its own hooks.

let reactRouterPath // the path a React Router adapter reported last

/** Reports `path` unless it is the page reported last (StrictMode runs effects twice). */
function reactRouteChanged (path, template) {
  if (path === reactRouterPath) return
  const from = reactRouterPath
  reactRouterPath = path
  routeChanged(path, from, template)
}

/** `pathname?search#hash` of a React Router location, under the router's `basename`. */
function reactRouterHref ({ pathname, search, hash }, basename = '/') {
  const path = pathname === '/' && basename !== '/' ? basename : `${basename}/${pathname}`
  return path.replace(/\/{2,}/g, '/') + (search || '') + (hash || '')
}

/** The matched routes' paths (root first) joined into one template, e.g. `/instances/:id`. */
function reactRouteTemplate (matches) {
  let template = ''
  for (const match of matches) {
    const path = match?.route?.path
    if (!path) continue // layout and index routes add no segment
    // A child's absolute path already holds its parents'.
    template = path.startsWith('/') ? path : `${template}/${path}`
  }
  return template.replace(/\/{2,}/g, '/').replace(/(.)\/$/, '$1') || '/'
}

const reactDataRouters = new WeakSet()

/**
 * React Router 6.4+ and 7 data routers (`createBrowserRouter`,
 * `createHashRouter`): one `routeChanged` per completed navigation (first
 * load included), with the matched routes' template, timed from the moment
 * its loaders started. A navigation still loading, blocked (`useBlocker`) or
 * redirected by a loader reports only where it finally lands.
 *
 * @param {import('react-router').DataRouter} router what `createBrowserRouter` returned
 * @example
 * const router = createBrowserRouter(routes)
 * installReactRouter(router)
 * start()
 */
export function installReactRouter (router) {
  guarded('installReactRouter', () => {
    if (reactDataRouters.has(router)) return
    reactDataRouters.add(router)
    let loading = false
    const settled = state => guarded('the route change', () => {
      if (!state.initialized) return // the first load's loaders still run
      if (state.navigation.state !== 'idle') {
        if (!loading) navigationStarted()
        loading = true
        return
      }
      loading = false
      // React Router matches its root route (with a 404 error) when nothing matched.
      const unmatched = Object.values(state.errors ?? {}).some(e => e?.internal && e.status === 404)
      reactRouteChanged(reactRouterHref(state.location, router.basename),
        unmatched ? undefined : reactRouteTemplate(state.matches))
    })
    settled(router.state)
    router.subscribe(settled)
  })
}

/**
 * React Router 6 and 7 declarative routers (`<BrowserRouter>`, `<HashRouter>`):
 * a hook for the component that renders the routes. One `routeChanged` per
 * location the router rendered (first load included) with the template of
 * `routes` it matched; a location a `<Navigate>` replaced in the same render
 * is not reported, nor one StrictMode renders twice.
 *
 * @param {object[]} [routes] the route objects (as given to `useRoutes`, or
 *   `createRoutesFromElements(…)`); without them no template is sent
 * @param {{ useEffect: Function, useLocation: Function, matchRoutes: Function, basename?: string }} hooks
 *   React's `useEffect`, React Router's `useLocation` and `matchRoutes`, and
 *   the router's `basename` if it has one
 * @example
 * function App () {
 *   useTelemetryRoutes(routes, { useEffect, useLocation, matchRoutes })
 *   return useRoutes(routes)
 * }
 */
export function useTelemetryRoutes (routes, hooks) {
  let location
  guarded('useTelemetryRoutes', () => { location = hooks.useLocation() })
  guarded('useTelemetryRoutes', () => hooks.useEffect(() => {
    // After every effect of this render: a <Navigate> among them has moved
    // the browser on already (its history entry has another key).
    queueMicrotask(() => guarded('the route change', () => {
      const shown = globalThis.history?.state?.key
      if (!location || (typeof shown === 'string' && shown !== location.key)) return
      const matches = routes && hooks.matchRoutes(routes, location)
      reactRouteChanged(reactRouterHref(location, hooks.basename),
        matches ? reactRouteTemplate(matches) : undefined)
    }))
  }, [location]))
}

/**
 * Vue 3: reports component errors (which Vue catches before they reach
 * `window.onerror`) and installs the router adapter.
 *
 * @param {import('vue').App} app
 * @param {import('vue-router').Router} [router]
 */
export function installVue (app, router) {
  guarded('installVue', () => {
    const previous = app.config.errorHandler
    app.config.errorHandler = (err, instance, info) => {
      captureException(err, { mechanism: 'vue', handled: false, info })
      if (previous) previous(err, instance, info)
      else console.error(err)
    }
  })
  if (router) installVueRouter(router)
}
