/**
 * Every temporary repository, home and remote a test run makes lives under one directory, removed when the
 * run ends (set HANDOFF_KEEP_TEST_DIRS=1 to keep it for a look).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export default function setup(): () => void {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'handoff-tests-'));
  // Other users (the read-only test runs handoff as nobody) must reach the repositories inside.
  fs.chmodSync(root, 0o755);
  process.env.TMPDIR = root;
  // No test process opens a TLS connection. A machine set up for a TLS proxy sets NODE_EXTRA_CA_CERTS, which
  // makes every node process read and parse the certificate bundle as it starts (about 40 ms here): the
  // thousands of CLI runs, git hooks and MCP servers the suite starts would each pay it.
  delete process.env.NODE_EXTRA_CA_CERTS;
  return () => {
    if (process.env.HANDOFF_KEEP_TEST_DIRS) {
      process.stderr.write(`test directories kept in ${root}\n`);
      return;
    }
    // A test that failed midway may have left a directory read-only.
    spawnChmod(root);
    fs.rmSync(root, { recursive: true, force: true });
  };
}

function spawnChmod(dir: string): void {
  try {
    require('node:child_process').spawnSync('chmod', ['-R', 'u+w', dir]);
  } catch {
    /* best effort */
  }
}
