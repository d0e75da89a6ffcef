import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

// Source maps are produced only for the build-time Sentry upload, and then as
// "hidden" maps: no sourceMappingURL comment ships to browsers.
export default defineConfig({
  plugins: [vue()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: process.env.FF_TELEMETRY_SOURCEMAPS ? 'hidden' : false
  }
})
