// Demo content for the pages; the platform's own data lives in its database.
export const teams = [
  { slug: 'acme', name: 'ACME Manufacturing', members: 12, instances: ['line-1', 'line-2', 'warehouse'] },
  { slug: 'globex', name: 'Globex Energy', members: 5, instances: ['substation-7'] },
  { slug: 'initech', name: 'Initech Labs', members: 3, instances: ['lab-sensors', 'test-bench'] }
]

export const instances = teams.flatMap(team =>
  team.instances.map((id, i) => ({
    id,
    team: team.slug,
    state: i % 3 === 2 ? 'suspended' : 'running',
    stack: i % 2 ? 'Node-RED 4.0' : 'Node-RED 4.1',
    devices: (id.length * 7) % 11
  }))
)
