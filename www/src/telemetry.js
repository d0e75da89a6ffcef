// Starts the SDK with the runtime config the platform injected into index.html,
// asking for consent first: PostHog stores and sends nothing until the visitor
// answers the consent banner (App.vue); Sentry error reports do not wait.
import { start } from '@ff-telemetry/web'

function configAskingConsent () {
  try {
    const injected = JSON.parse(document.getElementById('ff-telemetry-config').textContent)
    return { ...injected, consent: 'pending' }
  } catch {
    return undefined // start() then reads the element itself and says what is wrong
  }
}

/** Resolves once the SDK is ready (true) or could not load (false). */
export const ready = start(configAskingConsent())
// Says so on the page (`<html data-telemetry="ready">`), for tests that must not
// leave a page before its SDK has started.
ready.then(ok => { document.documentElement.dataset.telemetry = ok ? 'ready' : 'off' })
