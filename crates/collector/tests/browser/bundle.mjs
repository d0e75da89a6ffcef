// Bundles an npm package for a plain <script> tag, as an app's build would.
// node bundle.mjs <entry.js> <out.js>
import { buildSync } from 'esbuild';

const [entry, outfile] = process.argv.slice(2);
buildSync({ entryPoints: [entry], bundle: true, format: 'iife', minify: true, outfile, logLevel: 'error' });
