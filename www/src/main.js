import { createApp } from 'vue'
import { installVue } from '@ff-telemetry/web'
import App from './App.vue'
import { router } from './router.js'
// Starts the SDK, with consent pending until the banner in App.vue is answered.
import './telemetry.js'

const app = createApp(App)
app.use(router)
// Route changes become $pageleave/$pageview, component errors go to Sentry.
installVue(app, router)
app.mount('#app')
