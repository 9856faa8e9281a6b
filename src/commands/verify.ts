import { VerificationError } from '../core/errors';
import { inert } from '../core/text';
import { defineCommand, jsonFlag } from './define';
import { verify } from '../ops/verify';
import { configTrue } from '../core/text';
import { withContext } from './_shared';
import type { VerifyJson } from '../json/sync';

export default defineCommand({
  id: 'verify',
  summary: 'Check that the ledger is whole and unaltered (exit 6 when it is not).',
  description: `Walks every chain: each commit must parse, event ids must be unique, clocks and parents
consistent, attached snapshots and their base commits present; SQLite must hold exactly the events git
holds; and no chain tip this clone indexed, nor any tip another chain witnessed, may have been rewritten.
git replace over a ledger commit is reported too. Each chain's signatures are checked as
'git log --show-signature' checks them (gpg.ssh.allowedSignersFile for SSH keys): a signature that does
not verify fails; with --require-signed (or git config handoff.requireSigned) so does any commit not signed
by an allowed signer. --deep also reads back every page of the SQLite file (about a second for 100,000
events): the comparison with git reads only the events' rows.`,
  examples: [
    '<%= config.bin %> verify',
    '<%= config.bin %> verify --require-signed',
    '<%= config.bin %> verify --deep',
    '<%= config.bin %> verify --json',
  ],
  flags: {
    'require-signed': {
      type: 'boolean',
      description:
        'Fail on any chain commit not signed by an allowed signer (gpg.ssh.allowedSignersFile); also git config handoff.requireSigned.',
    },
    deep: { type: 'boolean', description: 'Also read back every page of the SQLite file (integrity_check).' },
    json: jsonFlag,
  },
  async run(parsed, io) {
    const r = await withContext(io, (ctx) =>
      verify(ctx, {
        requireSigned:
          !!parsed.flags['require-signed'] || configTrue(ctx.config().get('handoff.requiresigned')?.at(-1)),
        deep: !!parsed.flags.deep,
      }),
    );
    if (!r.ok) {
      if (!io.json) {
        for (const p of r.problems) io.warn(`problem: ${inert(p.message)}`);
        for (const line of signatureLines(r)) io.warn(line);
      }
      throw new VerificationError(
        'verification_failed',
        `The ledger failed verification: ${r.problems.length} problem(s) in ${r.events} events on ${r.chains} chain(s).`,
        r,
      );
    }
    return r;
  },
  print(r, io, parsed) {
    io.log(
      `ok: ${r.events} events on ${r.chains} chain(s), SQLite and git agree${parsed.flags.deep ? ', and every page of the SQLite file reads back' : ''}`,
    );
    for (const line of signatureLines(r)) io.log(line);
  },
});

/** Each signed chain's signatures, a line per chain (unsigned-only chains are not listed). */
function signatureLines(r: VerifyJson): string[] {
  const lines: string[] = [];
  for (const s of r.signatures) {
    if (s.good + s.unknownKey + s.bad + s.unverifiable === 0) continue;
    const parts = [
      s.good && `${s.good} signed by ${s.signers.join(', ') || 'an allowed signer'}`,
      s.bad && `${s.bad} with a signature that does not verify`,
      s.unknownKey && `${s.unknownKey} signed by a key not among the allowed signers`,
      s.unverifiable && `${s.unverifiable} signed but not checkable here`,
      s.unsigned && `${s.unsigned} unsigned`,
    ].filter(Boolean);
    lines.push(`chain ${s.chain}: ${parts.join(', ')} (${s.keys.map(inert).join(', ')})`);
  }
  return lines;
}
