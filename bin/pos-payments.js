#!/usr/bin/env node
// `npx node-red-contrib-pos-payments check <provider> ...`: see README "Checking a real account".
'use strict';

const [command] = process.argv.slice(2);
if (command !== 'check') {
  console.error('usage: node-red-contrib-pos-payments check <provider> [options]   (--help for the options)');
  process.exit(2);
}
require('../dist/lib/check/cli.js').main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  // The check closes everything it opened; should a library keep a handle anyway, do not hang a CI job.
  setTimeout(() => {
    console.error('warning: a connection was still open 3 s after the check; exiting anyway');
    process.exit(code);
  }, 3000).unref();
}, (err) => {
  console.error(`the check itself failed: ${err && err.message ? err.message : String(err)}`);
  process.exit(1);
});
