// posthog-js-lite, PostHog's small browser client, with what an app ships to
// create a client and capture: the esbuild-minified size anchor and the runtime
// benchmark's lightweight PostHog library.
import PostHog from 'posthog-js-lite'
window.PostHogLite = PostHog
