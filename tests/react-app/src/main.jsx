// The app the React Router adapter's end-to-end test drives (tests/e2e/react-router.test.mjs).
// The test sets `window.reactAppTest = { mode, apiurl }` before the page loads:
// `mode` "data" renders a data router (createBrowserRouter + installReactRouter),
// "declarative" a <BrowserRouter> with the useTelemetryRoutes hook. Both render
// the same pages under React's StrictMode.

import { StrictMode, useEffect } from 'react'
import { createRoot } from 'react-dom/client'
import { BrowserRouter, RouterProvider, createBrowserRouter, matchRoutes, useLocation, useRoutes } from 'router-under-test'
import { start, flush, installReactRouter, useTelemetryRoutes } from '@ff-telemetry/web'
import { NotFound, routes } from './routes.jsx'

const { mode, apiurl } = window.reactAppTest
window.telemetryFlush = flush

const appRoutes = routes(mode)

function DeclarativeApp () {
  useTelemetryRoutes(appRoutes, { useEffect, useLocation, matchRoutes })
  return useRoutes(appRoutes) ?? <NotFound />
}

let app
if (mode === 'data') {
  const router = createBrowserRouter(appRoutes)
  installReactRouter(router)
  app = <RouterProvider router={router} />
} else {
  app = <BrowserRouter><DeclarativeApp /></BrowserRouter>
}
start({ posthog: { apikey: `phc_react_${mode}`, apiurl, capture_pageview: false }, persistence: 'memory' })
createRoot(document.getElementById('root')).render(<StrictMode>{app}</StrictMode>)
