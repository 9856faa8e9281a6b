/**
 * Sync through ordinary git remotes: fetch every chain (into a staging namespace of this process), accept
 * a chain only when it extends everything this clone knew or saw witnessed of it, index what is new, and
 * push this clone's own chain (always a fast-forward, since only this clone writes it).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ConflictError, HandoffError, NotFoundError, UsageError, VerificationError } from '../core/errors';
import { isAncestor } from '../git/exec';
import { countPacks, packIfMany } from '../git/maintenance';
import {
  CHAIN_PREFIX,
  LEDGER_NAMESPACE,
  chainRef,
  fromFirstEvent,
  chainCommitsAmong,
  streamChainEvents,
  trackedTipsIn,
  trackingPrefix,
  TRACKING_PREFIX,
} from '../git/ledger-format';
import { commitsReachableFrom, compareAndSwapRef, readRef, readRefs, refsContainingAny } from '../git/refs';
import { allWitnessRows, chainOfCommit, duplicates, knownTips, quarantined } from '../ledger/events';
import { processAlive } from '../core/proc';
import { writeFileAtomic } from '../core/files';
import { droppedChains, trackedRefused } from './index-chains';
import { previousCloneIds, requireWritable, type Context } from './context';
import { requireRemote } from './lookup';
import { indexChainsStreamed } from './index-chains';
import { allowedSignersConfigured, chainCommitsWithSignatures } from '../git/signatures';
import { configTrue, inertLine, quoted } from '../core/text';
import type { SetupJson, SyncJson } from '../json/sync';
import { deleteRefs, isValidRefName } from '../git/refs';
import { checkedOutBranch, firstParentLine, objectTypes } from '../git/history';
import { fetchRefspecs, gitReason, listRemotes, prefetchEventBlobs, pushRefspecs } from '../git/remote';
import { configAdd, configEntries, configGet, configGetAll, configUnset } from '../git/config';

const DEFAULT_REF_PREFIX = LEDGER_NAMESPACE;
const CLONE_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

export interface SyncInput {
  remote?: string;
  refPrefix?: string;
  /** Skip the push (fetch and index only). */
  noPush?: boolean;
  /** Receives git's progress output and handoff's own progress lines. */
  onProgress?: (text: string) => void;
  onIndexProgress?: (done: number, total: number) => void;
}

/**
 * Whether `remote` has a URL in git config, as this command read it (the config cache: no git process). git
 * ignores a remote whose name starts with "/" (it would be a path): so does this. A name given by the user,
 * or asked about in a long-lived process (an MCP server), goes through requireRemote, which asks git.
 */
function hasRemoteUrl(ctx: Context, remote: string): boolean {
  if (remote.startsWith('/')) return false;
  const config = ctx.config();
  return config.has(`remote.${remote}.url`) || config.has(`remote.${remote}.pushurl`);
}

/** The remote to use: the one given (it must be configured), the current branch's upstream remote, or origin. */
function resolveRemote(ctx: Context, given?: string): string {
  if (given !== undefined) return requireRemote(ctx, given);
  // The upstream's remote, or origin, as git config names them: no git process. Any other case asks git.
  const branch = checkedOutBranch(ctx.repo);
  const upstream = branch ? (ctx.config().get(`branch.${branch}.remote`)?.at(-1) ?? null) : null;
  if (upstream && hasRemoteUrl(ctx, upstream)) return upstream;
  if (!upstream && hasRemoteUrl(ctx, 'origin')) return 'origin';
  const remotes = listRemotes(ctx.repo.cwd);
  if (upstream && remotes.includes(upstream)) return upstream;
  if (remotes.includes('origin')) return 'origin';
  if (remotes.length === 1) return remotes[0]!;
  throw new NotFoundError(
    'no_remote',
    remotes.length
      ? `Say which remote to sync with: ${remotes.join(', ')}.`
      : "This repository has no remote. Add one with 'git remote add origin <url>'.",
  );
}

/** Checks a --ref-prefix: a ref hierarchy ending in "/", such as refs/heads/handoff-ledger/. */
function checkRefPrefix(ctx: Context, prefix: string): string {
  const ok =
    /^refs\/[A-Za-z0-9._/-]+\/$/.test(prefix) &&
    !prefix.includes('..') &&
    !prefix.includes('//') &&
    !/\/\.|\.lock\//.test(prefix);
  if (!ok || !isValidRefName(ctx.repo.cwd, `${prefix}x`)) {
    throw new UsageError(
      'bad_ref_prefix',
      `${JSON.stringify(prefix)} is not a usable ref prefix. Use something like refs/heads/handoff-ledger/ (it must start with refs/ and end with /).`,
    );
  }
  return prefix;
}

/** The ref prefix a remote uses: the one given, the one stored by `sync --setup`, or refs/handoff/. */
function refPrefixFor(ctx: Context, remote: string, given?: string): string {
  if (given !== undefined) return checkRefPrefix(ctx, given);
  const stored = ctx.config().get(`remote.${remote}.handoffrefprefix`)?.at(-1);
  return stored ? checkRefPrefix(ctx, stored) : DEFAULT_REF_PREFIX;
}

function remoteFailure(remote: string, what: string, stderr: string, status = 1): HandoffError {
  const detail = gitReason(stderr, status);
  if (
    /could not read from remote|does not appear to be a git repository|unable to access|could not resolve|connection|not found|no such file/i.test(
      stderr,
    )
  ) {
    return new HandoffError(
      'remote_unreachable',
      `Could not ${what} remote '${remote}': ${detail}. ${what === 'push to' ? "This clone's events stay here and go with the next sync" : 'Nothing was changed locally'}; check the remote's URL and your network, then run 'handoff sync' again.`,
    );
  }
  return new HandoffError(
    'remote_failed',
    `Could not ${what} remote '${remote}': ${detail}. Nothing this clone wrote was lost; run 'git ${what === 'push to' ? 'push' : 'fetch'} ${remote}' to see git's full output, and 'handoff verify' to check the ledger.`,
  );
}

/** Staging refs of syncs that died (kill -9) are removed; those of a sync still running are left alone. */
function removeAbandonedStaging(ctx: Context): void {
  const doomed = [...readRefs(ctx.repo, `${LEDGER_NAMESPACE}incoming/`).keys()].filter((ref) => {
    const pid = Number(/incoming\/(\d+)-/.exec(ref)?.[1]);
    return !Number.isInteger(pid) || !processAlive(pid, null);
  });
  deleteRefs(ctx.repo.cwd, doomed);
}

/**
 * `sync --drop <chain>`: this clone stops fetching and indexing a chain (git config handoff.dropChain,
 * which survives rebuild), deletes its local ref and rebuilds the SQLite ledger without it.
 */
export function dropChain(
  ctx: Context,
  chain: string,
  opts: { force?: boolean } = {},
): { dropped: string; ref: string } {
  requireWritable(ctx, 'drop a chain');
  // Taken in any case, as message ids are (chain ids are upper case).
  if (CLONE_ID.test(chain.toUpperCase())) chain = chain.toUpperCase();
  if (!CLONE_ID.test(chain))
    throw new UsageError(
      'bad_chain',
      `${JSON.stringify(chain)} is not a chain id (26 characters, as 'handoff sync' and 'handoff verify' print them).`,
    );
  if (chain === ctx.cloneId)
    throw new UsageError('own_chain', `${chain} is this clone's own chain; it cannot be dropped.`);
  if (!opts.force && !droppedChains(ctx).has(chain)) {
    // Dropping is for a chain held back (quarantined) or refused; any other takes its messages with it.
    const copies = trackedTipsIn(readRefs(ctx.repo, TRACKING_PREFIX)).filter((t) => t.chain === chain);
    const refused = trackedRefused(ctx);
    const local = readRef(ctx.repo, chainRef(chain)) ?? undefined;
    const held =
      quarantined(ctx.db).some((q) => q.chain === chain) ||
      [...syncRefused(ctx)].some((l) => l.endsWith(` ${chain}`)) ||
      // A copy refused, or one that neither holds this clone's tip nor is behind it (a rewrite `git fetch` brought);
      // a copy merely behind is no reason, whatever was recorded of it.
      copies.some((t) => {
        const behind = local !== undefined && isAncestor(ctx.repo.cwd, t.tip, local);
        return (
          (refused.has(`${chain} ${t.tip}`) && !behind) ||
          (local !== undefined && !behind && !isAncestor(ctx.repo.cwd, local, t.tip))
        );
      });
    const events = (ctx.db.prepare('SELECT count(*) AS n FROM events WHERE chain = ?').get(chain) as { n: number }).n;
    if (!held && events === 0 && copies.length === 0 && local === undefined)
      throw new NotFoundError(
        'unknown_chain',
        `This clone has never seen a chain ${chain} ('handoff verify' and 'handoff sync' name the chains there are). To keep it out before it arrives: handoff sync --drop ${chain} --force.`,
      );
    if (!held)
      throw new UsageError(
        'drop_needs_force',
        `Chain ${chain} is neither quarantined nor refused: dropping it removes its ${events} event(s) (its agents' messages) from this clone, and it is never fetched again. If that is what you want: handoff sync --drop ${chain} --force.`,
      );
  }
  if (!droppedChains(ctx).has(chain)) configAdd(ctx.repo.cwd, 'handoff.dropChain', chain);
  const ref = chainRef(chain);
  // With the remote-tracking copies of it (plain `git fetch` may bring them back; they are never taken).
  const copies = trackedTipsIn(readRefs(ctx.repo, TRACKING_PREFIX))
    .filter((t) => t.chain === chain)
    .map((t) => `${trackingPrefix(t.remote)}${chain}`);
  deleteRefs(ctx.repo.cwd, [ref, ...copies]);
  return { dropped: chain, ref };
}

/** The file that names the chains the last sync from each remote refused ("<remote> <chain>" lines). */
const syncRefusedFile = (ctx: Context) => path.join(ctx.dataDir, 'sync-refused');

/** Remembers what this sync from `remote` refused (for `--drop`), in place of what the last one did. */
function rememberRefused(ctx: Context, remote: string, refused: { chain: string }[]): void {
  const others = [...syncRefused(ctx)].filter((l) => !l.startsWith(`${remote} `));
  const lines = [...others, ...refused.filter((r) => CLONE_ID.test(r.chain)).map((r) => `${remote} ${r.chain}`)];
  if (lines.length === 0 && others.length === 0 && !fs.existsSync(syncRefusedFile(ctx))) return;
  writeFileAtomic(syncRefusedFile(ctx), lines.length ? `${lines.join('\n')}\n` : '');
}

function syncRefused(ctx: Context): Set<string> {
  try {
    return new Set(fs.readFileSync(syncRefusedFile(ctx), 'utf8').split('\n').filter(Boolean));
  } catch {
    return new Set();
  }
}

/** Why a chain ref that names a blob, a tree or a tag is refused (it is ignored, with a warning, as a name no clone writes). */
const NOT_A_COMMIT = 'its ref names no commit (a blob, a tree or a tag)';

/** Fetches, checks, indexes and pushes. Throws a ConflictError (exit 4) after the rest is done when a chain was refused. */
export async function sync(ctx: Context, input: SyncInput = {}): Promise<SyncJson> {
  requireWritable(ctx, 'sync');
  const remote = resolveRemote(ctx, input.remote);
  const prefix = refPrefixFor(ctx, remote, input.refPrefix);
  const cwd = ctx.repo.cwd;
  const progress = input.onProgress;
  const staging = `${LEDGER_NAMESPACE}incoming/${process.pid}-${crypto.randomBytes(4).toString('hex')}/`;
  const result: SyncJson = {
    remote,
    refPrefix: prefix,
    fetched: [],
    indexed: 0,
    pushed: null,
    refused: [],
    quarantined: [],
    suspect: [],
    duplicates: [],
  };
  removeAbandonedStaging(ctx);
  deleteOrphanCopies(ctx);
  const dropped = droppedChains(ctx);
  let scan: WitnessScan | undefined;

  // --refmap= keeps git from also updating refs through remote.<name>.fetch (what `sync --setup` adds):
  // that "opportunistic" update would refuse this clone's own chain, which is ahead of the remote's copy.
  const fetched = await fetchRefspecs(
    cwd,
    remote,
    [
      `+${prefix}chains/*:${staging}*`,
      // Chains dropped with --drop are not fetched again.
      ...[...dropped].filter((c) => CLONE_ID.test(c)).map((c) => `^${prefix}chains/${c}`),
    ],
    { onProgress: progress },
  );
  // The remote's copy of this clone's own chain, as fetched: when it is the local tip, there is nothing to push.
  let remoteOwn: string | undefined;
  try {
    if (fetched.status !== 0) throw remoteFailure(remote, 'fetch from', fetched.stderr, fetched.status);
    // A partial clone fetched the chains without their blobs: the events' own come in one round trip.
    prefetchEventBlobs(
      ctx.repo,
      remote,
      [...readRefs(ctx.repo, staging).values()],
      [...readRefs(ctx.repo, CHAIN_PREFIX).values()],
    );
    remoteOwn = readRefs(ctx.repo, staging).get(`${staging}${ctx.cloneId}`);
    scan = await acceptIncoming(ctx, { remote, staging, dropped }, result);
  } finally {
    deleteRefs(cwd, [...readRefs(ctx.repo, staging).keys()]);
  }

  await indexAndReport(ctx, input, result, scan);
  // Fetched packs add up: keep their number logarithmic and loose objects few (git/maintenance.ts).
  if (result.fetched.length) packIfMany(ctx.repo, ctx.dataDir, countPacks(ctx.repo) > 16);
  // A push that fails comes after what the fetch brought was checked and indexed: that is reported with it,
  // and refusals are remembered and said first.
  let pushFailed: HandoffError | null = null;
  if (!input.noPush)
    try {
      await pushOwnChain(ctx, { remote, prefix, progress, remoteOwn }, result);
    } catch (err) {
      if (!(err instanceof HandoffError)) throw err;
      pushFailed = err;
    }
  rememberRefused(ctx, remote, result.refused);
  const pushNote = pushFailed ? ` The push failed too (${pushFailed.code}): ${pushFailed.message}` : '';
  const bySignature = result.refused.filter((r) => r.signature);
  if (bySignature.length) {
    throw new VerificationError(
      'bad_signature',
      `Refused ${bySignature.length} chain(s) from ${remote} for their signatures: ${bySignature.map((r) => `${r.chain} (${r.reason})`).join('; ')}. The rest was synced; these chains stay out of this clone.${pushNote}`,
      result,
    );
  }
  // A ref that is not a chain (a name no clone writes) is left on the remote, with a warning: it is not
  // evidence of a rewrite, and it must not stop every clone's sync.
  for (const r of result.refused.filter((x) => !CLONE_ID.test(x.chain) || x.reason === NOT_A_COMMIT))
    ctx.warn(
      inertLine(
        `ignored ${JSON.stringify(`${prefix}chains/${r.chain}`)} on ${remote}: ${r.reason === NOT_A_COMMIT ? 'it names no commit' : 'its name is not a clone id'}, so no clone wrote it. Anyone who can push to ${remote} can remove it: git push ${remote} --delete '${`${prefix}chains/${r.chain}`.replace(/'/g, "'\\''")}'`,
      ),
    );
  const rewritten = result.refused.filter((r) => CLONE_ID.test(r.chain) && r.reason !== NOT_A_COMMIT);
  if (rewritten.length) {
    throw new ConflictError(
      'chain_rewritten',
      `Refused ${rewritten.length} chain(s) from ${remote}: ${rewritten.map((r) => `${r.chain} (${r.reason})`).join('; ')}. The rest was synced. Someone rewrote ledger history; 'handoff verify' lists what is affected.${pushNote}`,
      result,
    );
  }
  if (pushFailed)
    throw new HandoffError(
      pushFailed.code,
      `${pushFailed.message} What the fetch brought is indexed here: ${result.fetched.length} chain(s) moved, ${result.indexed} new event(s).`,
      result,
    );
  return result;
}

/** What the witness pass learnt: the chains others witnessed, and the chains whose new events it read. */
interface WitnessScan {
  vouched: Set<string>;
  scanned: Set<string>;
  /** The commits listed per tip (from the chain's local tip), which indexing need not list again. */
  commits: Map<string, { from: string | null; commits: { commit: string; parent: string | null }[] }>;
}

/**
 * Moves each fetched chain from its staging ref to refs/handoff/chains/ when it only adds to what this clone
 * knows; refuses (in `result.refused`) a chain that lost something this clone indexed or saw witnessed.
 */
async function acceptIncoming(
  ctx: Context,
  at: { remote: string; staging: string; dropped: Set<string> },
  result: SyncJson,
): Promise<WitnessScan> {
  const { remote, staging, dropped } = at;
  const cwd = ctx.repo.cwd;
  const incoming = readRefs(ctx.repo, staging);
  const known = knownTips(ctx.db);
  // Tips of each chain that other chains witnessed, with who witnessed them.
  const witnessed = new Map<string, { tip: string; witness: string }[]>();
  const addWitness = (chain: string, tip: string, witness: string) =>
    witnessed.set(chain, [...(witnessed.get(chain) ?? []), { tip, witness }]);
  // A witness is evidence of a rewrite only when the commit it names exists and is an event of that chain;
  // one that names a commit nobody can produce makes the witnessing chain suspect, not the witnessed one.
  const usable = (witness: string, chain: string, tip: string, isEvent: boolean): boolean => {
    if (isEvent) return true;
    if (!result.suspect.some((s) => s.chain === witness && s.witnessed === chain && s.commit === tip))
      result.suspect.push({ chain: witness, witnessed: chain, commit: tip });
    return false;
  };
  for (const w of allWitnessRows(ctx.db)) addWitness(w.chain, w.tip, w.witness);
  const local = readRefs(ctx.repo, CHAIN_PREFIX);
  const scan: WitnessScan = { vouched: new Set(), scanned: new Set(), commits: new Map() };
  const requireSigned = configTrue(ctx.config().get('handoff.requiresigned')?.at(-1));
  const refusedBySignature = new Set<string>();
  // Witnesses carried by the incoming events count too: a fresh clone learns old tips from them. They
  // judge the other incoming chains only (an event never witnesses its own chain): where a single chain
  // brings new events, there is none to judge, and its events are read once, by indexing.
  // A ref under chains/ whose name is not a clone id is nobody's chain: it is reported, never taken.
  const moved = [...incoming].filter(([ref, tip]) => {
    const chain = ref.slice(staging.length);
    return CLONE_ID.test(chain) && local.get(chainRef(chain)) !== tip;
  });
  const readWitnesses = moved.length > 1;
  for (const [ref, tip] of incoming) {
    const chain = ref.slice(staging.length);
    if (!CLONE_ID.test(chain)) continue;
    const have = local.get(chainRef(chain)) ?? null;
    // Everything indexing will read of this chain passes through here: it need not be read twice for witnesses.
    if (readWitnesses && have === (known.get(chain) ?? null)) scan.scanned.add(chain);
    let commits: { commit: string; parent: string | null }[] = [];
    let signed: Awaited<ReturnType<typeof chainCommitsWithSignatures>>;
    try {
      // A chain the remote holds as this clone does brings nothing: no git process for it (a remote may
      // hold thousands of chains).
      signed = have === tip ? [] : await chainCommitsWithSignatures(ctx.repo, tip, have);
      if (!have) signed = fromFirstEvent(ctx.repo, signed);
    } catch {
      continue; // judged below
    }
    commits = signed;
    scan.commits.set(tip, { from: have, commits });
    // Signatures, as git checks them: one that does not verify refuses the chain; so does one not made
    // by an allowed signer when handoff.requireSigned is set.
    const bad = signed.find((c) => c.sig.status === 'bad');
    const weak = requireSigned ? signed.find((c) => c.sig.status !== 'good') : undefined;
    if (bad || weak) {
      const c = (bad ?? weak)!;
      result.refused.push({
        chain,
        commit: c.commit,
        signature: true,
        reason: bad
          ? `commit ${c.commit} carries a signature that does not verify`
          : `commit ${c.commit} is ${c.sig.status === 'unsigned' ? 'unsigned' : c.sig.status === 'unknown_key' ? `signed by ${c.sig.key}, which is not among the allowed signers${allowedSignersConfigured(ctx.repo) ? '' : ' (git config gpg.ssh.allowedSignersFile is not set, so no SSH key is known)'}` : 'signed in a way git cannot check here'} and handoff.requireSigned is set`,
      });
      refusedBySignature.add(chain);
      continue;
    }
    if (!readWitnesses) continue;
    // Streamed, keeping only the witnesses: memory stays bounded however long the chain.
    await streamChainEvents(ctx.repo, commits, (_c, event) => {
      for (const [c, t] of Object.entries(event?.seen ?? {})) {
        addWitness(c, t, chain);
        if (c !== chain) scan.vouched.add(c);
      }
    });
  }
  // A chain's ref names a commit: one naming a blob, a tree or a tag is nobody's chain (one git call for all
  // the refs that moved; none when nothing did).
  const named = [...incoming]
    .filter(([ref, tip]) => {
      const chain = ref.slice(staging.length);
      return CLONE_ID.test(chain) && local.get(chainRef(chain)) !== tip;
    })
    .map(([, tip]) => tip);
  const isCommit = new Map(objectTypes(cwd, named).map((type, i) => [named[i]!, type === 'commit']));
  for (const [ref, tip] of incoming) {
    const chain = ref.slice(staging.length);
    if (!CLONE_ID.test(chain)) {
      result.refused.push({ chain, reason: 'not a clone id' });
      continue;
    }
    if (isCommit.get(tip) === false) {
      result.refused.push({ chain, reason: NOT_A_COMMIT });
      continue;
    }
    if (dropped.has(chain) || refusedBySignature.has(chain)) continue;
    const localRef = chainRef(chain);
    const have = local.get(localRef) ?? null;
    if (have === tip) continue;
    if (have && isAncestor(cwd, tip, have)) continue; // the remote is behind this clone
    // Everything this clone indexed or saw witnessed of the chain must be in the incoming history.
    const ownKnowledge = [have, known.get(chain)].filter((c): c is string => !!c);
    // One walk of the incoming chain answers every "is it in there" question (none asked of a new chain).
    const witnesses = witnessed.get(chain) ?? [];
    const history = ownKnowledge.length || witnesses.length ? new Set(firstParentLine(cwd, tip)) : new Set<string>();
    // What this clone itself indexed must be there; a witnessed tip only when the witness is usable.
    // The witnessed tips missing from it are checked at once (a forger may name thousands).
    const missing = witnesses.filter((w) => !history.has(w.tip));
    const real = missing.length
      ? chainCommitsAmong(
          ctx.repo,
          chain,
          missing.map((w) => w.tip),
        )
      : new Set<string>();
    // An event of this chain that another chain's ref holds was made by a forger: no clone builds on
    // another's chain, so a commit of this one inside another is no evidence that this one was rewritten
    // (one a forger pushed under any name arrives with the fetch). One this clone indexed as the chain's is.
    // Two git calls for up to a thousand of them, however many refs there are.
    const unknown = [...real].filter((c) => chainOfCommit(ctx.db, c) !== chain);
    const own = new RegExp(`^refs/handoff/(chains|incoming/[^/]+|remotes/.+/chains)/${chain}$`);
    const foreign = unknown.length
      ? refsContainingAny(ctx.repo, unknown, LEDGER_NAMESPACE).filter((r) => !own.test(r))
      : [];
    if (foreign.length) {
      const held = commitsReachableFrom(ctx.repo, foreign);
      for (const c of unknown) if (held.has(c)) real.delete(c);
    }
    const lost =
      ownKnowledge.find((c) => !history.has(c)) ??
      missing.find((w) => usable(w.witness, chain, w.tip, real.has(w.tip)))?.tip;
    if (lost) {
      const why = isAncestor(cwd, tip, lost)
        ? `its tip ${tip.slice(0, 12)} on ${remote} is behind ${lost.slice(0, 12)}, which was seen before: events were dropped (or ${remote} is stale)`
        : `its tip ${tip.slice(0, 12)} on ${remote} does not contain ${lost.slice(0, 12)}, which was seen before: the chain was rewritten`;
      result.refused.push({ chain, reason: why });
      continue;
    }
    if (chain === ctx.cloneId && have) {
      result.refused.push({
        chain,
        reason: "the remote holds a longer copy of this clone's own chain: another clone uses the same clone id",
      });
      continue;
    }
    if (compareAndSwapRef(ctx.repo, localRef, tip, have) || readRefs(ctx.repo, CHAIN_PREFIX).get(localRef) === tip) {
      result.fetched.push({ chain, from: have, to: tip });
    }
  }
  return scan;
}

/** Indexes what arrived and reports chains held back, duplicate ids and suspect witnesses. */
async function indexAndReport(ctx: Context, input: SyncInput, result: SyncJson, scan?: WitnessScan): Promise<void> {
  const report = await indexChainsStreamed(ctx, { onProgress: input.onIndexProgress, ...scan });
  result.indexed = report.indexed;
  result.quarantined = quarantined(ctx.db).map((q) => ({ chain: q.chain, commit: q.commit_id, reason: q.reason }));
  result.duplicates = duplicates(ctx.db).map((d) => ({
    id: d.id,
    chain: d.chain,
    commit: d.commit_id,
    kept: { chain: d.kept_chain, commit: d.kept_commit },
  }));
  for (const q of result.quarantined)
    ctx.warn(
      `chain ${q.chain} is held back at commit ${q.commit.slice(0, 12)}: ${q.reason}. 'handoff sync --drop ${q.chain}' removes it from this clone.`,
    );
  for (const d of result.duplicates)
    ctx.warn(
      `event ${d.id} on chain ${d.chain} (commit ${d.commit.slice(0, 12)}) reuses the id of an event already indexed from chain ${d.kept.chain}; the first stands.`,
    );
  // A few are named; a forger's thousands are counted (sync --json lists them all).
  for (const s of result.suspect.slice(0, 5))
    ctx.warn(
      `chain ${s.chain} witnessed commit ${s.commit.slice(0, 12)} of chain ${s.witnessed}, which is not in that chain here (nobody has it, or only another chain holds it): that witness is ignored.`,
    );
  if (result.suspect.length > 5)
    ctx.warn(
      `... and ${result.suspect.length - 5} more witnesses of commits nobody has, all ignored ('handoff sync --json' lists them).`,
    );
  for (const r of report.rewritten)
    if (!result.refused.some((x) => x.chain === r.chain))
      result.refused.push({ chain: r.chain, reason: 'rewritten since it was indexed' });
}

/**
 * Pushes this clone's chain (a fast-forward: only this clone writes it), retrying a lost race on the
 * remote's lock, and the chains of the ids it had before it found itself a copy.
 */
async function pushOwnChain(
  ctx: Context,
  to: { remote: string; prefix: string; progress?: (text: string) => void; remoteOwn?: string },
  result: SyncJson,
): Promise<void> {
  const { remote, prefix, progress } = to;
  const cwd = ctx.repo.cwd;
  const local = readRefs(ctx.repo, CHAIN_PREFIX);
  const own = local.get(chainRef(ctx.cloneId));
  if (own && own !== to.remoteOwn) {
    const push = () =>
      pushRefspecs(cwd, remote, [`${chainRef(ctx.cloneId)}:${prefix}chains/${ctx.cloneId}`], { onProgress: progress });
    let pushed = await push();
    // Two syncs of one clone may race on the remote's ref lock; the loser retries.
    for (let i = 0; i < 3 && pushed.status !== 0 && /cannot lock ref|failed to lock/i.test(pushed.stderr); i++) {
      pushed = await push();
    }
    if (pushed.status !== 0) {
      if (/non-fast-forward|fetch first|\[rejected\].*stale/i.test(pushed.stderr)) {
        throw new ConflictError(
          'push_rejected',
          `${remote} holds a copy of this clone's chain that is not an ancestor of it (${chainRef(ctx.cloneId)}). Another clone may use the same clone id; run 'handoff verify'.`,
        );
      }
      if (
        /deny|denied|declined|refus|funny refname|rejected|invalid ref/i.test(pushed.stderr) &&
        prefix === DEFAULT_REF_PREFIX
      ) {
        throw new HandoffError(
          'remote_rejects_refs',
          `${remote} refused the hidden ref ${prefix}chains/${ctx.cloneId} (${pushed.stderr.trim().split('\n').slice(-2).join(' ')}). Some hosts accept only branches: keep the ledger under a branch namespace with 'handoff sync --ref-prefix refs/heads/handoff-ledger/' (or 'handoff sync --setup --ref-prefix refs/heads/handoff-ledger/' to remember it).`,
        );
      }
      throw remoteFailure(remote, 'push to', pushed.stderr, pushed.status);
    }
    result.pushed = { chain: ctx.cloneId, tip: own };
  }
  // The chain this clone wrote before it found itself a copy (context.ts ownCloneId): pushed only as a
  // fast-forward, so what was written before the copy reaches the remote even when the original is gone.
  // Refused means the remote holds more of it (the original moved on): nothing to do.
  const previous = previousCloneIds(ctx.dataDir).filter((id) => id !== ctx.cloneId && local.has(chainRef(id)));
  if (previous.length)
    await pushRefspecs(
      cwd,
      remote,
      previous.map((id) => `${chainRef(id)}:${prefix}chains/${id}`),
      { onProgress: progress },
    );
}

const SETUP_MARK = 'handoffSetup';

/** One thing an earlier setup added to a remote's config, as remembered in remote.<name>.handoffSetup. */
interface SetupRecord {
  /** The key it is under now (remote.<remote>.fetch, .push, .handoffRefPrefix). */
  key: string;
  value: string;
  /** The record as stored ("<key>\t<value>"; its key may name the remote's earlier name). */
  stored: string;
}

/**
 * What setups of `remote` added. `git remote rename` moves the remote's section, records included, but
 * leaves the records naming the old name: such a record is rewritten to name the remote as it is now.
 */
function setupRecords(cwd: string, remote: string): SetupRecord[] {
  const out: SetupRecord[] = [];
  for (const stored of configGetAll(cwd, `remote.${remote}.${SETUP_MARK}`)) {
    const tab = stored.indexOf('\t');
    const m = tab > 0 ? /^remote\.(.+)\.([^.]+)$/s.exec(stored.slice(0, tab)) : null;
    if (!m) continue;
    const record = { key: `remote.${remote}.${m[2]!}`, value: stored.slice(tab + 1), stored };
    if (m[1] !== remote) {
      configUnset(cwd, `remote.${remote}.${SETUP_MARK}`, stored);
      record.stored = `${record.key}\t${record.value}`;
      if (!out.some((r) => r.stored === record.stored)) configAdd(cwd, `remote.${remote}.${SETUP_MARK}`, record.stored);
    }
    if (!out.some((r) => r.stored === record.stored)) out.push(record);
  }
  return out;
}

/**
 * Deletes the remote-tracking copies (refs/handoff/remotes/<name>/chains/) that no remote's fetch refspec
 * writes any more: those of a remote removed with `git remote remove` (which deletes only refs/remotes/),
 * or of the name a renamed remote had. Copies only ever move chains forward, so nothing is lost: a remote
 * set up again fetches them again. Returns the names whose copies were deleted.
 */
export function deleteOrphanCopies(ctx: Context, configChanged = false): string[] {
  const copies = readRefs(ctx.repo, TRACKING_PREFIX);
  if (copies.size === 0) return [];
  // The refspecs as the command found them (the config cache), or as git has them after this command changed them.
  const refspecs = configChanged
    ? configEntries(ctx.repo.cwd, '^remote\\..*\\.fetch$').map(([, v]) => v)
    : [...ctx.config()].filter(([key]) => /^remote\..+\.fetch$/s.test(key)).flatMap(([, values]) => values);
  const written = refspecs.map((v) => v.slice(v.indexOf(':') + 1));
  const orphans = [...copies.keys()].filter(
    (ref) => !written.some((dst) => (dst.endsWith('*') ? ref.startsWith(dst.slice(0, -1)) : ref === dst)),
  );
  deleteRefs(ctx.repo.cwd, orphans);
  return [...new Set(orphans.map((r) => r.slice(TRACKING_PREFIX.length, r.lastIndexOf('/chains/'))))];
}

/**
 * The fetch refspecs earlier setups of `remote` added that `wanted` replaces: every one but `wanted` itself.
 * They are an older setup's, which fetched the chains straight into refs/handoff/chains/; one with another
 * --ref-prefix into the same copies (two would make `git fetch` fail); and one made before `git remote
 * rename`, into the copies of the remote's old name.
 */
function replacedFetchRefspecs(records: SetupRecord[], remote: string, wanted: string): SetupRecord[] {
  return records.filter((r) => r.key === `remote.${remote}.fetch` && r.value !== wanted);
}

/** Local branches whose upstream is a branch of another name on `remote` (branch.<name>.remote / .merge). */
function branchesTrackingOtherNames(cwd: string, remote: string): string[] {
  const remotes = new Map<string, string>();
  const merges = new Map<string, string>();
  for (const [key, value] of configEntries(cwd, '^branch\\..*\\.(remote|merge)$')) {
    const name = key.slice('branch.'.length, key.lastIndexOf('.'));
    (key.endsWith('.remote') ? remotes : merges).set(name, value);
  }
  return [...remotes]
    .filter(([name, r]) => r === remote && merges.has(name) && merges.get(name) !== `refs/heads/${name}`)
    .map(([name]) => name);
}

/**
 * `sync --setup`: adds refspecs so that plain `git fetch` / `git push` carry the ledger; `undo` removes
 * exactly what an earlier setup added (recorded in remote.<name>.handoffSetup).
 */
export function setupSync(ctx: Context, input: { remote?: string; refPrefix?: string; undo?: boolean }): SetupJson {
  requireWritable(ctx, 'change the sync set-up');
  const remote = resolveRemote(ctx, input.remote);
  const cwd = ctx.repo.cwd;
  const get = (key: string) => configGetAll(cwd, key);
  const out: SetupJson = { remote, refPrefix: DEFAULT_REF_PREFIX, added: [], removed: [], notes: [] };
  if (input.undo) {
    for (const { key, value } of setupRecords(cwd, remote)) {
      configUnset(cwd, key, value);
      out.removed.push({ key, value });
    }
    configUnset(cwd, `remote.${remote}.${SETUP_MARK}`);
    // The remote-tracking copies the setup's fetches made (the chains themselves stay), also under the
    // name the remote had before a rename.
    if (isValidRefName(cwd, `${trackingPrefix(remote)}x`))
      deleteRefs(cwd, [...readRefs(ctx.repo, trackingPrefix(remote)).keys()]);
    deleteOrphanCopies(ctx, true);
    // The prefix as git config now has it (the undo may have removed the one setup stored).
    const left = configGet(cwd, `remote.${remote}.handoffrefprefix`);
    out.refPrefix = left ? checkRefPrefix(ctx, left) : DEFAULT_REF_PREFIX;
    return out;
  }
  const prefix = input.refPrefix !== undefined ? checkRefPrefix(ctx, input.refPrefix) : refPrefixFor(ctx, remote);
  out.refPrefix = prefix;
  const own = chainRef(ctx.cloneId);
  const tracking = trackingPrefix(remote);
  if (!isValidRefName(cwd, `${tracking}x`))
    throw new UsageError(
      'bad_remote_name',
      `The remote name ${quoted(remote)} cannot be part of a ref name, which setup needs. Rename it with 'git remote rename'.`,
    );
  // Plain `git fetch` brings the chains into copies of this remote's own (git updates and prunes them, as it
  // does refs/remotes/): every handoff command then moves the chains forward from them (index-chains.ts).
  const fetch = `+${prefix}chains/*:${tracking}*`;
  const wanted: { key: string; value: string }[] = [{ key: `remote.${remote}.fetch`, value: fetch }];
  const pushes = get(`remote.${remote}.push`);
  // A glob that matches only this clone's chain: before its first event the ref does not exist, and an exact
  // refspec would make every plain 'git push' fail ("src refspec does not match any"); a glob matches nothing.
  const ownPush = `${own}*:${prefix}chains/${ctx.cloneId}*`;
  // Any push refspec replaces push.default, and HEAD (the current branch to the branch of the same name) is
  // what `git push` did before only under push.default simple or current, with every branch that pushes to
  // this remote tracking a branch of its own name. Otherwise plain `git push` is left alone.
  const pushDefault = (configGet(cwd, 'push.default') ?? 'simple').toLowerCase();
  const elsewhere = pushes.length ? [] : branchesTrackingOtherNames(cwd, remote);
  if (pushes.length === 0 && (!['simple', 'current'].includes(pushDefault) || elsewhere.length)) {
    out.notes.push(
      `'git push' is left as it is (${elsewhere.length ? `branch ${elsewhere[0]} pushes to a branch of another name` : `push.default is ${pushDefault}`}): a push refspec would change which branch it updates. 'handoff sync' pushes the ledger, or: git push ${remote} '${ownPush}'.`,
    );
  } else {
    if (pushes.length === 0) {
      wanted.push({ key: `remote.${remote}.push`, value: 'HEAD' });
      out.notes.push(
        `Added remote.${remote}.push=HEAD so that 'git push' still pushes the current branch (to the branch of the same name${pushDefault === 'simple' ? "; a branch with no upstream is pushed too, where 'git push' would ask for --set-upstream" : ''}).`,
      );
    }
    wanted.push({ key: `remote.${remote}.push`, value: ownPush });
  }
  // What earlier setups added, replaced: the exact ref pushed, and the fetch refspecs above (an older
  // setup's fetched into refs/handoff/chains/, where `git fetch --prune` deleted chains the remote lacks).
  const records = setupRecords(cwd, remote);
  const older = [
    { key: `remote.${remote}.push`, value: `${own}:${prefix}chains/${ctx.cloneId}` },
    ...replacedFetchRefspecs(records, remote, fetch),
  ];
  for (const o of older) {
    if (!get(o.key).includes(o.value)) continue;
    configUnset(cwd, o.key, o.value);
    configUnset(cwd, `remote.${remote}.${SETUP_MARK}`, `${o.key}\t${o.value}`);
    out.removed.push({ key: o.key, value: o.value });
  }
  if (prefix !== DEFAULT_REF_PREFIX) wanted.push({ key: `remote.${remote}.handoffRefPrefix`, value: prefix });
  for (const w of wanted) {
    if (get(w.key).includes(w.value)) continue;
    configAdd(cwd, w.key, w.value);
    configAdd(cwd, `remote.${remote}.${SETUP_MARK}`, `${w.key}\t${w.value}`);
    out.added.push(w);
  }
  // The copies a replaced refspec wrote (under the name the remote had before a rename).
  deleteOrphanCopies(ctx, true);
  return out;
}
