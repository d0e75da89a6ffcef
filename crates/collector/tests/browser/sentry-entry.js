// The @sentry/browser npm package as a page script (see bundle.mjs).
import * as Sentry from '@sentry/browser';
window.Sentry = Sentry;
