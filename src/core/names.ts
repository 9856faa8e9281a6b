import { UsageError } from './errors';
import { quoted } from './text';

/** The one rule for agent, team and role names: it is what keeps names out of refs, paths and git flags. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** Names that mean something else in an address and so cannot be taken by an agent. */
const RESERVED = new Set(['all', 'me', 'human', 'unknown']);

/** Checks an agent, team or role name and returns it, or throws a UsageError saying what is wrong. */
export function validateName(name: string, what = 'agent name'): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new UsageError('invalid_name', `The ${what} is empty. Use lowercase letters, digits, '.', '_' or '-'.`);
  }
  if (!NAME_PATTERN.test(name) || name.includes('..')) {
    const shown = quoted(name);
    let why = 'it must start with a lowercase letter or digit and contain only a-z, 0-9, ".", "_" or "-"';
    if (name.length > 63) why = `it is ${name.length} characters long; the limit is 63`;
    else if (name.includes('..')) why = 'it contains ".."';
    else if (name.startsWith('-')) why = 'it starts with "-"';
    else if (/[A-Z]/.test(name))
      why = `it contains uppercase letters${NAME_PATTERN.test(name.toLowerCase()) ? ` (names are lowercase: ${quoted(name.toLowerCase())})` : ''}`;
    throw new UsageError('invalid_name', `Invalid ${what} ${shown}: ${why}.`);
  }
  return name;
}

/** Like validateName, and also refuses the reserved address words (all, me, ...). */
export function validateAgentName(name: string): string {
  validateName(name, 'agent name');
  if (RESERVED.has(name)) {
    throw new UsageError(
      'reserved_name',
      `"${name}" is reserved in addresses and cannot be an agent name. Pick another name.`,
    );
  }
  return name;
}

/** Turns a free-form git user name or email into a valid agent name, or undefined when nothing usable is left. */
export function slugifyName(raw: string): string | undefined {
  const slug = raw
    .toLowerCase()
    .normalize('NFKD')
    // Accents go with their letter (Ö -> o), apostrophes join (O'Brien -> obrien).
    .replace(/[\u0300-\u036f'\u2019]/g, '')
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/^[^a-z0-9]+/, '')
    .replace(/[-.]+$/, '')
    .slice(0, 63);
  if (!slug || !NAME_PATTERN.test(slug) || RESERVED.has(slug)) return undefined;
  return slug;
}

export const AGENT_KINDS = ['claude', 'codex', 'gemini', 'copilot', 'cursor', 'opencode'] as const;

export type AgentKind = (typeof AGENT_KINDS)[number];
