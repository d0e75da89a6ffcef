// npm/index.d.ts (what users of @ff-telemetry/web type-check against) agrees
// with the .d.ts wasm-bindgen generates from the Rust exports
// (npm/pkg/ff_telemetry_web.d.ts, written by `cargo xtask build`): every
// method of the `Telemetry` handle is a function of the package with the same
// parameters and result, `start` takes what `init` takes, and the config and
// properties types are the generated ones: one file, npm/config.d.ts, that the
// Rust crate puts into the generated .d.ts and index.d.ts imports.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from './lib.mjs'

const GENERATED = join(ROOT, 'npm/pkg/ff_telemetry_web.d.ts')
const PACKAGE = join(ROOT, 'npm/index.d.ts')
const CONFIG = join(ROOT, 'npm/config.d.ts')

/** The text with comments removed and whitespace and separators made uniform. */
function normalise (text) {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*$/gm, '')
    .replace(/"/g, "'")
    .replace(/[;,]\s*(?=[}\n])/g, '\n')
    .replace(/\s+/g, ' ')
    .replace(/\s*([{}();:,|?<>=[\]])\s*/g, '$1')
    .trim()
}

/** `export interface NAME { … }` or `export type NAME = …` in `text`. */
function declaration (text, keyword, name) {
  const start = text.indexOf(`export ${keyword} ${name}`)
  assert.notEqual(start, -1, `export ${keyword} ${name} is declared`)
  if (keyword === 'type') return normalise(text.slice(start, text.indexOf('\n', start)))
  let depth = 0
  for (let i = text.indexOf('{', start); i < text.length; i++) {
    if (text[i] === '{') depth++
    if (text[i] === '}' && --depth === 0) return normalise(text.slice(start, i + 1))
  }
  assert.fail(`export interface ${name} is not closed`)
}

/** name → "(params):result" for each method signature (one a line) in the class body. */
function classMethods (text, className) {
  const start = text.indexOf(`export class ${className}`)
  assert.notEqual(start, -1, `class ${className} is declared`)
  const body = text.slice(text.indexOf('{', start) + 1, text.indexOf('\n}', start))
    .replace(/\/\*[\s\S]*?\*\//g, '')
  const methods = new Map()
  for (const line of body.split('\n')) {
    const m = line.trim().match(/^([A-Za-z]\w*)(\(.*)$/)
    if (m) methods.set(m[1], normalise(m[2].replace(/;$/, "")))
  }
  return methods
}

/** "(params):result" of `export function NAME` in the text. */
function functionSignature (text, name) {
  const line = text.split('\n').find(l => l.startsWith(`export function ${name}(`))
  assert.ok(line, `npm/index.d.ts declares export function ${name}`)
  return normalise(line.slice(`export function ${name}`.length))
}

function read (file) {
  assert.ok(existsSync(file), `${file} is missing: run \`cargo xtask build\` first`)
  return readFileSync(file, 'utf8')
}

test('npm/index.d.ts declares every method of the wasm handle with the generated signature', () => {
  const generated = read(GENERATED)
  const pkg = read(PACKAGE)
  const methods = classMethods(generated, 'Telemetry')
  for (const internal of ['free', 'constructor']) methods.delete(internal)
  assert.ok(methods.size >= 12, `the handle has its methods: ${[...methods.keys()]}`)
  for (const [name, signature] of methods) {
    assert.equal(functionSignature(pkg, name), signature, `${name} in npm/index.d.ts`)
  }
})

test('start takes the config init takes', () => {
  const generated = normalise(read(GENERATED))
  const init = generated.match(/export function init(\(.*?\)):/)
  assert.ok(init, 'the generated module exports init')
  const start = functionSignature(read(PACKAGE), 'start')
  assert.equal(start.slice(0, start.indexOf(')') + 1), init[1])
})

test('the config and properties types are the generated ones, declared once', () => {
  const generated = read(GENERATED)
  const config = read(CONFIG)
  const pkg = read(PACKAGE)
  for (const [keyword, name] of [['interface', 'TelemetryConfig'], ['type', 'Properties']]) {
    assert.equal(declaration(config, keyword, name), declaration(generated, keyword, name), `${name} is the generated one`)
    // index.d.ts takes it from config.d.ts and writes it no second time.
    assert.match(pkg, new RegExp(`^import type \\{[^}]*\\b${name}\\b[^}]*\\} from '\\./config\\.js'`, 'm'), `${name} is imported from config.d.ts`)
    assert.match(pkg, new RegExp(`^export type \\{[^}]*\\b${name}\\b[^}]*\\}`, 'm'), `${name} is exported again`)
    assert.doesNotMatch(pkg, new RegExp(`export (?:interface|type) ${name}\\b`), `${name} is not written twice`)
  }
  // What users type-check against: the PostHog key and the DSN required, the rest optional.
  const telemetryConfig = declaration(config, 'interface', 'TelemetryConfig')
  assert.match(telemetryConfig, /posthog\?:\{apikey:string apiurl\?:string capture_pageview\?:boolean\}/)
  assert.match(telemetryConfig, /sentry\?:\{dsn:string /)
  assert.match(telemetryConfig, /persistence\?:'localStorage'\|'memory'/)
})
