import { UsageError } from '../core/errors';
import { defineCommand, jsonFlag } from './define';
import { progressBar } from '../render/io';
import { dropChain, setupSync, sync } from '../ops/sync';
import { rebuild } from '../ops/rebuild';
import { withContext } from './_shared';
import type { SetupJson, SyncJson } from '../json/sync';

export default defineCommand({
  id: 'sync',
  summary: 'Exchange the ledger with a git remote: fetch every chain, index it, push yours.',
  description: `Fetches refs/handoff/chains/* from the remote (default: the current branch's upstream remote,
else origin), accepts a chain only when it extends everything this clone knew or saw witnessed of it,
indexes the new events, and pushes this clone's chain (always a fast-forward). A chain whose history was
rewritten is refused with exit 4, naming it.

--setup adds refspecs to the remote's config so that plain 'git fetch' and 'git push' carry the ledger
too (and 'git push' keeps pushing the current branch); --undo removes exactly what --setup added.
For hosts that accept only branches, --ref-prefix refs/heads/handoff-ledger/ keeps the ledger under a
branch namespace on the remote (--setup remembers it).

A chain with an event that fails the ledger's schema is held back at that commit (quarantined): its
earlier events are indexed, the rest is not, every other chain flows on, and sync names the chain and
commit. --drop <chain> removes such a chain (or one refused as rewritten) from this clone for good (it is
no longer fetched; the SQLite ledger is rebuilt without it); any other chain needs --force, since its
messages go with it. 'git config --unset handoff.dropChain <chain>' then 'handoff sync' takes a dropped
chain back. Witnesses naming commits nobody has, and events reusing a taken id, are
reported too.

A chain with a commit whose signature does not verify is refused with exit 6, naming the chain and the
commit; with git config handoff.requireSigned true, so is one with a commit not signed by a key in
gpg.ssh.allowedSignersFile.`,
  examples: [
    '<%= config.bin %> sync',
    '<%= config.bin %> sync upstream --json',
    '<%= config.bin %> sync --setup',
    '<%= config.bin %> sync --setup --undo',
    '<%= config.bin %> sync --ref-prefix refs/heads/handoff-ledger/',
    '<%= config.bin %> sync --drop 01HZZZZZZZZZZZZZZZZZZZZZZZ',
  ],
  args: [{ name: 'remote', description: 'A configured remote (default: the upstream remote, else origin).' }],
  flags: {
    setup: {
      type: 'boolean',
      description: "Configure the remote so that plain 'git fetch' / 'git push' carry the ledger.",
    },
    undo: { type: 'boolean', description: 'With --setup: remove what --setup added.' },
    'ref-prefix': {
      type: 'string',
      description: 'Where the ledger lives on the remote (default refs/handoff/).',
      helpValue: 'prefix',
    },
    'no-push': { type: 'boolean', description: 'Fetch and index only.' },
    drop: {
      type: 'string',
      description: 'Remove a quarantined or refused chain from this clone and stop fetching it.',
      helpValue: 'chain',
    },
    force: { type: 'boolean', description: 'With --drop: drop any chain, messages and all.' },
    json: jsonFlag,
  },
  run(parsed, io): Promise<SyncJson | SetupJson | { dropped: string; ref: string; events: number }> {
    const f = parsed.flags;
    if (f.undo && !f.setup) {
      return Promise.reject(
        new UsageError('undo_needs_setup', "--undo undoes --setup: run 'handoff sync --setup --undo'."),
      );
    }
    if (f.force && f.drop === undefined)
      return Promise.reject(
        new UsageError('force_needs_drop', "--force goes with --drop: 'handoff sync --drop <chain> --force'."),
      );
    if (f.drop !== undefined) {
      const chain = String(f.drop);
      return withContext(io, (ctx) => dropChain(ctx, chain, { force: !!f.force }), { skipIndex: true }).then((d) =>
        withContext(io, async (ctx) => ({ ...d, events: (await rebuild(ctx)).events }), {
          discardDb: true,
          skipIndex: true,
        }),
      );
    }
    return withContext(
      io,
      async (ctx) => {
        if (f.setup)
          return setupSync(ctx, {
            remote: parsed.args.remote,
            refPrefix: f['ref-prefix'],
            undo: !!f.undo,
          });
        const bar = progressBar('indexing');
        const tty = process.stderr.isTTY && !io.json;
        const r = await sync(ctx, {
          remote: parsed.args.remote,
          refPrefix: f['ref-prefix'],
          noPush: !!f['no-push'],
          onProgress: tty ? (t) => process.stderr.write(t) : undefined,
          onIndexProgress: bar.update,
        });
        bar.end();
        return r;
      },
      { setup: !!f.setup },
    );
  },
  print(r, io) {
    if ('dropped' in r) {
      io.log(
        `dropped chain ${r.dropped} (${r.ref} deleted, never fetched again by 'handoff sync' nor taken from what 'git fetch' brings; ${r.events} events indexed from the other chains). To take it back: git config --unset handoff.dropChain ${r.dropped}, then handoff sync.`,
      );
      return;
    }
    if ('added' in r) {
      for (const a of r.added) io.log(`added   ${a.key} = ${a.value}`);
      for (const a of r.removed) io.log(`removed ${a.key} = ${a.value}`);
      if (!r.added.length && !r.removed.length) io.log(`nothing to change for ${r.remote}`);
      for (const n of r.notes) io.log(n);
      return;
    }
    const fetched = r.fetched.length
      ? `${r.fetched.length} chain(s) updated, ${r.indexed} new event(s)`
      : 'nothing new';
    io.log(`${r.remote}: ${fetched}; ${r.pushed ? `pushed ${r.pushed.chain}` : 'nothing to push'}`);
  },
});
