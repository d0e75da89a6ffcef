// What an app ships to init PostHog and capture: the esbuild-minified size anchor
// and the runtime benchmark's PostHog library.
import posthog from 'posthog-js'
window.posthog = posthog
