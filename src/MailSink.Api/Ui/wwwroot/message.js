// The message view: a header with the people and the actions, and one tab per way of looking at the
// message. The HTML tab renders the mail in an iframe that is sandboxed without allow-scripts and
// without allow-same-origin (no script runs, and the frame is not our origin), from srcdoc with a
// Content-Security-Policy of its own that blocks remote content until the person asks for it.
import { downloadLink, getBlob, getJson, request, send } from './api.js';
import { addressList, copyText, formatAddress, formatFull, formatSize, h, safeHref, toast } from './dom.js';

export const TABS = ['html', 'text', 'headers', 'raw', 'links', 'codes', 'attachments', 'envelope', 'spam', 'deliverability', 'compatibility', 'preview'];
const LABELS = {
  html: 'HTML', text: 'Text', headers: 'Headers', raw: 'Raw', links: 'Links', codes: 'Codes', attachments: 'Attachments',
  envelope: 'Envelope', spam: 'Spam', deliverability: 'Deliverability', compatibility: 'Compatibility', preview: 'Preview',
};

// The frame's own policy, on top of the page's (which a srcdoc frame inherits): nothing from outside
// until asked, inline styles, images from data: URLs (cid: parts are turned into those).
const FRAME_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:";
const FRAME_POLICY_REMOTE = "default-src 'none'; style-src 'unsafe-inline'; img-src data: http: https:; font-src data:";
const FRAME_SANDBOX = 'allow-popups allow-popups-to-escape-sandbox';
const RAW_DISPLAY_LIMIT = 2 * 1024 * 1024;
const INLINE_IMAGE_LIMIT = 10 * 1024 * 1024;

let current = null; // { message, tab, remote, pane, hooks, token }

/** Shows message <id> in <pane>. hooks: tabHref(tab), onTab(tab), onDeleted(message). */
export async function showMessage(pane, id, tab, hooks) {
  const token = {};
  current = { message: null, tab: null, remote: false, pane, hooks, token };
  pane.hidden = false;
  pane.replaceChildren(h('p', { class: 'hint' }, 'Loading…'));
  let message;
  try {
    message = await getJson(`api/messages/${encodeURIComponent(id)}`);
  } catch (error) {
    if (current?.token !== token) return;
    pane.replaceChildren(h('p', { class: error.status === 404 ? 'hint' : 'hint error-state' },
      error.status === 404 ? 'This message is gone: it was deleted.' : `Could not load the message: ${error.message}`));
    return;
  }
  if (current?.token !== token) return;
  current.message = message;
  pane.replaceChildren(header(message), h('div', { class: 'tabs', role: 'tablist' }), h('div', { class: 'tab-panel', role: 'tabpanel' }));
  selectTab(TABS.includes(tab) ? tab : defaultTab(message));
}

/** Whether <message> is still the one shown, on <tab>: an answer that comes later than a click away is dropped. */
const showing = (message, tab) => current?.message?.id === message.id && current.tab === tab;

export function clearMessage(pane, text) {
  current = null;
  pane.replaceChildren(h('p', { class: 'placeholder' }, text));
}

export const currentMessageId = () => current?.message?.id ?? null;

function defaultTab(message) {
  return message.html.body ? 'html' : 'text';
}

function counts(message) {
  return {
    links: allLinks(message).length,
    codes: allCodes(message).length,
    attachments: message.attachments.length,
  };
}

export function selectTab(tab) {
  if (!current?.message) return;
  const { message, pane } = current;
  current.tab = tab;
  const badge = counts(message);
  pane.querySelector('.tabs').replaceChildren(...TABS.map(name => h('button', {
    type: 'button',
    role: 'tab',
    dataset: { tab: name },
    'aria-selected': String(name === tab),
    disabled: (name === 'html' && !message.html.body) || (name === 'text' && !message.text.body) ? true : null,
    onclick: () => { selectTab(name); current?.hooks.onTab(name); },
  }, LABELS[name], name in badge ? h('span', { class: 'badge' }, badge[name]) : null)));
  const panel = pane.querySelector('.tab-panel');
  panel.className = `tab-panel ${tab}-panel`;
  panel.dataset.tab = tab;
  panel.replaceChildren();
  RENDER[tab](panel, message);
}

function header(message) {
  const people = [
    ['From', addressList(message.from)],
    ['To', addressList(message.to)],
    ['Cc', addressList(message.cc)],
    ['Bcc', addressList(message.bcc)],
    ['Received', formatFull(message.received)],
    ['Size', formatSize(message.size)],
  ].filter(([, value]) => value);
  return h('div', { class: 'message-head' },
    h('a', { class: 'back', href: `#/inbox/${encodeURIComponent(message.server)}` }, `← ${message.server}`),
    h('h1', { id: 'message-subject' }, message.subject || '(no subject)'),
    h('dl', { class: 'people' }, people.map(([label, value]) => [h('dt', {}, label), h('dd', {}, value)])),
    h('div', { class: 'actions' },
      downloadLink(`api/files/email/${encodeURIComponent(message.id)}`, `${message.id}.eml`, 'Download .eml', { class: 'button-link', id: 'download-eml' }),
      h('button', { type: 'button', class: 'small danger', id: 'delete-message', onclick: () => remove(message) }, 'Delete')));
}

async function remove(message) {
  try {
    await send('DELETE', `api/messages/${encodeURIComponent(message.id)}`);
  } catch (error) {
    if (error.status !== 404) {
      toast(`Delete failed: ${error.message}`);
      return;
    }
  }
  const hooks = current?.hooks;
  toast('Message deleted');
  hooks?.onDeleted(message);
}

const RENDER = {
  html: renderHtml,
  text: (panel, message) => panel.append(linkified(message.text.body || '')),
  headers: (panel, message) => panel.append(table(['Field', 'Value'], message.metadata.headers.map(x => [h('td', { class: 'field' }, x.field), h('td', {}, x.value)]))),
  raw: renderRaw,
  links: renderLinks,
  codes: renderCodes,
  attachments: renderAttachments,
  envelope: renderEnvelope,
  spam: renderSpam,
  deliverability: renderDeliverability,
  compatibility: renderCompatibility,
  preview: renderPreview,
};

async function renderHtml(panel, message) {
  const token = current.token;
  const source = new DOMParser().parseFromString(message.html.body || '', 'text/html');
  const remote = hasRemoteContent(source);
  const frame = h('iframe', {
    class: 'html-frame',
    id: 'html-frame',
    title: 'Message HTML',
    sandbox: FRAME_SANDBOX,
    referrerpolicy: 'no-referrer',
  });
  if (remote && !current.remote) {
    panel.append(h('div', { class: 'remote-bar' },
      h('span', {}, 'Remote content (images from other servers) is blocked.'),
      h('button', {
        type: 'button', class: 'small', id: 'load-remote',
        onclick: () => { current.remote = true; selectTab('html'); },
      }, 'Load remote content')));
  }
  panel.append(frame);
  const html = await frameDocument(source, message, current.remote);
  if (current?.token !== token || current.tab !== 'html') return;
  frame.srcdoc = html;
}

/** The mail's HTML, made safe to show: our policy first in its head, cid: images as data: URLs. */
async function frameDocument(doc, message, allowRemote) {
  for (const meta of doc.querySelectorAll('meta[http-equiv]')) {
    if (/^\s*refresh\s*$/i.test(meta.getAttribute('http-equiv'))) meta.remove();
  }
  // The sandbox already stops javascript: URLs; a link that could only run script is not a link.
  for (const name of ['href', 'action', 'formaction']) {
    for (const el of doc.querySelectorAll(`[${name}]`)) {
      if (/^\s*javascript:/i.test(el.getAttribute(name))) el.removeAttribute(name);
    }
  }
  await inlineCidImages(doc, message);
  const policy = doc.createElement('meta');
  policy.setAttribute('http-equiv', 'Content-Security-Policy');
  policy.setAttribute('content', allowRemote ? FRAME_POLICY_REMOTE : FRAME_POLICY);
  const referrer = doc.createElement('meta');
  referrer.setAttribute('name', 'referrer');
  referrer.setAttribute('content', 'no-referrer');
  const base = doc.createElement('base');
  base.setAttribute('target', '_blank');
  doc.head.prepend(policy, referrer, base);
  return `<!doctype html>\n${doc.documentElement.outerHTML}`;
}

const REMOTE = /^\s*(https?:)?\/\//i;
const REMOTE_IN_CSS = /url\(\s*['"]?\s*(https?:)?\/\//i;

function hasRemoteContent(doc) {
  for (const el of doc.querySelectorAll('[src], [background], [poster], [srcset]')) {
    for (const name of ['src', 'background', 'poster', 'srcset']) {
      if (REMOTE.test(el.getAttribute(name) || '')) return true;
    }
  }
  for (const el of doc.querySelectorAll('[style]')) if (REMOTE_IN_CSS.test(el.getAttribute('style'))) return true;
  for (const el of doc.querySelectorAll('style')) if (REMOTE_IN_CSS.test(el.textContent)) return true;
  return false;
}

async function inlineCidImages(doc, message) {
  const byContentId = new Map();
  for (const attachment of message.attachments) {
    if (attachment.contentId) byContentId.set(attachment.contentId.replace(/^<|>$/g, '').toLowerCase(), attachment);
  }
  if (byContentId.size === 0) return;
  const cache = new Map();
  for (const el of doc.querySelectorAll('[src], [background]')) {
    for (const name of ['src', 'background']) {
      const value = el.getAttribute(name) || '';
      if (!/^\s*cid:/i.test(value)) continue;
      const attachment = byContentId.get(decodeURIComponent(value.trim().slice(4)).replace(/^<|>$/g, '').toLowerCase());
      if (!attachment || attachment.length > INLINE_IMAGE_LIMIT) continue;
      if (!cache.has(attachment.id)) cache.set(attachment.id, dataUrl(attachment).catch(() => ''));
      const url = await cache.get(attachment.id);
      if (url) el.setAttribute(name, url);
    }
  }
}

async function dataUrl(attachment) {
  const blob = await getBlob(`api/files/attachments/${encodeURIComponent(attachment.id)}`);
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob.type ? blob : new Blob([blob], { type: attachment.contentType }));
  });
}

function linkified(text) {
  const pre = h('pre', { class: 'body' });
  const pattern = /\bhttps?:\/\/[^\s<>"']+/gi;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    const url = match[0].replace(/[).,;:!?]+$/, '');
    pre.append(text.slice(last, match.index));
    const href = safeHref(url);
    pre.append(href ? h('a', { href, target: '_blank', rel: 'noopener noreferrer' }, url) : url);
    last = match.index + url.length;
  }
  pre.append(text.slice(last));
  return pre;
}

function table(headings, rows, empty = 'None.') {
  if (rows.length === 0) return h('p', { class: 'empty-state' }, empty);
  return h('table', { class: 'grid' },
    h('thead', {}, h('tr', {}, headings.map(x => h('th', {}, x)))),
    h('tbody', {}, rows.map(cells => h('tr', {}, cells))));
}

async function renderRaw(panel, message) {
  const token = current.token;
  panel.append(h('p', { class: 'hint' }, 'Loading…'));
  let text;
  try {
    const blob = await getBlob(`api/files/email/${encodeURIComponent(message.id)}`);
    const bytes = await blob.slice(0, RAW_DISPLAY_LIMIT).arrayBuffer();
    text = new TextDecoder('utf-8').decode(bytes);
    if (blob.size > RAW_DISPLAY_LIMIT) text += `\n\n[… ${formatSize(blob.size - RAW_DISPLAY_LIMIT)} more: download the .eml for all of it]`;
  } catch (error) {
    text = null;
    if (current?.token === token && current.tab === 'raw') panel.replaceChildren(h('p', { class: 'error-state' }, `Could not load the raw message: ${error.message}`));
    return;
  }
  if (current?.token !== token || current.tab !== 'raw') return;
  panel.replaceChildren(h('pre', { class: 'raw', id: 'raw-source' }, text));
}

function allLinks(message) {
  return [
    ...message.html.links.map(link => ({ ...link, part: 'HTML' })),
    ...message.text.links.map(link => ({ ...link, part: 'Text' })),
  ];
}

function renderLinks(panel, message, checked = null) {
  const links = allLinks(message);
  const check = h('button', { type: 'button', class: 'small', id: 'check-links', disabled: links.length === 0 ? true : null }, 'Check links');
  check.onclick = async () => {
    check.disabled = true;
    check.textContent = 'Checking…';
    try {
      const result = await send('POST', `api/analysis/links/${encodeURIComponent(message.id)}`);
      if (!showing(message, 'links')) return;
      panel.replaceChildren();
      renderLinks(panel, message, new Map(result.links.map(link => [link.url, link])));
    } catch (error) {
      toast(`Could not check the links: ${error.message}`);
      check.disabled = false;
      check.textContent = 'Check links';
    }
  };
  panel.append(h('div', { class: 'panel-actions' }, check));
  const headings = checked ? ['Text', 'Link', 'Part', 'Check'] : ['Text', 'Link', 'Part'];
  panel.append(table(headings, links.map(link => {
    const href = safeHref(link.href);
    const cells = [
      h('td', {}, link.text || h('span', { class: 'empty-state' }, '(no text)')),
      h('td', {}, href ? h('a', { href, target: '_blank', rel: 'noopener noreferrer' }, link.href) : h('code', {}, link.href)),
      h('td', {}, link.part),
    ];
    if (checked) {
      const outcome = checked.get(link.href);
      cells.push(h('td', { class: `check ${outcome?.result ?? 'skipped'}`, title: outcome?.error ?? '' },
        outcome ? `${outcome.result}${outcome.status ? ` (${outcome.status})` : ''}` : 'not checked'));
    }
    return cells;
  }), 'No links.'));
}

// One analysis of the message for a tab, fetched with a hint while it runs (when there is one). Null when
// the call failed (the panel then says so, in failure's words) or the view has moved to another message or tab.
async function analysis(panel, message, tab, waiting, path, failure) {
  if (waiting) panel.append(h('p', { class: 'hint' }, waiting));
  try {
    const result = await getJson(`api/analysis/${path}/${encodeURIComponent(message.id)}`);
    return showing(message, tab) ? result : null;
  } catch (error) {
    if (showing(message, tab)) panel.replaceChildren(failure(error));
    return null;
  }
}

// Spam: the message scored by SpamAssassin's spamd through the API; without spamd, the API's own words on how to set it up.
async function renderSpam(panel, message) {
  const result = await analysis(panel, message, 'spam', 'Asking SpamAssassin…', 'spam',
    error => h('p', { class: 'hint', id: 'spam-unavailable' }, error.message));
  if (!result) return;
  const rules = result.spamFilterResults.spamAssassin;
  panel.replaceChildren(
    h('p', { id: 'spam-score' }, h('strong', {}, `Score ${result.score}`), ' (SpamAssassin calls 5 or more spam by default)'),
    table(['Points', 'Rule', 'Description'], rules.map(rule => [
      h('td', { class: 'points' }, String(rule.score)), h('td', {}, h('code', {}, rule.rule)), h('td', {}, rule.description),
    ]), 'No rule hit.'));
}

// Deliverability: SPF, DKIM and DMARC from DNS, block lists and content checks, as the API reports them.
async function renderDeliverability(panel, message) {
  const report = await analysis(panel, message, 'deliverability', 'Checking SPF, DKIM and DMARC…', 'deliverability',
    error => h('p', { class: 'hint error-state' }, `Could not check deliverability: ${error.message}`));
  if (!report) return;
  const checks = [['SPF', report.spf], ...report.dkim.map(d => ['DKIM', d]), ['DMARC', report.dmarc]];
  const content = report.content;
  const findings = [
    ['Scripts', content.script], ['Embedded objects (embed, object, iframe)', content.embed || content.object || content.iframe],
    ['Link shorteners', content.shortUrls], ['Images without alt text', content.missingAlt], ['No List-Unsubscribe header', content.missingListUnsubscribe],
  ];
  panel.replaceChildren(
    h('table', { class: 'grid', id: 'authentication' }, h('tbody', {}, checks.map(([name, check]) =>
      h('tr', { dataset: { check: name } }, h('th', {}, name), h('td', { class: `result ${check.result.toLowerCase()}` }, check.result), h('td', {}, check.description))))),
    h('h4', {}, 'Content'),
    h('ul', { class: 'findings' }, findings.map(([label, found]) => h('li', { class: found ? 'found' : 'clear' }, `${found ? '⚠' : '✓'} ${label}`))),
    report.blockLists.length > 0
      ? table(['Block list', 'Result'], report.blockLists.map(b => [h('td', {}, b.name), h('td', {}, b.result)]))
      : h('p', { class: 'hint' }, 'No block lists are configured (MailSink:Analysis:BlockLists).'));
}

// Compatibility: the HTML and CSS features the message uses, and the mail clients that lack them (caniemail's data).
async function renderCompatibility(panel, message) {
  const report = await analysis(panel, message, 'compatibility', null, 'html',
    error => h('p', { class: 'hint error-state' }, `Could not check the HTML: ${error.message}`));
  if (!report) return;
  const issues = report.features.filter(f => f.notSupported.length + f.partial.length > 0);
  panel.append(
    h('p', { class: 'hint' }, `${report.features.length} features used, ${issues.length} not supported everywhere (caniemail data ${report.dataVersion}, ${report.dataDate.slice(0, 10)}).`),
    table(['Feature', 'Not supported in', 'Partly in'], issues.map(f => [
      h('td', { dataset: { slug: f.slug } }, h('a', { href: safeHref(f.url), target: '_blank', rel: 'noopener noreferrer' }, f.title)),
      h('td', {}, f.notSupported.join(', ') || '—'),
      h('td', {}, f.partial.join(', ') || '—'),
    ]), message.html.body ? 'Every feature used is supported everywhere.' : 'The message has no HTML.'));
}

// Preview: the HTML rendered by the server's Chromium with one of its profiles, as a picture.
async function renderPreview(panel, message) {
  let clients;
  try {
    clients = (await getJson('api/screenshots/clients')).items;
  } catch (error) {
    panel.append(h('p', { class: 'hint' }, `Could not list the previews: ${error.message}`));
    return;
  }
  if (!showing(message, 'preview')) return;
  const select = h('select', { id: 'preview-client' }, clients.map(c => h('option', { value: c.name }, c.label)));
  const button = h('button', { type: 'button', class: 'small', id: 'render-preview' }, 'Render');
  const result = h('div', { class: 'preview' });
  button.onclick = async () => {
    button.disabled = true;
    result.replaceChildren(h('p', { class: 'hint' }, 'Rendering…'));
    try {
      const started = await send('POST', `api/messages/${encodeURIComponent(message.id)}/screenshots`, { emailClients: [select.value] });
      const image = await previewImage(started.items[0].id);
      if (!showing(message, 'preview')) return;
      result.replaceChildren(h('img', { id: 'preview-image', alt: `Preview: ${select.selectedOptions[0].textContent}`, src: URL.createObjectURL(image) }));
    } catch (error) {
      result.replaceChildren(h('p', { class: 'hint error-state' }, error.message));
    } finally {
      button.disabled = false;
    }
  };
  panel.append(h('div', { class: 'panel-actions' }, select, button), result);
}

/** The preview's PNG once it is rendered: the API answers 202 until then, with the pause to take. */
async function previewImage(id) {
  for (let attempt = 0; attempt < 240; attempt++) {
    const response = await request(`api/files/screenshots/${encodeURIComponent(id)}`);
    if (response.status !== 202) {
      if (!response.ok) return getBlob(`api/files/screenshots/${encodeURIComponent(id)}`); // throws with the API's words
      return response.blob();
    }
    const delays = (response.headers.get('x-ms-delay') || '1000').split(',').map(Number);
    await new Promise(resolve => setTimeout(resolve, delays[Math.min(attempt, delays.length - 1)]));
  }
  throw new Error('The preview took too long.');
}

function allCodes(message) {
  return [...new Set([...message.html.codes, ...message.text.codes].map(code => code.value))];
}

function renderCodes(panel, message) {
  const codes = allCodes(message);
  if (codes.length === 0) {
    panel.append(h('p', { class: 'empty-state' }, 'No one-time codes found.'));
    return;
  }
  panel.append(h('ul', { class: 'codes' }, codes.map(code => h('li', {},
    h('code', {}, code),
    h('button', { type: 'button', class: 'small', onclick: () => copyText(code) }, 'Copy')))));
}

function renderAttachments(panel, message) {
  panel.append(table(['File', 'Type', 'Size', ''], message.attachments.map(attachment => {
    const name = attachment.fileName || attachment.id;
    return [
      h('td', {}, name, attachment.contentId ? h('span', { class: 'clip' }, 'inline') : null),
      h('td', {}, attachment.contentType),
      h('td', {}, formatSize(attachment.length)),
      h('td', {}, downloadLink(`api/files/attachments/${encodeURIComponent(attachment.id)}`, name, 'Download', { class: 'button-link', 'data-attachment': attachment.id })),
    ];
  }), 'No attachments.'));
}

function renderEnvelope(panel, message) {
  const meta = message.metadata;
  const rows = [
    ['EHLO', meta.ehlo || '(none)'],
    ['MAIL FROM', meta.mailFrom ? meta.mailFrom : '<> (null sender)'],
    ['RCPT TO', meta.rcptTo.map(formatAddress).join(', ')],
    ['Remote address', meta.remoteAddress || '(unknown)'],
    ['TLS', formatTls(meta.tls)],
    ['AUTH user', meta.authenticatedUser || 'none'],
    ['Size', `${formatSize(message.size)} (${message.size} bytes)`],
  ];
  if (meta.parseError) rows.push(['Parse error', meta.parseError]);
  panel.append(h('table', { class: 'grid', id: 'envelope' }, h('tbody', {}, rows.map(([label, value]) =>
    h('tr', { dataset: { field: label } }, h('th', {}, label), h('td', {}, value))))));
}

// The protocol as people write it ("TLS 1.3"), from the name .NET gives it ("Tls13").
function formatTls(protocol) {
  if (!protocol) return 'none';
  const version = /^Tls(\d)(\d)$/.exec(protocol);
  if (version) return `TLS ${version[1]}.${version[2]}`;
  return protocol === 'Tls' ? 'TLS 1.0' : protocol;
}
