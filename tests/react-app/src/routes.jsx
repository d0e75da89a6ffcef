// The pages: the same route objects in both modes, with loaders (one slow, one
// redirecting) and a navigation blocker where only a data router has them.

import { useEffect, useState } from 'react'
import { Link, Navigate, Outlet, redirect, useBlocker, useNavigate, useParams } from 'router-under-test'

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

function Page ({ title }) {
  return <h1 data-test="title">{title}</h1>
}

function Layout () {
  const navigate = useNavigate()
  return (
    <>
      <nav>
        <Link data-test="home" to="/">Home</Link> <Link data-test="instances" to="/instances">Instances</Link>{' '}
        <Link data-test="old-teams" to="/old-teams">Teams (old address)</Link> <Link data-test="form" to="/form">Form</Link>{' '}
        <Link data-test="nowhere" to="/nowhere">A page that does not exist</Link>{' '}
        <button data-test="members" onClick={() => navigate('/teams/acme/members?tab=all')}>Members</button>
      </nav>
      <main><Outlet /></main>
    </>
  )
}

function Instances () {
  return (
    <>
      <Page title="Instances" />
      <Link data-test="instance-a" to="/instances/a">Instance a</Link>
    </>
  )
}

function Instance () {
  const { id } = useParams()
  const next = String.fromCharCode(id.charCodeAt(0) + 1)
  return (
    <>
      <Page title={`Instance ${id}`} />
      <Link data-test="next-instance" to={`/instances/${next}`}>Instance {next}</Link>
    </>
  )
}

function Members () {
  const { team } = useParams()
  return <Page title={`Members of ${team}`} />
}

/** Blocks every navigation to the home page, and counts them. */
function BlockingForm () {
  const blocker = useBlocker(({ nextLocation }) => nextLocation.pathname === '/')
  const [nBlocked, setNBlocked] = useState(0)
  useEffect(() => {
    if (blocker.state !== 'blocked') return
    setNBlocked(n => n + 1)
    blocker.reset()
  }, [blocker])
  return (
    <>
      <Page title="Form" />
      <p data-test="blocked">{nBlocked}</p>
    </>
  )
}

/** What a path no route matches shows (no catch-all route: the adapters send no template then). */
export function NotFound () {
  return <Page title="Not found" />
}

/** The route objects for a data router (`mode` "data") or for `useRoutes`. */
export function routes (mode) {
  const data = mode === 'data'
  const slow = ms => () => sleep(ms).then(() => null)
  return [{
    path: '/',
    element: <Layout />,
    // The first load waits for it: the router starts uninitialised.
    ...(data && { loader: slow(100), hydrateFallbackElement: <p>Loading</p>, errorElement: <NotFound /> }),
    children: [
      { index: true, element: <Page title="Home" /> },
      { path: 'instances', element: <Instances /> },
      { path: 'instances/:id', element: <Instance />, ...(data && { loader: slow(300) }) },
      data
        ? { path: 'old-teams', loader: () => redirect('/teams') }
        : { path: 'old-teams', element: <Navigate to="/teams" replace /> },
      {
        path: 'teams',
        children: [
          { index: true, element: <Page title="Teams" /> },
          { path: ':team', children: [{ path: 'members', element: <Members /> }] }
        ]
      },
      { path: 'form', element: data ? <BlockingForm /> : <Page title="Form" /> }
    ]
  }]
}
