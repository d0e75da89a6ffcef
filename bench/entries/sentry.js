// @sentry/browser with init only (no tracing, no replay): the size anchor and the
// runtime benchmark's Sentry library.
import { init, captureException } from '@sentry/browser'
window.Sentry = { init, captureException }
