import { defineConfig } from 'vite'

// One app, built once per React Router major (`--mode rr6` / `--mode rr7`): the
// app imports `router-under-test`, which is react-router-dom 6 or react-router 7.
const ROUTERS = { rr6: 'react-router-dom-6', rr7: 'react-router' }

export default defineConfig(({ mode }) => {
  if (!ROUTERS[mode]) throw new Error(`--mode must be one of ${Object.keys(ROUTERS)} (got ${mode})`)
  return {
    resolve: { alias: { 'router-under-test': ROUTERS[mode] } },
    oxc: { jsx: { runtime: 'automatic' } },
    build: {
      outDir: `dist/${mode}`,
      emptyOutDir: true,
      // React Router 7's "use client" means nothing in a browser-only bundle.
      rolldownOptions: { onwarn: (warning, warn) => warning.code === 'MODULE_LEVEL_DIRECTIVE' || warn(warning) }
    }
  }
})
