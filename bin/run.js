#!/usr/bin/env node
'use strict';
// Hot commands run on the fast path without loading oclif; help and parse errors go to oclif.
const path = require('node:path');
const argv = process.argv.slice(2);
// `handoff --json inbox`: --json before the command means the same as after it.
while (argv[0] === '--json' && argv.length > 1) argv.push(argv.shift());
// A closed pipe (handoff threads | head) ends the command quietly, as git does.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err && err.code === 'EPIPE') process.exit(process.exitCode || 0);
    throw err;
  });
}
const root = path.join(__dirname, '..');

require('../dist/fast.js')
  .runFast(argv, __filename)
  .then((handled) => {
    if (handled) return undefined;
    const cli = require('../dist/cli.js');
    return cli.runOclif(argv, root).then(
      () => cli.flush(),
      (err) => cli.handleError(err, argv),
    );
  })
  .catch((err) => {
    process.stderr.write(`handoff: ${err && err.stack ? err.stack : err}\n`);
    process.exitCode = 1;
  });
