// Types for @ff-telemetry/web.

import type { TelemetryConfig, Properties } from './config.js'
export type { TelemetryConfig, Properties }

/** Loads the WebAssembly SDK; without `config` it reads `#ff-telemetry-config`. */
export function start(config?: TelemetryConfig): Promise<boolean>
/**
 * `$pageleave` for the page left (the SDK knows it; `from` is accepted for router hooks), then `$pageview` for `to`.
 * `template` is the route the router matched (`/instances/:id`): Sentry names transactions by it (source `route`;
 * without it, by the path, source `url`) and page events carry it as `route_template`.
 */
export function routeChanged(to: string, from?: string, template?: string): void
/** A navigation began: Sentry times the navigation until the next `routeChanged`. */
export function navigationStarted(): void
export function capture(event: string, properties?: Properties, groups?: Record<string, string>): void
export function identify(distinctId: string, set?: Properties, setOnce?: Properties): void
export function group(type: string, key: string, properties?: Properties): void
export function reset(): void
/** The user's consent: `consent(true)` accepts, `consent(false)` refuses (remembered), `consent()` asks; returns the consent in force. */
export function consent(decision?: boolean | null): 'pending' | 'granted' | 'denied'
/** The user accepted tracking (a consent banner's "accept"): normal tracking from now on; remembered. */
export function grantConsent(): void
/** The user refused tracking: what was stored is forgotten; cookieless tracking or none (`consent_denied`); remembered. */
export function denyConsent(): void
/** The consent in force ("pending" until the SDK is loaded, and with `consent: "pending"` until the user decides). */
export function consentStatus(): 'pending' | 'granted' | 'denied'
export function optIn(): void
export function optOut(): void
export function hasOptedOut(): boolean
export function flush(): Promise<void>
/** Reports an error to Sentry. `handled: false` means nothing caught it (the session counts as crashed). */
export function captureException(error: unknown, context?: { handled?: boolean; mechanism?: string; tags?: Record<string, string>; [key: string]: unknown }): void
export function captureMessage(message: string, level?: 'fatal' | 'error' | 'warning' | 'info' | 'debug'): void

/** One `routeChanged` per completed vue-router navigation. */
export function installVueRouter(router: { beforeEach: (guard: () => void) => unknown; afterEach: (guard: (to: any, from: any, failure?: unknown) => void) => unknown }): void
/** Route changes from the History API, for apps without a router. */
export function installHistory(): void
/** Vue 3: component errors to Sentry, plus the router adapter. */
export function installVue(app: { config: { errorHandler?: (err: unknown, instance: unknown, info: string) => void } }, router?: Parameters<typeof installVueRouter>[0]): void

/** A React Router location: what `useLocation()` returns and a data router's `state.location` holds. */
export interface ReactRouterLocation { pathname: string; search: string; hash: string; key: string }
/** A matched route, root first: what `matchRoutes` returns and a data router's `state.matches` holds. */
export interface ReactRouterMatch { route: { path?: string } }
/**
 * React Router 6.4+ / 7 data routers (`createBrowserRouter`, `createHashRouter`):
 * one `routeChanged` per completed navigation, with the template of the matched
 * routes (`/instances/:id`); none while loaders run, for a blocked navigation or
 * for a loader's redirect (only where it lands).
 */
export function installReactRouter(router: { state: unknown; subscribe: (listener: (state: any) => void) => unknown; basename?: string }): void
/**
 * React Router 6 / 7 declarative routers (`<BrowserRouter>`): call it in the
 * component that renders the routes. One `routeChanged` per location rendered,
 * with the template of the `routes` it matches; none twice under StrictMode,
 * none for a location a `<Navigate>` replaced at once.
 */
export function useTelemetryRoutes(
  routes: readonly object[] | undefined,
  hooks: {
    useEffect: (effect: () => void, deps: readonly unknown[]) => void
    useLocation: () => ReactRouterLocation
    matchRoutes: (routes: any, location: ReactRouterLocation) => ReactRouterMatch[] | null
    /** The router's `basename`, if it has one. */
    basename?: string
  }
): void
