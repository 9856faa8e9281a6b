/** Two (or more) clones of one bare repository on disk, as a team on several machines would have. */
import path from 'node:path';
import { git, tmpDir } from './repo';
import fs from 'node:fs';

export interface Team {
  remote: string;
  clone: (name: string) => string;
}

/** A bare remote holding one commit on main; `clone(name)` makes another clone of it. */
export function team(): Team {
  const dir = tmpDir('handoff-team-');
  const remote = path.join(dir, 'remote.git');
  git(dir, 'init', '-q', '--bare', '-b', 'main', remote);
  const seed = path.join(dir, 'seed');
  git(dir, 'clone', '-q', remote, seed);
  fs.writeFileSync(path.join(seed, 'README.md'), '# team\n');
  git(seed, 'add', '-A');
  git(seed, 'commit', '-q', '-m', 'initial');
  git(seed, 'push', '-q', 'origin', 'HEAD:main');
  return {
    remote,
    clone: (name) => {
      const p = path.join(dir, name);
      git(dir, 'clone', '-q', remote, p);
      return p;
    },
  };
}
