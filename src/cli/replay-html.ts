/**
 * The replay as one self-contained HTML page: no network access (a Content-Security-Policy forbids it),
 * no external assets. Every name, message body and diff line is HTML-escaped when the page is written;
 * the page's own script only shows and hides elements (it never writes markup from data).
 */
import type { ReplayItem, ReplayJson } from '../ops/replay';

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"'`]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' })[c]!);
}

const KEYWORDS = new Set(
  'abstract as async await break case catch class const continue def default delete do elif else enum export extends false final finally fn for from func function go if impl import in instanceof interface let match mod module new nil none null package pass private protected pub public raise return self static struct super switch this throw true try type typeof undefined use var void while with yield'.split(' '),
);
const TOKEN = /("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`(?:[^`\\]|\\.)*`)|(\/\/.*$|#.*$|--.*$)|(\b\d+(?:\.\d+)?\b)|([A-Za-z_][A-Za-z0-9_]*)/g;

/** One source line with light syntax colouring: strings, comments, numbers, keywords (escaped per token). */
export function highlight(code: string): string {
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

function diffHtml(patch: string): string {
  const rows = patch.replace(/\n$/, '').split('\n').map((l) => {
    if (l.startsWith('diff --git') || l.startsWith('index ') || l.startsWith('+++') || l.startsWith('---')) return `<div class="dh">${escapeHtml(l)}</div>`;
    if (l.startsWith('@@')) return `<div class="dhunk">${escapeHtml(l)}</div>`;
    if (l.startsWith('+')) return `<div class="dadd">+${highlight(l.slice(1))}</div>`;
    if (l.startsWith('-')) return `<div class="ddel">-${highlight(l.slice(1))}</div>`;
    return `<div class="dctx">${l.length ? highlight(l) : '&nbsp;'}</div>`;
  });
  return `<details class="diff"><summary>diff</summary><pre>${rows.join('')}</pre></details>`;
}

function statHtml(stat: { file: string; added: number; removed: number }[] | null): string {
  if (!stat || stat.length === 0) return '';
  return `<ul class="stat">${stat.map((s) => `<li><code>${escapeHtml(s.file)}</code> <span class="plus">+${s.added}</span>${s.removed ? ` <span class="minus">-${s.removed}</span>` : ''}</li>`).join('')}</ul>`;
}

function itemHtml(it: ReplayItem): string {
  if (it.type === 'message') {
    const m = it.message;
    const anchor = `m-${m.id}`;
    return `<article class="item message kind-${escapeHtml(m.kind)}" id="${anchor}" data-agent="${escapeHtml(m.from)}" data-thread="${escapeHtml(m.thread)}" data-to="${escapeHtml(m.to.join(' '))}">
<header><a class="permalink" href="#${anchor}">#</a> <strong class="agent">${escapeHtml(m.from)}</strong> → ${escapeHtml(m.to.join(', '))} <span class="kind">${escapeHtml(m.kind)}</span>${m.priority !== 'normal' ? ` <span class="prio">${escapeHtml(m.priority)}</span>` : ''} <time>${escapeHtml(m.ts)}</time>
<span class="id">${escapeHtml(m.id)}</span>${m.replyTo ? ` <a href="#m-${escapeHtml(m.replyTo)}">reply to ${escapeHtml(m.replyTo.slice(-8))}</a>` : ''}</header>
<div class="body">${escapeHtml(m.body)}</div>${statHtml(it.stat)}${it.patch ? diffHtml(it.patch) : ''}</article>`;
  }
  const anchor = `c-${it.commit}`;
  return `<article class="item commit" id="${anchor}" data-agent="${escapeHtml(it.agent)}" data-thread="" data-answers="${escapeHtml(it.answers.join(' '))}">
<header><a class="permalink" href="#${anchor}">#</a> commit <code>${escapeHtml(it.commit.slice(0, 12))}</code> by <strong class="agent">${it.human ? 'human: ' : ''}${escapeHtml(it.agent)}</strong>
${it.answers.map((a) => `<a class="answers" href="#m-${escapeHtml(a)}">answers ${escapeHtml(a.slice(-8))}</a>`).join(' ')}</header>
<div class="subject">${escapeHtml(it.subject)}</div>${statHtml(it.stat)}${it.patch ? diffHtml(it.patch) : ''}</article>`;
}

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2329}
header.top{position:sticky;top:0;background:#1d2329;color:#fff;padding:10px 16px;display:flex;gap:16px;align-items:center;flex-wrap:wrap;z-index:1}
header.top h1{font-size:16px;margin:0}main{max-width:980px;margin:0 auto;padding:16px}
.item{background:#fff;border:1px solid #dde1e6;border-left:4px solid #6b7785;border-radius:6px;padding:10px 14px;margin:10px 0}
.item.commit{border-left-color:#2f8f4e;background:#fbfefc}.item.message.kind-review_response{border-left-color:#b35c00}
.item header{font-size:13px;color:#56606b}.agent{color:#1d2329}.kind{background:#eef1f4;border-radius:3px;padding:0 5px}.prio{color:#b00020;font-weight:bold}
.id{font-family:monospace;font-size:11px;color:#9aa3ad;float:right}.permalink{text-decoration:none;color:#9aa3ad}
.body{white-space:pre-wrap;margin-top:6px}.subject{margin-top:4px;font-weight:600}.answers{margin-left:6px;font-size:12px}
.stat{margin:6px 0 0;padding-left:18px;font-size:12px}.plus{color:#2f8f4e}.minus{color:#b00020}
pre{overflow:auto;font:12px/1.4 ui-monospace,monospace;margin:6px 0 0}.dadd{background:#e6ffec}.ddel{background:#ffebe9}.dhunk{color:#6f42c1;background:#f3f0fb}.dh{color:#56606b;font-weight:bold}
.s{color:#0a3069}.c{color:#6e7781;font-style:italic}.n{color:#0550ae}.k{color:#cf222e}.hidden{display:none}`;

const SCRIPT = `(function(){var a=document.getElementById('f-agent'),t=document.getElementById('f-thread'),n=document.getElementById('shown');
function apply(){var av=a.value,tv=t.value,c=0;document.querySelectorAll('article.item').forEach(function(el){
var okA=!av||el.getAttribute('data-agent')===av||(el.getAttribute('data-to')||'').split(' ').indexOf(av)>=0;
var okT=!tv||el.getAttribute('data-thread')===tv||(el.getAttribute('data-answers')||'').split(' ').some(function(x){var m=document.getElementById('m-'+x);return m&&m.getAttribute('data-thread')===tv;});
var show=okA&&okT;el.classList.toggle('hidden',!show);if(show)c++;});n.textContent=String(c);}
a.addEventListener('change',apply);t.addEventListener('change',apply);apply();})();`;

/** Renders the page. */
export function replayHtml(r: ReplayJson, title: string): string {
  const options = (values: string[], all: string) => [`<option value="">${all}</option>`, ...values.map((v) => `<option value="${escapeHtml(v)}">${escapeHtml(v)}</option>`)].join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>${CSS}</style></head>
<body><header class="top"><h1>${escapeHtml(title)}</h1>
<label>agent <select id="f-agent">${options(r.agents, 'all agents')}</select></label>
<label>thread <select id="f-thread">${options(r.threads, 'all threads')}</select></label>
<span><span id="shown">${r.items.length}</span> of ${r.items.length} shown</span></header>
<main>${r.items.map(itemHtml).join('\n')}</main>
<script>${SCRIPT}</script></body></html>
`;
}
