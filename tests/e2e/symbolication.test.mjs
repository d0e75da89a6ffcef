// A crash inside the SDK must be readable in Sentry: the built module carries a
// `build_id` custom section, the debug file the build uploads carries the same
// one, and the crash report names the module by it (`debug_meta.images`), with
// its frames as offsets into the module's code (`addr_mode: "rel:0"`).
//
// Runs the built npm package (`npm/pkg`) in Chromium against a capture server,
// and needs the debug file a build with a Sentry token keeps
// (`cargo xtask test e2e` builds that way, with a stand-in token and no upload)
// and `sentry-cli` (`www/node_modules`, installed by `cargo xtask setup`).

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT, launchBrowser, waitFor, captureServer } from './lib.mjs'

const SHIPPED = join(ROOT, 'npm/pkg/ff_telemetry_web_bg.wasm')
const DEBUG_FILE = join(ROOT, 'target/wasm-debug/ff_telemetry_web.debug.wasm')
const SENTRY_CLI = join(ROOT, 'www/node_modules/.bin/sentry-cli')

/** Reads the unsigned LEB128 number at `at`: [value, next offset]. */
function leb128 (bytes, at) {
  let value = 0
  for (let shift = 0; ; shift += 7) {
    const byte = bytes[at++]
    if (byte === undefined || shift > 28) throw new Error('bad LEB128 number in the module')
    value += (byte & 0x7f) * 2 ** shift
    if (!(byte & 0x80)) return [value, at]
  }
}

/** Every section header of a wasm module: { id, name (custom sections), start, end } (contents). */
function sections (bytes) {
  assert.deepEqual([...bytes.subarray(0, 8)], [0, 0x61, 0x73, 0x6d, 1, 0, 0, 0], 'a wasm module')
  const out = []
  for (let at = 8; at < bytes.length;) {
    const id = bytes[at]
    const [size, start] = leb128(bytes, at + 1)
    const end = start + size
    let name
    let contents = start
    if (id === 0) {
      const [length, nameAt] = leb128(bytes, start)
      name = Buffer.from(bytes.subarray(nameAt, nameAt + length)).toString('utf8')
      contents = nameAt + length
    }
    out.push({ id, name, start: contents, end })
    at = end
  }
  return out
}

/** What `sentry-cli debug-files check` reads in `file`: { debug_id, code_id, ... }. */
function sentryCliCheck (file) {
  let stdout
  try {
    stdout = execFileSync(SENTRY_CLI, ['debug-files', 'check', '--json', file], { encoding: 'utf8' })
  } catch (err) {
    // A non-zero exit only says the file is not usable on its own (the shipped
    // module has no debug information); the report is still printed.
    stdout = err.stdout
  }
  const report = JSON.parse(stdout)
  return { ...report.variants[0], usable: report.is_usable }
}

test('a crash inside the SDK names the module by the build id of the uploaded debug file, at offsets inside its code', async () => {
  for (const [file, how] of [
    [SHIPPED, 'run `cargo xtask build`'],
    [DEBUG_FILE, 'run `cargo xtask test e2e`, which builds with a stand-in Sentry token so the debug file is kept'],
    [SENTRY_CLI, 'run `cargo xtask setup` (npm install in www/)']
  ]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: ${how}`)
  }
  const module = readFileSync(SHIPPED)
  const moduleSections = sections(module)
  const [buildId] = moduleSections.filter(s => s.name === 'build_id')
  assert.ok(buildId, 'the shipped module has a build_id section')
  const code = moduleSections.find(s => s.id === 10)
  const debugFile = sentryCliCheck(DEBUG_FILE)
  assert.equal(debugFile.usable, true, 'sentry-cli can use the debug file')
  assert.notEqual(debugFile.debug_id, '00000000-0000-0000-0000-000000000000')
  assert.equal(sentryCliCheck(SHIPPED).debug_id, debugFile.debug_id, 'the module and its debug file share the id')
  assert.equal(debugFile.code_id, Buffer.from(module.subarray(buildId.start, buildId.end)).toString('hex'))

  const server = await captureServer()
  const browser = await launchBrowser()
  try {
    const page = await browser.newPage()
    await page.goto(`${server.origin}/`)
    const thrown = await page.evaluate(async (origin) => {
      const wasm = await import('/pkg/ff_telemetry_web.js')
      await wasm.default()
      const t = wasm.init({
        sentry: { dsn: origin.replace('//', '//crashkey@') + '/7', report_localhost: true, release: 'flowfuse@1.0.0' },
        persistence: 'memory'
      })
      await t.flush()
      // The crash: the next warning the SDK writes throws, inside SDK code, as
      // a trap after a panic would. Once: the SDK's own report of the crash
      // warns too.
      let armed = true
      const warn = console.warn
      console.warn = function (...args) {
        if (armed) {
          armed = false
          throw new Error('forced SDK crash')
        }
        return warn.apply(this, args)
      }
      try {
        t.captureMessage(42) // not a string: the SDK warns
        return null
      } catch (err) {
        return String(err)
      } finally {
        console.warn = warn
      }
    }, server.origin)
    assert.equal(thrown, null, 'the crash stays inside the SDK')

    const body = await waitFor(() => server.received.find(r => r.path === '/api/7/envelope/' && r.body.includes('forced SDK crash'))?.body,
      { what: 'the crash report' })
    const event = JSON.parse(body.split('\n')[2])
    const exception = event.exception.values[0]
    assert.equal(exception.mechanism.type, 'panic')
    assert.equal(exception.mechanism.handled, false)

    const images = event.debug_meta?.images
    assert.equal(images?.length, 1, `one debug image: ${JSON.stringify(event.debug_meta)}`)
    const [image] = images
    assert.equal(image.type, 'wasm')
    assert.equal(image.debug_id, debugFile.debug_id, 'the id sentry-cli reads in the uploaded debug file')
    assert.equal(image.code_id, debugFile.code_id)
    assert.equal(image.code_file, `${server.origin}/pkg/ff_telemetry_web_bg.wasm`)
    assert.equal(image.debug_file, 'ff_telemetry_web.debug.wasm')

    const frames = exception.stacktrace.frames.filter(f => f.addr_mode === 'rel:0')
    assert.ok(frames.length > 0, `frames of the module: ${JSON.stringify(exception.stacktrace.frames)}`)
    for (const frame of frames) {
      assert.equal(frame.filename, image.code_file)
      assert.equal(frame.platform, 'native')
      assert.match(frame.instruction_addr, /^0x[0-9a-f]+$/)
      const addr = Number.parseInt(frame.instruction_addr, 16)
      assert.ok(addr >= code.start && addr < code.end,
        `${frame.instruction_addr} inside the code section [${code.start}, ${code.end})`)
    }
    // The page's own frames stay JavaScript frames.
    assert.ok(exception.stacktrace.frames.some(f => f.addr_mode === undefined && f.lineno), 'JavaScript frames too')
  } finally {
    await browser.close()
    await server.close()
  }
})
