// Builds before the tests when dist/ is missing or older than any source file.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const outputs = [
  'dist/fast.js',
  'dist/one/send.js',
  'dist/cli.js',
  'dist/lib.js',
  'dist/hook.js',
  'dist/hook-main.js',
  'oclif.manifest.json',
].map((f) => path.join(root, f));
const oldest = Math.min(...outputs.map((f) => (fs.existsSync(f) ? fs.statSync(f).mtimeMs : 0)));
let newest = 0;
const walk = (dir) => {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
};
walk(path.join(root, 'src'));
walk(path.join(root, 'hooks'));
newest = Math.max(
  newest,
  fs.statSync(path.join(root, 'package.json')).mtimeMs,
  fs.statSync(path.join(root, 'scripts/build.mjs')).mtimeMs,
);
if (newest > oldest) execFileSync(process.execPath, [path.join(root, 'scripts/build.mjs')], { stdio: 'inherit' });
