import { createApp } from 'vue'
import { start, installVue } from '@ff-telemetry/web'
import App from './App.vue'
import { router } from './router.js'

const app = createApp(App)
app.use(router)
// Route changes become $pageleave/$pageview, component errors go to Sentry.
installVue(app, router)
// Reads the runtime config the platform injected into index.html.
start()
app.mount('#app')
