/**
 * The replay as one self-contained HTML page: no network access (a Content-Security-Policy forbids it),
 * no external assets. Every name, message body and diff line is HTML-escaped when the page is written;
 * the page's own script only shows and hides elements (it never writes markup from data).
 */
import { shortId } from '../core/ids';
import { diffGitPath, gitHeaderPath, inert } from '../core/text';
import type { ReplayCommitItem, ReplayItem, ReplayJson, ReplayMessageItem } from '../json/replay';

/**
 * Who a commit is by, as replay prints it (unescaped): its agent, or for a squash of others' commits the
 * agents whose lines it holds, and who made it.
 */
export function commitMaker(it: ReplayCommitItem): string {
  const named = (human: boolean, name: string) => `${human ? 'human: ' : ''}${name}`;
  const maker = named(it.human, it.agent);
  if (!it.squashOf) return maker;
  return `${it.squashOf.map((a) => named(a.human, a.name)).join(', ')} (rewritten by ${maker})`;
}

/**
 * Escapes text for HTML element content and attribute values. Control characters and bidirectional
 * controls show as visible escapes, as in the terminal (inert): a file named "invoice\u202efdp.exe" must
 * not read as "invoiceexe.pdf".
 */
function escapeHtml(s: string): string {
  return inert(s).replace(
    /[&<>"'`]/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' })[c]!,
  );
}

const KEYWORDS = new Set(
  'abstract as async await break case catch class const continue def default delete do elif else enum export extends false final finally fn for from func function go if impl import in instanceof interface let match mod module new nil none null package pass private protected pub public raise return self static struct super switch this throw true try type typeof undefined use var void while with yield'.split(
    ' ',
  ),
);
const TOKEN =
  /("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`(?:[^`\\]|\\.)*`)|(\/\/.*$|#.*$|--.*$)|(\b\d+(?:\.\d+)?\b)|([A-Za-z_][A-Za-z0-9_]*)/g;

/** One source line with light syntax colouring: strings, comments, numbers, keywords (escaped per token). */
function highlight(code: string): string {
  let out = '';
  let last = 0;
  for (const m of code.matchAll(TOKEN)) {
    out += escapeHtml(code.slice(last, m.index));
    const [text, str, comment, num, word] = m;
    if (str) out += `<span class="s">${escapeHtml(text)}</span>`;
    else if (comment) out += `<span class="c">${escapeHtml(text)}</span>`;
    else if (num) out += `<span class="n">${escapeHtml(text)}</span>`;
    else if (word && KEYWORDS.has(word)) out += `<span class="k">${escapeHtml(text)}</span>`;
    else out += escapeHtml(text);
    last = m.index! + text.length;
  }
  return out + escapeHtml(code.slice(last));
}

/** One file's part of a patch, as a table with old and new line numbers. */
interface FilePatch {
  name: string;
  added: number;
  removed: number;
  rows: string[];
}

/** A unified diff as one block per file: a header (path, +added -removed) and numbered lines. */
function diffHtml(patch: string): string {
  const files: FilePatch[] = [];
  let cur: FilePatch | undefined;
  let oldNo = 0;
  let newNo = 0;
  const row = (cls: string, o: number | '', n: number | '', code: string) =>
    `<tr class="${cls}"><td class="ln">${o}</td><td class="ln">${n}</td><td class="code">${code}</td></tr>`;
  const start = (name: string) => {
    cur = { name, added: 0, removed: 0, rows: [] };
    files.push(cur);
  };
  for (const l of patch.replace(/\n$/, '').split('\n')) {
    if (l.startsWith('diff --git ')) {
      start(diffGitPath(l));
      continue;
    }
    // ---/+++ name the file only before its first hunk (a content line may start with "++ " too).
    if ((l.startsWith('+++ ') || l.startsWith('--- ')) && (!cur || cur.rows.length === 0)) {
      const name = gitHeaderPath(l.slice(4));
      if (!cur) start(name);
      else if (l.startsWith('+++ ') && name !== '/dev/null') cur.name = name;
      continue;
    }
    if (
      !cur ||
      /^(index |new file mode|deleted file mode|old mode|new mode|similarity index|rename (from|to) |Binary files )/.test(
        l,
      )
    ) {
      if (cur && l.startsWith('Binary files')) cur.rows.push(row('dctx', '', '', escapeHtml(l)));
      continue;
    }
    const hunk = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@(.*)$/.exec(l);
    if (hunk) {
      oldNo = Number(hunk[1]);
      newNo = Number(hunk[2]);
      cur.rows.push(
        `<tr class="dhunk"><td class="ln">…</td><td class="ln">…</td><td class="code">${escapeHtml(l)}</td></tr>`,
      );
    } else if (l.startsWith('+')) {
      cur.added++;
      cur.rows.push(row('dadd', '', newNo++, `+${highlight(l.slice(1))}`));
    } else if (l.startsWith('-')) {
      cur.removed++;
      cur.rows.push(row('ddel', oldNo++, '', `-${highlight(l.slice(1))}`));
    } else if (!l.startsWith('\\')) {
      cur.rows.push(row('dctx', oldNo++, newNo++, l.length ? highlight(l.slice(1)) : '&nbsp;'));
    }
  }
  const blocks = files.map(
    (f) =>
      `<div class="file"><div class="fh"><code>${escapeHtml(f.name)}</code> <span class="plus">+${f.added}</span> <span class="minus">-${f.removed}</span></div><div class="scroll"><table class="lines">${f.rows.join('')}</table></div></div>`,
  );
  const total = files.reduce((n, f) => n + f.added + f.removed, 0);
  return `<details class="diff"><summary>diff: ${files.length} file${files.length === 1 ? '' : 's'}, ${total} line${total === 1 ? '' : 's'} changed</summary>${blocks.join('')}</details>`;
}

function statHtml(stat: { file: string; added: number; removed: number; from?: string }[] | null): string {
  if (!stat || stat.length === 0) return '';
  return `<ul class="stat">${stat.map((s) => `<li><code>${s.from ? `${escapeHtml(s.from)} → ` : ''}${escapeHtml(s.file)}</code> <span class="plus">+${s.added}</span> <span class="minus">-${s.removed}</span></li>`).join('')}</ul>`;
}

const short = (id: string) => escapeHtml(shortId(id));
const time = (ts: string) => `<time datetime="${escapeHtml(ts)}" title="${escapeHtml(ts)}">${escapeHtml(ts)}</time>`;

function receiptsHtml(it: ReplayMessageItem): string {
  const chips = it.recipients.map(
    (r) =>
      `<span class="chip st-${escapeHtml(r.status)}" title="${escapeHtml(r.readAt ?? '')}">${r.status === 'stored' ? 'unread' : escapeHtml(r.status)} · ${escapeHtml(r.agent)}</span>`,
  );
  const verdicts = it.verdicts.map(
    (v) =>
      `<span class="chip v-${escapeHtml(v.verdict)}">${escapeHtml(v.verdict.replace('_', ' '))} · ${escapeHtml(v.reviewer)}</span>`,
  );
  const task = it.task
    ? [
        `<span class="chip task-${escapeHtml(it.task.state)}">task: ${escapeHtml(it.task.state)}${it.task.by ? ` · ${escapeHtml(it.task.by)}` : ''}</span>`,
      ]
    : [];
  const all = [...chips, ...verdicts, ...task];
  return all.length ? `<div class="meta">${all.join(' ')}</div>` : '';
}

/** The mark of an event not signed by an allowed signer (nothing for a good signature, or none asked for). */
function signatureMark(sig: ReplayItem['signature']): string {
  if (!sig || sig === 'good') return '';
  const words = {
    unsigned: 'unsigned',
    unknown_key: 'unknown signing key',
    unverifiable: 'signature not checkable',
    bad: 'BAD SIGNATURE',
  };
  return ` <span class="unsigned sig-${sig}">${words[sig]}</span>`;
}

function itemHtml(it: ReplayItem, children: Map<ReplayItem, ReplayItem[]>): string {
  const kids = children.get(it) ?? [];
  const nested = kids.length ? `<div class="replies">${kids.map((k) => itemHtml(k, children)).join('\n')}</div>` : '';
  if (it.type === 'message') {
    const m = it.message;
    const anchor = `m-${m.id}`;
    return `<article class="item message kind-${escapeHtml(m.kind)}" id="${anchor}" data-agent="${escapeHtml(m.from)}" data-thread="${escapeHtml(m.thread)}" data-to="${escapeHtml(m.to.join(' '))}">
<header><a class="permalink" href="#${anchor}" title="link to this message">#</a> <strong class="agent">${escapeHtml(m.from)}</strong> → ${m.to.length ? escapeHtml(m.to.join(', ')) : '<em>nobody</em>'} <span class="kind">${escapeHtml(m.kind)}</span>${m.priority !== 'normal' ? ` <span class="prio">${escapeHtml(m.priority)}</span>` : ''} ${time(m.ts)}
<span class="id" title="${escapeHtml(m.id)}">${short(m.id)}</span>${m.replyTo ? ` <a class="replyto" href="#m-${escapeHtml(m.replyTo)}">reply to ${short(m.replyTo)}</a>` : ''}${signatureMark(it.signature)}</header>
<div class="own"><div class="body">${escapeHtml(m.body)}</div>${receiptsHtml(it)}${statHtml(it.stat)}${it.patch ? diffHtml(it.patch) : ''}</div>${nested}</article>`;
  }
  const anchor = `c-${it.commit}`;
  const guess =
    it.link === 'guess'
      ? ' <span class="chip guess" title="the newest request the agent had read; not pinned">a guess</span>'
      : '';
  return `<article class="item commit" id="${anchor}" data-agent="${escapeHtml(it.agent)}" data-thread="" data-answers="${escapeHtml(it.answers.join(' '))}">
<header><a class="permalink" href="#${anchor}" title="link to this commit">#</a> commit <code title="${escapeHtml(it.commit)}">${escapeHtml(it.commit.slice(0, 10))}</code> by <strong class="agent">${escapeHtml(commitMaker(it))}</strong> ${time(it.ts)}
${it.answers.map((a) => `<a class="answers" href="#m-${escapeHtml(a)}">answers ${short(a)}</a>`).join(' ')}${guess}${it.rewrittenInto.length ? ` <span class="chip" title="amended, rebased or squashed since">since rewritten as ${it.rewrittenInto.map((c) => `<code>${escapeHtml(c.slice(0, 10))}</code>`).join(', ')}</span>` : ''}${it.discarded ? ' <span class="chip" title="no branch or tag holds it any more (reset away)">discarded</span>' : ''}${signatureMark(it.signature)}</header>
<div class="own"><div class="subject">${escapeHtml(it.subject)}</div>${statHtml(it.stat)}${it.patch ? diffHtml(it.patch) : ''}</div>${nested}</article>`;
}

/** Nests each reply under the message it answers and each commit under the first message it answers. */
function nest(items: ReplayItem[]): { roots: ReplayItem[]; children: Map<ReplayItem, ReplayItem[]> } {
  const byId = new Map<string, ReplayItem>();
  for (const it of items) if (it.type === 'message') byId.set(it.message.id, it);
  const children = new Map<ReplayItem, ReplayItem[]>();
  const roots: ReplayItem[] = [];
  for (const it of items) {
    const parentId = it.type === 'message' ? it.message.replyTo : it.answers.find((a) => byId.has(a));
    const parent = parentId ? byId.get(parentId) : undefined;
    if (parent && parent !== it) children.set(parent, [...(children.get(parent) ?? []), it]);
    else roots.push(it);
  }
  return { roots, children };
}

const CSS = `html:not(.js-on) .js{display:none}
html{scroll-padding-top:var(--top,90px)}body{font:14px/1.45 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2329}
header.top{position:sticky;top:0;background:#1d2329;color:#fff;padding:10px 16px;display:flex;gap:8px 16px;align-items:center;flex-wrap:wrap;z-index:1}
header.top h1{font-size:16px;margin:0;overflow-wrap:anywhere}header.top select{max-width:min(70vw,360px)}main{max-width:980px;margin:0 auto;padding:12px}
.item{background:#fff;border:1px solid #dde1e6;border-left:4px solid #6b7785;border-radius:6px;padding:10px 12px;margin:10px 0;min-width:0;scroll-margin-top:var(--top,90px)}
.item:target{box-shadow:0 0 0 3px #f5c542}.item.commit{border-left-color:#2f8f4e;background:#fbfefc}.item.message.kind-review_response{border-left-color:#b35c00}
.item header{font-size:13px;color:#56606b;overflow-wrap:anywhere}.agent{color:#1d2329}.kind{background:#eef1f4;border-radius:3px;padding:0 5px}.prio{color:#b00020;font-weight:bold}.unsigned{color:#fff;background:#b00020;border-radius:3px;padding:0 5px}
.id{font-family:monospace;font-size:11px;color:#9aa3ad;margin-left:4px}.permalink{text-decoration:none;color:#9aa3ad}time{color:#56606b}
.body{white-space:pre-wrap;overflow-wrap:anywhere;margin-top:6px}.subject{margin-top:4px;font-weight:600;overflow-wrap:anywhere}.answers{margin-left:6px;font-size:12px}
.meta{margin-top:6px}.chip{display:inline-block;font-size:11px;border-radius:10px;padding:0 7px;margin:2px 2px 0 0;background:#eef1f4;color:#394451}
.chip.st-read{background:#e3f0ff}.chip.st-acked{background:#dcf5e3}.chip.st-stored{background:#fff3d6}.chip.v-approve{background:#2f8f4e;color:#fff}
.chip.v-request_changes{background:#b00020;color:#fff}.chip.v-comment{background:#6b7785;color:#fff}.chip.guess{background:#fff3d6;color:#7a5200}
.chip.task-done{background:#2f8f4e;color:#fff}.chip.task-failed{background:#b00020;color:#fff}.chip.task-blocked{background:#b36b00;color:#fff}.chip.task-reclaimable{background:#fff3d6;color:#7a5200}
.replies{margin:8px 0 0 10px;border-left:2px solid #e3e6ea;padding-left:8px}.replies .replies .replies .replies{margin-left:0;padding-left:4px}
.replies .item{margin:8px 0}.context>.own{display:none}.context{opacity:.75}
.stat{margin:6px 0 0;padding-left:18px;font-size:12px;overflow-wrap:anywhere}.plus{color:#2f8f4e}.minus{color:#b00020}
details.diff{margin-top:6px}details.diff summary{cursor:pointer;font-size:12px;color:#56606b}
.file{border:1px solid #dde1e6;border-radius:4px;margin-top:6px;min-width:0}.fh{background:#f3f5f7;padding:3px 8px;font-size:12px;overflow-wrap:anywhere}
.scroll{overflow-x:auto}table.lines{border-collapse:collapse;font:12px/1.4 ui-monospace,monospace;min-width:100%}
.lines td{padding:0 6px;white-space:pre;vertical-align:top}.lines td.ln{color:#9aa3ad;text-align:right;user-select:none;width:1%}
.dadd{background:#e6ffec}.ddel{background:#ffebe9}.dhunk{color:#6f42c1;background:#f3f0fb}
.s{color:#0a3069}.c{color:#6e7781;font-style:italic}.n{color:#0550ae}.k{color:#cf222e}.hidden{display:none}`;

const SCRIPT = `(function(){document.documentElement.className+=' js-on';var a=document.getElementById('f-agent'),t=document.getElementById('f-thread'),n=document.getElementById('shown'),top=document.querySelector('header.top');
function pad(){document.documentElement.style.setProperty('--top',(top.offsetHeight+12)+'px');}
function rel(){var now=Date.now();document.querySelectorAll('time[datetime]').forEach(function(el){var s=Math.round((now-Date.parse(el.getAttribute('datetime')))/1000),r;
if(!(s>=0))return;if(!el.title)el.title=el.textContent;if(s<60)r=s<5?'just now':s+'s ago';else if(s<3600)r=Math.floor(s/60)+'m ago';else if(s<86400)r=Math.floor(s/3600)+'h ago';else if(s<2592000)r=Math.floor(s/86400)+'d ago';else return;el.textContent=r;});}
function own(el){var av=a.value,tv=t.value;
var okA=!av||el.getAttribute('data-agent')===av||(el.getAttribute('data-to')||'').split(' ').indexOf(av)>=0;
var okT=!tv||el.getAttribute('data-thread')===tv||(el.getAttribute('data-answers')||'').split(' ').some(function(x){var m=document.getElementById('m-'+x);return m&&m.getAttribute('data-thread')===tv;});
return okA&&okT;}
function apply(){var c=0,all=Array.prototype.slice.call(document.querySelectorAll('article.item'));
all.forEach(function(el){el.__own=own(el);if(el.__own)c++;});
all.forEach(function(el){var sub=el.__own||Array.prototype.some.call(el.querySelectorAll('article.item'),function(d){return d.__own;});
el.classList.toggle('hidden',!sub);el.classList.toggle('context',sub&&!el.__own);});n.textContent=String(c);}
a.addEventListener('change',apply);t.addEventListener('change',apply);window.addEventListener('resize',pad);pad();rel();apply();
if(location.hash){var el=document.getElementById(location.hash.slice(1));if(el)el.scrollIntoView();}})();`;

/** Renders the page. */
export function replayHtml(r: ReplayJson, title: string): string {
  const options = (values: string[], all: string, label: (v: string) => string = (v) => v) =>
    [
      `<option value="">${all}</option>`,
      ...values.map((v) => `<option value="${escapeHtml(v)}">${escapeHtml(label(v))}</option>`),
    ].join('');
  const cut = (t: string) => (t.length > 60 ? `${t.slice(0, 59)}…` : t);
  const { roots, children } = nest(r.items);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>${CSS}</style></head>
<body><header class="top"><h1>${escapeHtml(title)}</h1>
<label class="js">agent <select id="f-agent">${options(r.agents, 'all agents')}</select></label>
<label class="js">thread <select id="f-thread">${options(r.threads, 'all threads', (t) => `${cut(r.threadSubjects[t] || '(no subject)')} · ${shortId(t)}`)}</select></label>
<span class="js"><span id="shown">${r.items.length}</span> of ${r.items.length} shown</span></header>
<main>${roots.map((it) => itemHtml(it, children)).join('\n')}</main>
<script>${SCRIPT}</script></body></html>
`;
}
