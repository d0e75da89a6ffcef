// The platform's first-run setup state, read once per page load from
// GET /api/v1/setup and shared by the router guard and the setup page.

let status = null

/**
 * `{pending, licensed}`. When the platform cannot be asked (no API behind the
 * page, a network error) the app behaves as set up rather than blocking every page.
 */
export async function setupStatus () {
  if (!status) {
    try {
      const res = await fetch('/api/v1/setup', { headers: { Accept: 'application/json' } })
      status = res.ok ? await res.json() : { pending: false, licensed: false }
    } catch (_) {
      status = { pending: false, licensed: false }
    }
  }
  return status
}

/** Called once the setup request succeeded, so the guard lets every page through. */
export function markSetupDone () {
  status = { ...(status || { licensed: false }), pending: false }
}
