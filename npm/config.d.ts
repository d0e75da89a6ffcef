// The runtime config's and the properties' types, written only here: the
// Rust crate puts this file into the .d.ts wasm-bindgen generates
// (crates/web/src/api.rs), and index.d.ts imports it.

/** The runtime config the platform injects (the public part of `telemetry:`). */
export interface TelemetryConfig {
  posthog?: {
    apikey: string
    /** The PostHog host URL; by default PostHog's US cloud, app.posthog.com. */
    apiurl?: string
    /** The SDK also captures pageviews by itself (History API). Default true. */
    capture_pageview?: boolean
  }
  sentry?: {
    dsn: string
    production_mode?: boolean
    environment?: string
    release?: string
    report_localhost?: boolean
    traces_sample_rate?: number
    ignore_errors?: string[]
  }
  /** Where to keep ids and the unsent queue. Default "localStorage". */
  persistence?: 'localStorage' | 'memory'
  /** Honour the browser's Do Not Track setting. */
  respect_dnt?: boolean
  /** Store nothing and use no stable id. */
  cookieless?: boolean
  /** Consent to tracking until the user decides (`grantConsent()` / `denyConsent()`, remembered). Default "granted". */
  consent?: 'pending' | 'granted' | 'denied'
  /** What a denied consent leaves: cookieless tracking (the default) or none. */
  consent_denied?: 'cookieless' | 'nothing'
}

export type Properties = Record<string, unknown>
