import { createRouter, createWebHistory } from 'vue-router'
import Home from './pages/Home.vue'
import Teams from './pages/Teams.vue'
import Team from './pages/Team.vue'
import Instances from './pages/Instances.vue'
import Instance from './pages/Instance.vue'
import AdminSettings from './pages/AdminSettings.vue'
import Setup from './pages/Setup.vue'
import { setupStatus } from './setup.js'

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: '/', name: 'home', component: Home },
    { path: '/teams', name: 'teams', component: Teams },
    { path: '/teams/:slug', name: 'team', component: Team },
    { path: '/instances', name: 'instances', component: Instances },
    { path: '/instances/:id', name: 'instance', component: Instance },
    { path: '/admin/settings', name: 'admin-settings', component: AdminSettings },
    { path: '/setup', name: 'setup', component: Setup },
    { path: '/:rest(.*)*', redirect: '/' }
  ]
})

// While the first-run setup is pending every page leads to it; afterwards it is gone.
router.beforeEach(async to => {
  const { pending } = await setupStatus()
  if (pending && to.name !== 'setup') return { name: 'setup' }
  if (!pending && to.name === 'setup') return { name: 'home' }
  return true
})
